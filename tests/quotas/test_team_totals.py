"""The team view's totals are the sum of the seller rows it shows: a team leader's row, at any
depth, rolls up bookings already in their people's rows, so it is shown and not added — whether
the selector rolls bookings up to managers or crediting wrote managers' roll-up credits.
Checked over random team trees against a reference that knows who sells and what they booked."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compensation.services.crediting import credits_build
from quotas.models import Quota
from spm.org.models import Period, Person, TeamMembership
from spm.org.services import periods_generate
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Role
from spm.tenancy.urls import tenant_reverse
from tests.factories import DealFactory, PersonFactory, QuotaPlanFactory, StageFactory, TeamFactory

pytestmark = pytest.mark.django_db

D = datetime.date
JOINED = D(2024, 1, 1)
Q1_END = D(2025, 3, 31)  # the as-of day: the whole first quarter counts
VIEW = {"kind": "quarter", "on": "2025-03-31"}


@dataclass
class Base:
    tenant: object
    admin: object
    manager_user: object
    boss: Person  # the manager login's person
    won: object
    plan: object
    months: dict[int, Period]


@pytest.fixture
def base(tenant_a, make_member) -> Base:
    admin = make_member(tenant_a, Role.ADMIN, username="admin_totals")
    manager_user = make_member(tenant_a, Role.MANAGER, username="boss_totals")
    with tenant_context(tenant_a):
        Person.objects.filter(user=admin).update(role="other")
        periods_generate(fiscal_years=[2025])
        won = StageFactory(name="Won", is_won=True, forecast_category="closed",
                           default_probability=Decimal(100))
        plan = QuotaPlanFactory(fiscal_year=2025)
        months = {p.number: p for p in Period.objects.filter(kind="month", fiscal_year=2025)}
        boss = Person.objects.get(user=manager_user)
    return Base(tenant=tenant_a, admin=admin, manager_user=manager_user, boss=boss, won=won,
                plan=plan, months=months)


def page(client, base: Base, user, **params):
    client.force_login(user)
    response = client.get(tenant_reverse(base.tenant, "quotas:team"), {**VIEW, **params})
    assert response.status_code == 200
    return response


def shown_sum(response) -> dict:
    """The reference: the seller rows on the page (the rows not marked as a roll-up), added."""
    leaders = response.context["leaders"]
    sellers = [r for r in response.context["rows"] if r.person_id not in leaders]
    return {
        "people": len(sellers),
        "quota": sum((r.quota for r in sellers), Decimal(0)),
        "credited": sum((r.credited for r in sellers), Decimal(0)),
        "expected": sum((r.expected for r in sellers), Decimal(0)),
        "gap": sum((max(r.quota - r.credited, Decimal(0)) for r in sellers), Decimal(0)),
    }


def totals_of(response) -> dict:
    total = response.context["total"]
    return {"people": total.people, "quota": total.quota, "credited": total.credited,
            "expected": total.expected, "gap": total.gap}


# -- the demo's case -----------------------------------------------------------------------------


@pytest.mark.parametrize("credited", [False, True], ids=["won-deals", "crediting-ran"])
def test_a_managers_roll_up_row_is_shown_but_not_added_to_the_totals(client, base, credited):
    with tenant_context(base.tenant):
        team = TeamFactory(name="West", manager=base.boss)
        TeamMembership.objects.create(person=base.boss, team=team, valid_from=JOINED)
        ann, bob = PersonFactory(name="Ann"), PersonFactory(name="Bob")
        Quota.objects.create(plan=base.plan, person=base.boss, period=base.months[2],
                             amount=Decimal("300000.00"), valid_from=D(2025, 1, 1))
        for seller, amount in ((ann, "200000.00"), (bob, "138120.00")):
            TeamMembership.objects.create(person=seller, team=team, valid_from=JOINED)
            Quota.objects.create(plan=base.plan, person=seller, period=base.months[2],
                                 amount=Decimal("150000.00"), valid_from=D(2025, 1, 1))
            DealFactory(owner=seller, stage=base.won, amount=Decimal(amount),
                        close_date=D(2025, 2, 10))
        if credited:
            credits_build(period=base.months[2])

    response = page(client, base, base.manager_user)

    rows = {r.name: r for r in response.context["rows"]}
    # The manager's row carries the same bookings again: shown, marked, not added.
    assert rows[base.boss.name].credited == Decimal("338120.00")
    assert base.boss.pk in response.context["leaders"]
    assert response.context["total"].credited == Decimal("338120.00")
    assert response.context["total"].people == 2
    body = response.content.decode()
    assert "Total of 2 sellers" in body
    assert 'data-total="credited">338,120<' in body
    assert f'data-person="{base.boss.pk}" data-rollup' in body
    assert "not added" in body


# -- random trees --------------------------------------------------------------------------------


@st.composite
def orgs(draw):
    """A forest of up to six teams (each under a random earlier one, or a root), leaders drawn
    from three managers (one may lead several teams, at any depth), and up to seven sellers,
    each in one team all year with random quotas and won deals in the first quarter."""
    size = draw(st.integers(min_value=1, max_value=6))
    parents = [None] + [draw(st.one_of(st.none(), st.integers(min_value=0, max_value=i - 1)))
                        for i in range(1, size)]
    leaders = [draw(st.one_of(st.none(), st.integers(min_value=0, max_value=2)))
               for _ in range(size)]
    # Managers sit in the first team they lead, or in none; some carry a quota and deals too.
    manager_in_team = [draw(st.booleans()) for _ in range(3)]
    money = st.integers(min_value=0, max_value=50_000_000)  # cents
    deals = st.lists(st.tuples(st.dates(min_value=D(2025, 1, 1), max_value=D(2025, 3, 31)),
                               st.integers(min_value=1, max_value=50_000_000)), max_size=3)
    sellers = draw(st.lists(st.tuples(st.integers(min_value=0, max_value=size - 1),
                                      st.lists(money, min_size=3, max_size=3), deals),
                            min_size=1, max_size=7))
    managers = [(draw(st.lists(money, min_size=3, max_size=3)), draw(deals)) for _ in range(3)]
    return parents, leaders, manager_in_team, sellers, managers


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(org=orgs(), credited=st.booleans(), as_manager=st.booleans(), pick=st.booleans())
def test_the_totals_equal_the_sum_of_the_seller_rows_shown_over_random_trees(
    client, base, org, credited, as_manager, pick
):
    parents, leaders, manager_in_team, sellers, managers = org
    if as_manager:
        leaders[0] = 0  # the login leads the first root
    with transaction.atomic():
        with tenant_context(base.tenant):
            people = [base.boss] + [PersonFactory(name=f"Manager {i}", role="manager")
                                    for i in (1, 2)]
            teams = []
            for index, parent in enumerate(parents):
                leader = leaders[index]
                teams.append(TeamFactory(
                    name=f"Team {index}", parent=teams[parent] if parent is not None else None,
                    manager=people[leader] if leader is not None else None))
            led = {leader for leader in leaders if leader is not None}
            for number, person in enumerate(people):
                if number in led and manager_in_team[number]:
                    TeamMembership.objects.create(person=person, team=teams[leaders.index(number)],
                                                  valid_from=JOINED)
            quota_cents: dict[int, int] = {}
            booked_cents: dict[int, int] = {}
            seller_people = []
            for index, (team, quotas, deals) in enumerate(sellers):
                seller = PersonFactory(name=f"Seller {index}")
                seller_people.append((seller, team))
                TeamMembership.objects.create(person=seller, team=teams[team], valid_from=JOINED)
                quota_cents[seller.pk], booked_cents[seller.pk] = sum(quotas), 0
                for number, cents in zip((1, 2, 3), quotas, strict=True):
                    Quota.objects.create(plan=base.plan, person=seller,
                                         period=base.months[number],
                                         amount=Decimal(cents) / 100, valid_from=D(2025, 1, 1))
                for close, cents in deals:
                    DealFactory(owner=seller, stage=base.won, amount=Decimal(cents) / 100,
                                close_date=close)
                    booked_cents[seller.pk] += cents
            for number, (quotas, deals) in enumerate(managers):
                if number not in led:
                    continue
                for month, cents in zip((1, 2, 3), quotas, strict=True):
                    Quota.objects.create(plan=base.plan, person=people[number],
                                         period=base.months[month],
                                         amount=Decimal(cents) / 100, valid_from=D(2025, 1, 1))
                for close, cents in deals:
                    DealFactory(owner=people[number], stage=base.won,
                                amount=Decimal(cents) / 100, close_date=close)
            if credited:
                for number in (1, 2, 3):
                    credits_build(period=base.months[number])
            # Whom the page should add up: sellers in the teams viewed (the login's subtree,
            # or everyone for the admin), narrowed to one team when one is picked.
            chosen = teams[-1] if pick else None
            mine = [t for t, leader in zip(teams, leaders, strict=True)
                    if not as_manager or leader == 0]
            allowed = [t for t in teams if any(t.path.startswith(m.path) for m in mine)]
            may_pick = chosen in allowed
            scope = [t for t in allowed
                     if not may_pick or t.path.startswith(chosen.path)]
            expected = [s for s, team in seller_people
                        if any(teams[team].path.startswith(t.path) for t in scope)]
        params = {"team": chosen.pk} if chosen is not None else {}
        response = page(client, base, base.manager_user if as_manager else base.admin, **params)
        transaction.set_rollback(True)

    totals = totals_of(response)
    assert totals == shown_sum(response)
    assert response.context["chosen"] == (chosen if may_pick else None)
    # And the seller rows shown are exactly the sellers of the teams viewed, with their own
    # quotas and bookings: nothing of a leader's row is in the totals.
    assert {r.person_id for r in response.context["rows"]
            if r.person_id not in response.context["leaders"]} == {s.pk for s in expected}
    assert totals["people"] == len(expected)
    assert totals["quota"] == sum((Decimal(quota_cents[s.pk]) for s in expected),
                                  Decimal(0)) / 100
    assert totals["credited"] == sum((Decimal(booked_cents[s.pk]) for s in expected),
                                     Decimal(0)) / 100
