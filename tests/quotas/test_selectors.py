"""THE attainment selector: credited bookings over quota per person and period, year to date,
pace against time elapsed, managers rolled up, a swappable credit source, constant queries."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from quotas.credits import WonDealCredits, set_credit_source
from quotas.models import Quota
from quotas.selectors import (
    allocation_workspace,
    attainment_by_month,
    attainment_by_person,
    attainment_by_team,
)
from quotas.services import quota_allocate, quota_change, quota_plan_apply, quota_plan_create
from spm.org.models import Period
from spm.org.services import periods_generate, person_assign_team
from spm.tenancy.context import tenant_context
from tests.factories import DealFactory, PersonFactory, StageFactory

pytestmark = pytest.mark.django_db

D = datetime.date


def month_quota(person, number: int) -> Decimal:
    return Quota.objects.get(person=person, period__kind="month", period__number=number,
                             period__fiscal_year=2025, valid_to=None).amount


def period(kind: str, number: int) -> Period:
    return Period.objects.get(kind=kind, fiscal_year=2025, number=number)


@pytest.fixture
def booked(world, admin_a):
    """The plan applied (equal split) and FY2025 deals around mid-February."""
    org = world.org
    with tenant_context(world.tenant):
        quota_allocate(plan=world.plan, method="equal", actor=admin_a)
        quota_plan_apply(plan=world.plan, actor=admin_a)
        world.deal(org.rep, "10000", D(2025, 1, 10))
        world.deal(org.rep, "5000", D(2025, 2, 20))  # after the as-of day
        world.deal(org.rep, "99999", D(2025, 2, 1), won=False)
        world.deal(org.colleague, "3000", D(2025, 2, 1))
        world.deal(org.east_rep, "1000", D(2025, 1, 31))
        world.deal(org.rep, "777", D(2024, 12, 31))  # last fiscal year
    return world


def by_name(rows) -> dict:
    return {row.name: row for row in rows}


@pytest.mark.smoke
def test_a_reps_attainment_is_won_bookings_over_quota_up_to_the_day(booked):
    org = booked.org
    with tenant_context(booked.tenant):
        rows = by_name(attainment_by_person(period=period("quarter", 1), as_of=D(2025, 2, 14)))
        q1 = sum(month_quota(org.rep, n) for n in (1, 2, 3))
        expected = month_quota(org.rep, 1) + month_quota(org.rep, 2) * 14 / 28

    rep = rows["Ray Rep"]
    assert rep.quota == q1
    assert rep.credited == Decimal("10000.00")
    assert rep.attainment == (Decimal(10000) / q1).quantize(Decimal("0.0001"))
    assert rep.expected == expected.quantize(Decimal("0.01"))
    assert rep.pace == (Decimal(10000) / rep.expected).quantize(Decimal("0.0001"))
    assert rep.gap == q1 - 10000
    assert rep.elapsed == Decimal(45) / 90 + Decimal("0.0000")
    assert (rep.ytd_quota, rep.ytd_credited) == (q1, Decimal("10000.00"))


def test_year_to_date_runs_from_the_fiscal_year_start_to_the_periods_end(booked):
    org = booked.org
    with tenant_context(booked.tenant):
        rows = by_name(attainment_by_person(period=period("month", 2), as_of=D(2025, 3, 31)))
        jan_feb = month_quota(org.rep, 1) + month_quota(org.rep, 2)

    rep = rows["Ray Rep"]
    assert rep.credited == Decimal("5000.00")
    assert rep.ytd_credited == Decimal("15000.00")
    assert rep.ytd_quota == jan_feb
    assert rep.elapsed == 1
    assert rep.expected == rep.quota


def test_managers_are_credited_with_their_teams_bookings(booked):
    org = booked.org
    with tenant_context(booked.tenant):
        rows = by_name(attainment_by_person(period=period("year", 1), as_of=D(2025, 2, 14)))
        west_quota = sum(month_quota(org.manager, n) for n in range(1, 13))

    assert rows["Mona Manager"].leads_team
    assert rows["Mona Manager"].credited == Decimal("13000.00")  # rep 10,000 + colleague 3,000
    assert rows["Mona Manager"].quota == west_quota
    assert rows["Vera Vice"].credited == Decimal("14000.00")  # all of Sales
    assert not rows["Ray Rep"].leads_team


def test_team_rollups_sum_their_sellers_and_never_the_manager_twice(booked):
    org = booked.org
    with tenant_context(booked.tenant):
        on = D(2025, 5, 14)
        rows = attainment_by_person(period=period("year", 1), as_of=on)
        teams = attainment_by_team(rows=rows, teams=[org.sales, org.west, org.east],
                                   period=period("year", 1), on=on)
        people = by_name(rows)

    sales, west, east = teams
    west_people = ("Ray Rep", "Colin Colleague", "Nia Newhire")
    assert west.people == 3
    assert west.quota == sum(people[n].quota for n in west_people)
    assert west.credited == Decimal("18000.00")
    assert east.credited == Decimal("1000.00")
    assert sales.quota == west.quota + east.quota
    assert (sales.depth, west.depth) == (0, 1)


def test_quotas_follow_the_version_in_force_on_the_as_of_day(booked, admin_a):
    org = booked.org
    with tenant_context(booked.tenant):
        old_year = by_name(attainment_by_person(period=period("year", 1), as_of=D(2025, 1, 31)))
        quota_change(plan=booked.plan, person=org.rep, annual_amount=Decimal("120000"),
                     effective=D(2025, 2, 1), reason="Reset", actor=admin_a)
        before = by_name(attainment_by_person(period=period("year", 1), as_of=D(2025, 1, 31)))
        after = by_name(attainment_by_person(period=period("year", 1), as_of=D(2025, 2, 1)))

    assert before["Ray Rep"].quota == old_year["Ray Rep"].quota
    assert after["Ray Rep"].quota == Decimal("120000.00")


def test_people_can_be_limited_and_others_never_show(booked):
    org = booked.org
    with tenant_context(booked.tenant):
        rows = attainment_by_person(period=period("year", 1), as_of=D(2025, 12, 31),
                                    person_ids={org.rep.pk})

    assert [row.name for row in rows] == ["Ray Rep"]


def test_the_credit_source_can_be_swapped_without_changing_callers(booked):
    class FixedCredits:
        rolls_up_to_managers = False

        def credited(self, *, windows, person_ids):
            return {booked.org.rep.pk: dict.fromkeys(windows, Decimal("42.00"))}

    previous = set_credit_source(FixedCredits())
    try:
        with tenant_context(booked.tenant):
            rows = by_name(attainment_by_person(period=period("year", 1), as_of=D(2025, 6, 1)))
    finally:
        set_credit_source(previous)

    # Compensation installs its source (the Credit table once crediting has run, won deals
    # before that); this tenant has never run crediting.
    assert isinstance(credit_source_for_tenant(booked.tenant, previous), WonDealCredits)
    assert rows["Ray Rep"].credited == Decimal("42.00")
    assert rows["Mona Manager"].credited == 0  # this source credits managers itself
    assert not rows["Mona Manager"].leads_team


def credit_source_for_tenant(tenant, source):
    with tenant_context(tenant):
        resolve = getattr(source, "resolve", None)
        return resolve() if callable(resolve) else source


def test_month_by_month_uses_the_same_quotas_and_credits(booked):
    org = booked.org
    with tenant_context(booked.tenant):
        months = attainment_by_month(person=org.rep, fiscal_year=2025, as_of=D(2025, 2, 14))
        q1 = attainment_by_person(period=period("quarter", 1), as_of=D(2025, 2, 14),
                                  person_ids={org.rep.pk})[0]

    assert len(months) == 12
    assert sum(m.quota for m in months[:3]) == q1.quota
    assert sum(m.credited for m in months) == q1.credited


def _more_sellers(world, admin_a, count: int) -> None:
    for i in range(count):
        person = PersonFactory(name=f"Extra {i}")
        person_assign_team(person=person, team=world.org.east, valid_from=D(2024, 1, 1))
        world.deal(person, "100", D(2025, 1, 5))
    quota_allocate(plan=world.plan, method="equal", actor=admin_a)
    quota_plan_apply(plan=world.plan, effective=D(2025, 1, 1), actor=admin_a)


@pytest.mark.parametrize("extra", [0, 15])
def test_attainment_takes_six_queries_however_many_people(booked, admin_a, extra,
                                                          django_assert_num_queries):
    with tenant_context(booked.tenant):
        _more_sellers(booked, admin_a, extra)
        year = period("year", 1)
        # Five reads, plus one to see whether crediting has run (which source counts credits).
        with django_assert_num_queries(6):
            rows = attainment_by_person(period=year, as_of=D(2025, 3, 1))

    assert len(rows) == 6 + extra


def test_the_workspace_shows_sums_in_force_amounts_and_problems(booked, admin_a):
    with tenant_context(booked.tenant):
        workspace = allocation_workspace(plan=booked.plan, on=D(2025, 2, 1))

    assert workspace.adds_up
    assert workspace.people_count == 4
    rows = {row.node.label: row for row in workspace.rows}
    assert rows["Company"].depth == 0
    assert rows["West"].owed == rows["West"].children_total
    assert rows["Ray Rep"].in_force == rows["Ray Rep"].node.amount
    assert workspace.people_total == sum(r.node.amount for r in workspace.rows if r.is_person)


def test_another_tenants_quotas_and_deals_never_count(booked, tenant_b, admin_a):
    with tenant_context(tenant_b):
        periods_generate(fiscal_years=[2025])
        stranger = PersonFactory(name="Globex Seller")
        won = StageFactory(name="Won", is_won=True, forecast_category="closed")
        DealFactory(owner=stranger, stage=won, amount=Decimal("999999"),
                    close_date=D(2025, 1, 15))
        plan = quota_plan_create(fiscal_year=2025, name="Globex", target=Decimal("5"))
        quota_allocate(plan=plan, method="equal")
        quota_plan_apply(plan=plan)
    with tenant_context(booked.tenant):
        rows = attainment_by_person(period=period("year", 1), as_of=D(2025, 12, 31))

    assert "Globex Seller" not in {row.name for row in rows}
    assert sum(row.credited for row in rows if not row.leads_team) == Decimal("19000.00")
