"""Compensation rows: lossless conversion to and from the engine's plans, assignments that never
overlap, month shares prorated by days, and deal splits that add up to 100%."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compensation import models as comp_models
from compensation.engine import plans as engine_plans
from compensation.engine.plans import (
    Cap,
    Clawback,
    Component,
    CreditFilter,
    CurvePoint,
    Draw,
    Gate,
    Mbo,
    Milestone,
    MilestoneBonus,
    PayoutCurve,
    PlanVersion,
    RateTable,
    Spiff,
    Tier,
    validate_plan,
)
from compensation.models import AssignmentPeriod, CreditRule, PlanAssignment
from compensation.plan_rows import ComponentRows, component_to_engine, locate
from compensation.selectors import assignments_frame
from compensation.services import (
    assignment_change,
    assignment_create,
    component_create,
    credits_build,
    deal_splits_set,
    plan_create,
    plan_version_create,
    plan_version_new_from,
    plan_version_publish,
)
from spm.org.models import Period
from spm.org.services import periods_generate
from spm.tenancy.context import tenant_context
from tests.factories import CompPlanFactory, PersonFactory

from .samples import AE_COMMISSION, won_deal

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]
D = Decimal

# -- conversion ---------------------------------------------------------------------------------

fractions = st.sampled_from([D("0"), D("0.05"), D("0.0825"), D("0.125"), D("1"), D("1.5"),
                             D("0.3333333333")])
money = st.sampled_from([D("0.01"), D("250.00"), D("1234.56"), D("20000.00")])


@st.composite
def rate_tables(draw) -> RateTable:
    basis = draw(st.sampled_from(["attainment", "amount"]))
    edges = sorted(draw(st.sets(st.sampled_from(
        [D("0.5"), D("1"), D("1.25"), D("2")] if basis == "attainment"
        else [D("1000.00"), D("50000.00"), D("125000.50")]), max_size=3)))
    lowers = [D(0), *edges]
    multiplied = draw(st.booleans())
    tiers = tuple(
        Tier(lower, edges[i] if i < len(edges) else None,
             rate=None if multiplied else draw(fractions),
             multiplier=draw(fractions) if multiplied else None)
        for i, lower in enumerate(lowers))
    return RateTable(tiers=tiers, basis=basis,
                     method=draw(st.sampled_from(engine_plans.METHODS)),
                     evaluation="cumulative",
                     base_rate=draw(fractions) if multiplied else draw(st.none() | fractions))


formulas = st.one_of(
    rate_tables(),
    st.builds(lambda pts: PayoutCurve(tuple(CurvePoint(D(i) / 2, p) for i, p in enumerate(pts))),
              st.lists(fractions, min_size=1, max_size=4)),
    st.builds(lambda xs: MilestoneBonus(tuple(
        Milestone(D(i + 1) / 2, amount=a if i % 2 else None, of_target=None if i % 2 else f)
        for i, (a, f) in enumerate(xs))), st.lists(st.tuples(money, fractions), min_size=1,
                                                  max_size=3)),
    st.builds(Mbo, weight=fractions, max_score=st.sampled_from([D(1), D("1.2")])),
    st.sampled_from([Spiff(per_deal=D("500.00")), Spiff(per_unit=D("12.5")),
                     Spiff(percent=D("0.02"))]),
    st.builds(Draw, recoverable=st.booleans(), amount=money),
)


@st.composite
def components(draw) -> Component:
    formula = draw(formulas)
    kind = engine_plans.KIND_OF[type(formula)]
    credit_based = kind not in ("mbo", "draw")
    filt = draw(st.none() | st.builds(
        CreditFilter, product_lines=st.sampled_from([(), ("cloud",), ("cloud", "services")]),
        deal_types=st.sampled_from([(), ("new",)]), new_logo=st.none() | st.booleans(),
        deal_amount_at_least=st.none() | money,
        closed_on_or_after=st.none() | st.just(datetime.date(2026, 2, 1)))) \
        if credit_based else None
    if filt == CreditFilter():
        filt = None  # an empty filter is stored as none: both match every credit
    gate = draw(st.none() | st.builds(Gate, min_attainment=fractions, min_deal_amount=money)) \
        if kind not in ("mbo", "draw") else None
    caps = tuple(draw(st.lists(st.builds(Cap, per=st.just("year"), amount=money),
                               max_size=2))) if kind != "draw" else ()
    claw = draw(st.none() | st.builds(Clawback, within_days=st.sampled_from([30, 90]),
                                      method=st.sampled_from(["full", "prorated"]))) \
        if kind in ("rate_table", "spiff") else None
    return Component(code=draw(st.sampled_from(["c-1", "bonus.q", "X_2"])),
                     name=draw(st.sampled_from(["", "Commission"])), formula=formula,
                     measure="amount", period=draw(st.sampled_from(engine_plans.CADENCES)),
                     filter=filt, gate=gate, caps=caps, clawback=claw)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(component=components())
def test_a_component_saved_as_rows_reads_back_equal(tenant_a, component):
    assert validate_plan(PlanVersion("P", 1, components=(component,))) == []
    with tenant_context(tenant_a), transaction.atomic():
        saved = component_create(component=component)
        loaded = comp_models.Component.objects.prefetch_related(
            "tiers", "curve_points", "milestones", "caps").get(pk=saved.pk)
        assert component_to_engine(ComponentRows.of(loaded)) == component
        transaction.set_rollback(True)  # each example starts from an empty library


def test_the_schema_speaks_the_engines_vocabulary():
    for name in ("KINDS", "MEASURES", "CADENCES", "METHODS", "EVALUATIONS", "TIER_BASES",
                 "CAP_SPANS", "CLAWBACK_METHODS"):
        assert getattr(comp_models, name) == getattr(engine_plans, name), name


def test_an_error_path_points_at_the_row_and_field_it_names():
    where = locate("components[2].tiers[1].rate: must be ≥ 0")
    assert (where.component, where.part, where.index, where.field, where.message) == (
        2, "tiers", 1, "rate", "must be ≥ 0")
    assert locate("components[0].filter.deal_amount_below: must be above x").field == \
        "filter_deal_amount_below"
    assert locate("components[0].weight: must be ≥ 0").field == "mbo_weight"
    assert locate("components[1].caps").index is None


# -- assignments --------------------------------------------------------------------------------


@pytest.fixture
def ae_plan(tenant_a):
    """AE-2026 v1 in force from January 2026, with fiscal periods for 2026."""
    with tenant_context(tenant_a):
        periods_generate(fiscal_years=[2026])
        plan = plan_create(code="AE-2026", name="AE")
        plan_version_publish(version=plan_version_create(
            plan=plan, components=[component_create(component=AE_COMMISSION)],
            valid_from=datetime.date(2026, 1, 1)))
        return plan


def test_a_person_holds_one_plan_at_a_time(tenant_a, ae_plan):
    with tenant_context(tenant_a):
        person = PersonFactory(name="Ada Ames")
        other_plan = CompPlanFactory(code="SE-2026")
        assignment_create(person=person, plan=ae_plan, valid_from=datetime.date(2026, 1, 1),
                          valid_to=datetime.date(2026, 7, 1))
        with pytest.raises(ValidationError) as caught:
            assignment_create(person=person, plan=other_plan,
                              valid_from=datetime.date(2026, 6, 1))
        assert caught.value.message_dict["valid_from"] == [
            "Ada Ames is already on AE-2026 from 2026-01-01 until 2026-07-01; a person holds "
            "one plan at a time. End that assignment first."]
        assignment_create(person=person, plan=other_plan, valid_from=datetime.date(2026, 7, 1))
        assert PlanAssignment.objects.filter(person=person).count() == 2


@pytest.mark.postgres
def test_the_database_refuses_overlapping_assignments_written_past_the_checks(tenant_a,
                                                                             ae_plan):
    if connection.vendor != "postgresql":
        pytest.skip("exclusion constraints are PostgreSQL's")
    with tenant_context(tenant_a):
        person = PersonFactory()
        PlanAssignment.objects.create(person=person, plan=ae_plan,
                                      valid_from=datetime.date(2026, 1, 1))
        with pytest.raises(IntegrityError), transaction.atomic():
            PlanAssignment.objects.create(person=person, plan=ae_plan,
                                          valid_from=datetime.date(2026, 3, 1))


def test_a_mid_month_start_is_prorated_by_days_and_a_full_year_adds_up_to_the_target(
    tenant_a, ae_plan
):
    with tenant_context(tenant_a):
        person = PersonFactory()
        assignment = assignment_create(person=person, plan=ae_plan,
                                       valid_from=datetime.date(2026, 1, 1),
                                       target_incentive=D("100000.00"))
        shares = list(AssignmentPeriod.objects.filter(assignment=assignment)
                      .order_by("valid_from"))
        assert len(shares) == 12
        assert sum(s.target_incentive for s in shares) == D("100000.00")
        assert {s.target_incentive for s in shares} == {D("8333.34"), D("8333.33")}
        assert all(s.days == s.period_days for s in shares)

        assignment_change(assignment=assignment, valid_from=datetime.date(2026, 3, 17))
        march = AssignmentPeriod.objects.get(assignment=assignment,
                                             valid_from=datetime.date(2026, 3, 17))
        assert (march.days, march.period_days, march.proration) == (15, 31, "15/31")
        assert AssignmentPeriod.objects.filter(assignment=assignment).count() == 10


def test_a_version_change_mid_month_splits_the_month_between_the_versions(tenant_a,
                                                                         ae_plan):
    with tenant_context(tenant_a):
        person = PersonFactory()
        assignment_create(person=person, plan=ae_plan, valid_from=datetime.date(2026, 1, 1),
                          target_incentive=D("12000.00"))
        first = ae_plan.versions.get(number=1)
        plan_version_publish(version=plan_version_new_from(
            version=first, valid_from=datetime.date(2026, 4, 11)))
        april = Period.objects.get(kind="month", start_date=datetime.date(2026, 4, 1))
        frame = assignments_frame(period=april)
        assert list(frame["plan"]) == ["AE-2026 v1", "AE-2026 v2"]
        assert list(frame["proration"]) == ["10/30", "20/30"]
        assert list(frame["target_incentive_cents"]) == [100000, 100000]
        assert list(frame["valid_from"].dt.day) == [1, 11]


# -- splits and rules ---------------------------------------------------------------------------


def test_deal_splits_must_add_up_to_exactly_100_percent(tenant_a):
    with tenant_context(tenant_a):
        deal = won_deal()
        ann, bob = PersonFactory(), PersonFactory()
        with pytest.raises(ValidationError, match="add up to 90%, not 100%"):
            deal_splits_set(deal=deal, splits=[(ann, D("60")), (bob, D("30"))])
        split_set = deal_splits_set(deal=deal, splits=[(ann, D("60")), (bob, D("40"))])
        assert sorted(s.percent for s in split_set.splits.all()) == [D("40"), D("60")]
        assert {s.deal_id for s in split_set.splits.all()} == {deal.pk}
        assert deal_splits_set(deal=deal, splits=[]) is None


def test_a_credit_rule_names_what_it_is_missing(tenant_a):
    with tenant_context(tenant_a):
        rule = CreditRule(name="Overlay", target="person", valid_from=datetime.date(2026, 1, 1))
        with pytest.raises(ValidationError) as caught:
            rule.full_clean()
        assert caught.value.message_dict["person"] == ["Name the person this rule credits."]
        rule = CreditRule(name="Every owner", target="territory_owner",
                          valid_from=datetime.date(2026, 1, 1))
        with pytest.raises(ValidationError) as caught:
            rule.full_clean()
        assert "would credit every territory's owner" in caught.value.message_dict["territory"][0]


def test_crediting_a_month_of_a_new_fiscal_year_builds_the_shares_it_lacks(tenant_a, ae_plan):
    with tenant_context(tenant_a):
        assignment = assignment_create(person=PersonFactory(), plan=ae_plan,
                                       valid_from=datetime.date(2026, 1, 1),
                                       target_incentive=D("12000.00"))
        periods_generate(fiscal_years=[2027])
        january = Period.objects.get(kind="month", start_date=datetime.date(2027, 1, 1))
        assert not AssignmentPeriod.objects.filter(period=january).exists()
        credits_build(period=january)
        share = AssignmentPeriod.objects.get(assignment=assignment, period=january)
        assert (share.days, share.target_incentive) == (31, D("1000.00"))
