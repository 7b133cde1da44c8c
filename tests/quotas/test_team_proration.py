"""Team roll-ups follow membership day by day: a seller who joined, left or moved counts for a
team with each month's quota split by the days in its subtree (parts adding back to the whole)
and with the bookings dated while they were in it; a manager's roll-up credits follow the same
days. Checked against a per-day reference."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quotas.models import Quota
from quotas.selectors import attainment_by_person, attainment_by_team
from quotas.services import quota_allocate, quota_plan_apply
from spm.org.models import Period, TeamMembership
from spm.org.services import periods_generate, person_assign_team
from spm.tenancy.context import tenant_context
from spm.tenancy.urls import tenant_reverse
from tests.factories import DealFactory, PersonFactory, QuotaPlanFactory, StageFactory, TeamFactory

pytestmark = pytest.mark.django_db

D = datetime.date
DAY = datetime.timedelta(days=1)
YEAR_START = D(2025, 1, 1)
HISTORY_START = D(2024, 12, 1)  # memberships are drawn from here on
QUOTA_MONTHS = range(1, 7)  # January to June carry a quota
LEAVES = ("west", "north", "east")
#: The teams whose subtree holds each leaf: North sits under West, both under Sales.
UNDER = {"west": {"sales", "west"}, "north": {"sales", "west", "north"},
         "east": {"sales", "east"}}


@dataclass
class Org:
    tenant: object
    teams: dict
    managers: dict
    reps: list
    plan: object
    won: object


@pytest.fixture
def org(tenant_a):
    """Sales (Vera) > West (Mona) > North (no manager), and Sales > East (Ed); three reps."""
    with tenant_context(tenant_a):
        periods_generate(fiscal_years=[2025])
        vera, mona, ed = (PersonFactory(name=n, role="manager") for n in ("Vera", "Mona", "Ed"))
        sales = TeamFactory(name="Sales", manager=vera)
        west = TeamFactory(name="West", parent=sales, manager=mona)
        north = TeamFactory(name="North", parent=west)
        east = TeamFactory(name="East", parent=sales, manager=ed)
        plan = QuotaPlanFactory(fiscal_year=2025)
        january = Period.objects.get(kind="month", fiscal_year=2025, number=1)
        for manager, team in ((vera, sales), (mona, west), (ed, east)):
            TeamMembership.objects.create(person=manager, team=team, valid_from=D(2024, 1, 1))
            Quota.objects.create(plan=plan, person=manager, period=january,
                                 amount=Decimal("1.00"), valid_from=YEAR_START)
        reps = [PersonFactory(name=f"Rep {i}") for i in range(3)]
        won = StageFactory(name="Won", is_won=True, forecast_category="closed",
                           default_probability=Decimal(100))
    return Org(tenant=tenant_a, teams={"sales": sales, "west": west, "north": north,
                                       "east": east},
               managers={"sales": vera, "west": mona, "east": ed}, reps=reps, plan=plan,
               won=won)


# -- the reference: one day at a time -----------------------------------------------------------


def month_bounds(number: int) -> tuple[datetime.date, datetime.date]:
    start = D(2025, number, 1)
    return start, D(2025 + number // 12, number % 12 + 1, 1)


def team_on(segments: list[tuple[datetime.date, datetime.date, str | None]],
            day: datetime.date) -> str | None:
    return next((team for a, b, team in segments if a <= day < b), None)


def largest_remainder(total: int, weights: list[int]) -> list[int]:
    """Floors of the exact shares; the cents left go to the largest remainders, earlier first."""
    exact = [Fraction(total * w, sum(weights)) for w in weights]
    parts = [int(e) for e in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:total - sum(parts)]:
        parts[i] += 1
    return parts


def month_shares(segments, quota_cents: int, number: int) -> dict[str | None, int]:
    """The month's quota by the days in each team: teams in the order first met, no team last."""
    start, end = month_bounds(number)
    days: dict[str | None, int] = {}
    day = start
    while day < end:
        team = team_on(segments, day)
        days[team] = days.get(team, 0) + 1
        day += DAY
    order = [t for t in days if t is not None] + ([None] if None in days else [])
    return dict(zip(order, largest_remainder(quota_cents, [days[t] for t in order]),
                    strict=True))


def exact_cents(value: Fraction) -> Decimal:
    """Half-up to the cent with no rounding on the way: floor(x + 1/2)."""
    return Decimal(int(value + Fraction(1, 2)) if value >= 0 else 0) / 100


