"""MBO scores: what a score may be, locked windows, one score per component code, the audit
trail, the engine's window names, and the selector that hands the scores to the engine."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from compensation.engine import Calendar, compute
from compensation.mbo import mbo_score_set, mbo_windows
from compensation.models import MboScore, window_label
from compensation.plan_documents import load_plan
from compensation.selectors import (
    assignments_frame,
    engine_calendar,
    engine_plans,
    mbo_scores_frame,
    versions_of_period,
)
from compensation.services.assignments import assignment_create
from compensation.services.plans import (
    component_revise,
    plan_version_import,
    plan_version_publish,
)
from spm.org import calendar as fiscal
from spm.org.models import Period, PeriodStatus
from spm.org.services import period_set_status, periods_generate
from spm.tenancy.context import tenant_context
from tests.factories import PersonFactory, TenantFactory

from .builders import credits, quotas
from .mbo_world import build_mbo_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tenant_a, make_member):
    world = build_mbo_world(tenant_a, make_member)
    with tenant_context(tenant_a):
        yield world


def _score(world, *, component=None, period=None, score="85.00", payee=None) -> MboScore:
    # With its tenant, as the admin's form builds it, so unique constraints are checked too.
    return MboScore(tenant=world.ann.tenant, payee=payee or world.ann,
                    component=component or world.objectives, period=period or world["Q1"],
                    score_pct=Decimal(score))


def _errors(score: MboScore) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        score.full_clean()
    return caught.value.message_dict


# -- what a score may be -----------------------------------------------------------------------


@pytest.mark.smoke
def test_a_score_for_a_component_that_is_not_an_mbo_is_refused_on_the_component(world):
    errors = _errors(_score(world, component=world.commission))
    assert "MBO components only" in " ".join(errors["component"])


@pytest.mark.parametrize("window", ["2026-03", "FY2026"])
def test_a_quarterly_component_refuses_a_month_or_a_year_as_its_window(world, window):
    errors = _errors(_score(world, period=world[window]))
    assert "scored per quarter" in " ".join(errors["period"])


def test_a_monthly_component_takes_a_month_and_a_yearly_one_the_year(world):
    monthly = component_revise(component=world.objectives)
    monthly.code, monthly.period = "monthly-objectives", "month"
    monthly.save()
    yearly = component_revise(component=world.objectives)
    yearly.code, yearly.period = "yearly-objectives", "year"
    yearly.save()
    _score(world, component=monthly, period=world["2026-03"]).full_clean()
    _score(world, component=yearly, period=world["FY2026"]).full_clean()
    assert "period" in _errors(_score(world, component=monthly, period=world["Q1"]))
    assert "period" in _errors(_score(world, component=yearly, period=world["2026-12"]))


@pytest.mark.parametrize(("score", "says"), [
    ("-0.01", "cannot be negative"),
    ("85.125", "2 decimal places"),
    ("1000.01", "typo"),
    ("12345", "typo"),
])
def test_a_negative_score_one_with_three_decimals_and_a_typo_are_refused(world, score, says):
    errors = _errors(_score(world, score=score))
    assert says in " ".join(errors["score_pct"])


@pytest.mark.parametrize("score", ["0", "85.5", "120", "1000"])
def test_scores_from_zero_to_a_thousand_percent_with_two_decimals_are_taken(world, score):
    _score(world, score=score).full_clean()


def test_the_database_refuses_a_score_out_of_range_written_without_validation(world):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        _score(world, score="-5").save()


# -- locked windows ----------------------------------------------------------------------------


def test_a_score_in_a_locked_quarter_cannot_be_entered_changed_or_removed(world):
    entered = mbo_score_set(payee=world.ann, component=world.objectives, window=world["Q1"],
                            score_pct=Decimal("85"))
    period_set_status(period=world["Q1"], status=PeriodStatus.LOCKED)
    with pytest.raises(ValidationError, match="locked"):
        mbo_score_set(payee=world.ann, component=world.objectives, window=world["Q1"],
                      score_pct=Decimal("90"))
    with pytest.raises(ValidationError, match="locked"):
        mbo_score_set(payee=world.ann, component=world.objectives, window=world["Q1"],
                      score_pct=None)
    with pytest.raises(ValidationError, match="locked"):
        entered.delete()
    assert "period" in _errors(_score(world, payee=world.zed))
    assert MboScore.objects.get().score_pct == Decimal("85.00")


def test_a_quarter_is_final_once_the_month_it_pays_in_is_locked_not_an_earlier_month(world):
    period_set_status(period=world["2026-01"], status=PeriodStatus.LOCKED)
    mbo_score_set(payee=world.ann, component=world.objectives, window=world["Q1"],
                  score_pct=Decimal("85"))
    period_set_status(period=world["2026-03"], status=PeriodStatus.LOCKED)
    with pytest.raises(ValidationError, match="locked"):
        mbo_score_set(payee=world.ann, component=world.objectives, window=world["Q1"],
                      score_pct=Decimal("90"))


def test_a_score_cannot_be_moved_out_of_a_locked_window(world):
    score = mbo_score_set(payee=world.ann, component=world.objectives, window=world["Q1"],
                          score_pct=Decimal("85"))
    period_set_status(period=world["Q1"], status=PeriodStatus.LOCKED)
    score.period = world["Q2"]
    with pytest.raises(ValidationError, match="locked"):
        score.save()


# -- one score per code and window, and the audit trail ------------------------------------------


def test_a_new_revision_of_the_component_changes_the_score_entered_against_the_old_one(world):
    mbo_score_set(payee=world.ann, component=world.objectives, window=world["Q1"],
                  score_pct=Decimal("85"))
    revised = component_revise(component=world.objectives)
    errors = _errors(_score(world, component=revised))
    assert "already has a objectives score" in " ".join(errors["__all__"])
    mbo_score_set(payee=world.ann, component=revised, window=world["Q1"],
                  score_pct=Decimal("95"))
    score = MboScore.objects.get()
    assert (score.component, score.score_pct) == (revised, Decimal("95.00"))


def test_the_same_component_and_window_twice_is_refused_as_a_whole(world):
    mbo_score_set(payee=world.ann, component=world.objectives, window=world["Q1"],
                  score_pct=Decimal("85"))
    assert "already has a score" in " ".join(_errors(_score(world))["__all__"])


def test_every_change_is_kept_with_who_made_it_and_an_unchanged_save_writes_nothing(
        world, admin_a):
    for value in ("85", "85.00", "90"):
        mbo_score_set(payee=world.ann, component=world.objectives, window=world["Q1"],
                      score_pct=Decimal(value), comment="Closed the Q1 objectives",
                      actor=admin_a)
    mbo_score_set(payee=world.ann, component=world.objectives, window=world["Q1"],
                  score_pct=None, actor=admin_a)
    history = list(MboScore.history.order_by("history_date", "history_id"))
    assert [h.history_type for h in history] == ["+", "~", "-"]
    assert [h.score_pct for h in history] == [Decimal("85.00"), Decimal("90.00"),
                                              Decimal("90.00")]
    assert {h.history_user_id for h in history} == {admin_a.pk}
    assert not MboScore.objects.exists()


def test_the_score_records_who_entered_it(world, admin_a):
    score = mbo_score_set(payee=world.ann, component=world.objectives, window=world["Q1"],
                          score_pct=Decimal("85"), actor=admin_a)
    assert score.entered_by == admin_a
    assert score.entered_at is not None


# -- the engine's window names -------------------------------------------------------------------


@given(start_month=st.integers(1, 12), fiscal_year=st.integers(2000, 2100))
def test_each_fiscal_period_is_named_as_the_engine_names_the_window_of_its_months(
        start_month, fiscal_year):
    calendar = Calendar.fiscal(fiscal_year, fiscal_year, start_month)
    for span in fiscal.periods_of_fiscal_year(fiscal_year, start_month):
        period = Period(kind=span.kind, fiscal_year=span.fiscal_year, number=span.number,
                        start_date=span.start, end_date=span.end)
        windows = calendar.windows(span.kind)
        months = calendar.index_of([f"{d:%Y-%m}" for d in _month_starts(span)])
        assert {windows.labels[windows.of_period[m]] for m in months} == {window_label(period)}


def _month_starts(span: fiscal.FiscalPeriod) -> list[datetime.date]:
    day, out = span.start, []
    while day < span.end:
        out.append(day)
        day = fiscal.add_months(day, 1)
    return out


# -- the selector the calculation run reads ------------------------------------------------------


def test_the_frame_holds_every_window_of_the_fiscal_year_in_one_query(
        world, django_assert_num_queries):
    monthly = component_revise(component=world.objectives)
    monthly.code, monthly.period = "monthly-objectives", "month"
    monthly.save()
    periods_generate(fiscal_years=[2027])
    next_q1 = Period.objects.get(kind="quarter", fiscal_year=2027, number=1)
    for payee, component, window, value in (
            (world.ann, world.objectives, world["Q1"], "85"),
            (world.zed, world.objectives, world["Q4"], "112.50"),
            (world.ann, monthly, world["2026-03"], "0"),
            (world.ann, world.objectives, next_q1, "70")):
        mbo_score_set(payee=payee, component=component, window=window,
                      score_pct=Decimal(value))
    with django_assert_num_queries(1):
        frame = mbo_scores_frame(period=world["2026-07"])
    assert frame["payee_id"].dtype == "int64"
    rows = sorted(frame.itertuples(index=False, name=None))
    assert rows == sorted([(world.ann.pk, "objectives", "FY2026-Q1", Decimal("85.00")),
                           (world.zed.pk, "objectives", "FY2026-Q4", Decimal("112.50")),
                           (world.ann.pk, "monthly-objectives", "2026-03", Decimal("0.00"))])


def test_an_empty_frame_still_has_the_engines_columns(world):
    frame = mbo_scores_frame(period=world["FY2026"])
    assert list(frame.columns) == ["payee_id", "component", "window", "score_pct"]
    assert frame.empty


BONUS_PLAN = """
plan: BONUS
version: 1
components:
  - code: objectives
    kind: mbo
    period: quarter
    weight: 20%
    max_score: 120%