def reference(case, period: Period, as_of: datetime.date) -> dict:
    """Per team: quota, credited, expected (both spans) and people, one day at a time."""
    after = as_of + DAY
    cutoff = max(min(period.end_date, after), YEAR_START)
    month_start = as_of.replace(day=1)
    next_month = (month_start + 31 * DAY).replace(day=1)
    gone = Fraction(as_of.day, (next_month - month_start).days)
    teams = {t: dict.fromkeys(("quota", "ytd_quota", "credited", "ytd_credited", "expected",
                               "ytd_expected"), Decimal(0)) | {"people": set()}
             for t in ("sales", "west", "north", "east")}
    outside = 0  # period quota cents in no team
    for rep, (segments, quotas, deals) in enumerate(case):
        due: dict[tuple[str, str], Fraction] = {}
        for number, cents in zip(QUOTA_MONTHS, quotas, strict=True):
            start, end = month_bounds(number)
            if end > period.end_date:
                continue
            in_period = start >= period.start_date
            for leaf, share in month_shares(segments, cents, number).items():
                if leaf is None:
                    outside += share if in_period else 0
                    continue
                weight = 1 if end <= after else gone if start == month_start else 0
                for key in ("ytd", "period") if in_period else ("ytd",):
                    due[key, leaf] = due.get((key, leaf), Fraction(0)) + share * weight
                for team in UNDER[leaf]:
                    teams[team]["ytd_quota"] += Decimal(share) / 100
                    if in_period:
                        teams[team]["quota"] += Decimal(share) / 100
        for (key, leaf), cents in due.items():
            for team in UNDER[leaf]:
                teams[team]["expected" if key == "period" else "ytd_expected"] += \
                    exact_cents(cents)
        for close, cents in deals:
            leaf = team_on(segments, close)
            if leaf is None or not YEAR_START <= close < cutoff:
                continue
            for team in UNDER[leaf]:
                teams[team]["ytd_credited"] += Decimal(cents) / 100
                if close >= period.start_date:
                    teams[team]["credited"] += Decimal(cents) / 100
        day = period.start_date
        while day < period.end_date:
            leaf = team_on(segments, day)
            for team in UNDER.get(leaf, ()):
                teams[team]["people"].add(rep)
            day += DAY
    return {"teams": teams, "outside": Decimal(outside) / 100}


# -- the property ------------------------------------------------------------------------------


@st.composite
def histories(draw):
    """Where one rep was, from December on: teams and gaps of random lengths."""
    segments, day = [], HISTORY_START
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        length = draw(st.integers(min_value=1, max_value=120))
        segments.append((day, day + length * DAY, draw(st.sampled_from((*LEAVES, None)))))
        day += length * DAY
    if draw(st.booleans()):  # still there: the last membership is open
        a, _, team = segments[-1]
        segments[-1] = (a, D(2026, 12, 31), team)
    quotas = draw(st.lists(st.integers(min_value=0, max_value=5_000_000),
                           min_size=len(QUOTA_MONTHS), max_size=len(QUOTA_MONTHS)))
    deals = draw(st.lists(st.tuples(
        st.dates(min_value=D(2024, 12, 20), max_value=D(2025, 8, 31)),
        st.integers(min_value=1, max_value=10_000_000)), max_size=5))
    return segments, quotas, deals


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=st.lists(histories(), min_size=3, max_size=3),
       which=st.sampled_from([("month", 5), ("quarter", 2), ("year", 1)]),
       as_of=st.dates(min_value=D(2024, 12, 15), max_value=D(2025, 8, 15)))
def test_team_rollups_match_a_day_by_day_reference(org, case, which, as_of):
    with tenant_context(org.tenant), transaction.atomic():
        period = Period.objects.get(kind=which[0], fiscal_year=2025, number=which[1])
        months = {p.number: p for p in Period.objects.filter(kind="month", fiscal_year=2025)}
        for rep, (segments, quotas, deals) in zip(org.reps, case, strict=True):
            for a, b, leaf in segments:
                if leaf is not None:
                    TeamMembership.objects.create(
                        person=rep, team=org.teams[leaf], valid_from=a,
                        valid_to=None if b == D(2026, 12, 31) else b)
            for number, cents in zip(QUOTA_MONTHS, quotas, strict=True):
                Quota.objects.create(plan=org.plan, person=rep, period=months[number],
                                     amount=Decimal(cents) / 100, valid_from=YEAR_START)
            for close, cents in deals:
                DealFactory(owner=rep, stage=org.won, amount=Decimal(cents) / 100,
                            close_date=close)
        rows = attainment_by_person(period=period, as_of=as_of)
        names = ("sales", "west", "north", "east")
        got = dict(zip(names, attainment_by_team(
            rows=rows, teams=[org.teams[n] for n in names], period=period, on=as_of),
            strict=True))
        by_person = {r.person_id: r for r in rows}
        transaction.set_rollback(True)

    want = reference(case, period, as_of)
    for name in names:
        team, expected = got[name], want["teams"][name]
        assert team.quota == expected["quota"], name
        assert team.ytd_quota == expected["ytd_quota"], name
        assert team.credited == expected["credited"], name
        assert team.ytd_credited == expected["ytd_credited"], name
        assert team.expected == expected["expected"], name
        assert team.ytd_expected == expected["ytd_expected"], name
        assert team.people == len(expected["people"]), name
    # The parts of each quota across teams, and the days in none, add back to the whole.
    sellers = sum((by_person[r.pk].quota for r in org.reps if r.pk in by_person), Decimal(0))
    assert got["sales"].quota + want["outside"] == sellers
    assert got["west"].quota + got["east"].quota == got["sales"].quota
    # A manager is credited with bookings made while the seller was in their teams.
    for team, manager in org.managers.items():
        assert by_person[manager.pk].leads_team
        assert by_person[manager.pk].credited == want["teams"][team]["credited"], team
        assert by_person[manager.pk].ytd_credited == want["teams"][team]["ytd_credited"], team