"""


def test_the_engine_pays_a_score_from_the_frame_in_a_fiscal_year_starting_in_february(db):
    tenant = TenantFactory(slug="febco", fiscal_year_start_month=2)
    with tenant_context(tenant):
        # FY2027 runs from February 2026 to January 2027; its Q1 is February to April 2026.
        periods = periods_generate(fiscal_years=[2027])
        year = next(p for p in periods if p.kind == "year")
        q1, q2 = (next(p for p in periods if p.kind == "quarter" and p.number == n)
                  for n in (1, 2))
        version = plan_version_publish(version=plan_version_import(
            document=load_plan(BONUS_PLAN), valid_from=datetime.date(2026, 2, 1)))
        ann, bob = PersonFactory(), PersonFactory()
        for person in (ann, bob):
            assignment_create(person=person, plan=version.plan,
                              valid_from=datetime.date(2026, 2, 1),
                              target_incentive=Decimal("60000.00"))
        objectives = version.component_links.get().component
        mbo_score_set(payee=ann, component=objectives, window=q1, score_pct=Decimal("85"))
        mbo_score_set(payee=bob, component=objectives, window=q1, score_pct=Decimal("150"))
        mbo_score_set(payee=ann, component=objectives, window=q2, score_pct=Decimal("100"))
        result = compute(plans=engine_plans(versions=versions_of_period(period=year)),
                         credits=credits(), quotas=quotas({}),
                         assignments=assignments_frame(period=year),
                         mbo_scores=mbo_scores_frame(period=q1),
                         calendar=engine_calendar(periods=[year]))
    lines = {(r.payee_id, r.window): r.amount_cents for r in result.lines.itertuples()}
    # A quarter's target is 60,000.00 / 4 = 15,000.00; × 20% weight × the score (at most 120%).
    assert lines == {(ann.pk, "FY2027-Q1"): 255_000, (bob.pk, "FY2027-Q1"): 360_000,
                     (ann.pk, "FY2027-Q2"): 300_000}
    unscored = result.issues[result.issues["code"] == "no_mbo_score"]
    assert len(unscored) == 2 * 4 - 3


# -- which windows a page offers -----------------------------------------------------------------


def test_a_quarterly_mbo_is_offered_for_its_quarter_from_any_month_of_it(world):
    rows = mbo_windows(period=world["2026-02"], person_ids=[world.ann.pk])
    assert [(r.person, r.component, r.window) for r in rows] == [
        (world.ann, world.objectives, world["Q1"])]
    year = mbo_windows(period=world["FY2026"], person_ids=[world.ann.pk])
    assert [r.window for r in year] == [world[q] for q in ("Q1", "Q2", "Q3", "Q4")]
    assert [r.label for r in year] == ["FY2026-Q1", "FY2026-Q2", "FY2026-Q3", "FY2026-Q4"]


def test_only_the_months_someone_holds_the_plan_give_windows(world):
    late = PersonFactory()
    assignment_create(person=late, plan=world.version.plan,
                      valid_from=datetime.date(2026, 8, 15), target_incentive=Decimal("1"))
    rows = mbo_windows(period=world["FY2026"], person_ids=[late.pk])
    assert [r.window for r in rows] == [world["Q3"], world["Q4"]]
    assert mbo_windows(period=world["Q1"], person_ids=[late.pk]) == []


def test_the_windows_of_many_people_are_read_in_a_constant_number_of_queries(
        world, django_assert_max_num_queries):
    for _ in range(5):
        assignment_create(person=PersonFactory(), plan=world.version.plan,
                          valid_from=datetime.date(2026, 1, 1), target_incentive=Decimal("1"))
    mbo_score_set(payee=world.ann, component=world.objectives, window=world["Q2"],
                  score_pct=Decimal("85"))
    period_set_status(period=world["2026-03"], status=PeriodStatus.LOCKED)
    with django_assert_max_num_queries(6):
        rows = mbo_windows(period=world["FY2026"], person_ids=None)
    assert len(rows) == 8 * 4
    assert [r.locked for r in rows if r.person == world.ann] == [True, False, False, False]
    assert [r.score.score_pct if r.score else None for r in rows if r.person == world.ann] == [
        None, Decimal("85.00"), None, None]


def test_the_frame_and_the_engine_agree_on_the_columns(world):
    mbo_score_set(payee=world.ann, component=world.objectives, window=world["Q1"],
                  score_pct=Decimal("85"))
    frame = mbo_scores_frame(period=world["Q1"])
    from compensation.engine.inputs import MBO_COLUMNS

    assert tuple(frame.columns) == MBO_COLUMNS
    assert isinstance(frame["score_pct"].iloc[0], Decimal)