# -- constant queries ----------------------------------------------------------------------------


def _movers(org, count: int) -> None:
    """`count` sellers who move from West to East on 17 May, with quotas and bookings."""
    months = {p.number: p for p in Period.objects.filter(kind="month", fiscal_year=2025)}
    for i in range(count):
        rep = PersonFactory(name=f"Mover {i}")
        TeamMembership.objects.create(person=rep, team=org.teams["west"],
                                      valid_from=D(2024, 6, 1), valid_to=D(2025, 5, 17))
        TeamMembership.objects.create(person=rep, team=org.teams["east"],
                                      valid_from=D(2025, 5, 17))
        for number in QUOTA_MONTHS:
            Quota.objects.create(plan=org.plan, person=rep, period=months[number],
                                 amount=Decimal("3100.00"), valid_from=YEAR_START)
        for close in (D(2025, 5, 2), D(2025, 5, 28)):
            DealFactory(owner=rep, stage=org.won, amount=Decimal("100.00"), close_date=close)


@pytest.mark.parametrize("movers", [1, 7])
def test_the_team_rollup_takes_four_queries_however_many_sellers_moved(
    org, movers, django_assert_num_queries
):
    with tenant_context(org.tenant):
        _movers(org, movers)
        quarter = Period.objects.get(kind="quarter", fiscal_year=2025, number=2)
        rows = attainment_by_person(period=quarter, as_of=D(2025, 6, 30))
        teams = list(org.teams.values())
        # Memberships; then, for those who moved, their quotas, the credit source, their credits.
        with django_assert_num_queries(4):
            got = attainment_by_team(rows=rows, teams=teams, period=quarter, on=D(2025, 6, 30))

    west, east = got[1], got[3]
    # May's 3,100.00 splits 16 days West, 15 days East; April and June are whole.
    assert west.quota == movers * (Decimal("3100.00") + Decimal("1600.00"))
    assert east.quota == movers * (Decimal("1500.00") + Decimal("3100.00"))
    assert west.credited == east.credited == movers * Decimal("100.00")
    assert west.people == east.people == movers


def test_sellers_who_stayed_put_bring_their_rows_in_one_query(org, django_assert_num_queries):
    with tenant_context(org.tenant):
        months = {p.number: p for p in Period.objects.filter(kind="month", fiscal_year=2025)}
        for rep in org.reps:
            TeamMembership.objects.create(person=rep, team=org.teams["north"],
                                          valid_from=D(2024, 3, 1))
            for number in QUOTA_MONTHS:
                Quota.objects.create(plan=org.plan, person=rep, period=months[number],
                                     amount=Decimal("1000.00"), valid_from=YEAR_START)
        quarter = Period.objects.get(kind="quarter", fiscal_year=2025, number=2)
        rows = attainment_by_person(period=quarter, as_of=D(2025, 6, 30))
        with django_assert_num_queries(1):
            got = attainment_by_team(rows=rows, teams=list(org.teams.values()), period=quarter,
                                     on=D(2025, 6, 30))

    sales, west, north, east = got
    assert north.quota == west.quota == sales.quota == Decimal("9000.00")
    assert (north.people, east.people) == (3, 0)  # the managers are not their teams' sellers


@time_machine.travel(datetime.datetime(2025, 5, 20, 12, tzinfo=datetime.UTC), tick=False)
def test_the_team_view_takes_as_many_queries_for_many_sellers_who_moved_as_for_one(
    client, world, admin_a
):
    with tenant_context(world.tenant):
        quota_allocate(plan=world.plan, method="equal", actor=admin_a)
        quota_plan_apply(plan=world.plan, actor=admin_a)

    def moved(count: int) -> None:
        with tenant_context(world.tenant):
            for i in range(count):
                rep = PersonFactory(name=f"Mover {count}-{i}")
                person_assign_team(person=rep, team=world.org.west, valid_from=D(2024, 1, 1))
                person_assign_team(person=rep, team=world.org.east, valid_from=D(2025, 4, 10))
                world.deal(rep, "100", D(2025, 4, 5))
                world.deal(rep, "200", D(2025, 4, 25))

    def queries() -> int:
        client.force_login(world.org.users["admin"])
        with CaptureQueriesContext(connection) as captured:
            response = client.get(tenant_reverse(world.tenant, "quotas:team"))
        assert response.status_code == 200
        return len(captured)

    moved(1)
    one = queries()
    moved(6)
    assert queries() == one
