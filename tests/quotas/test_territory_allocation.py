"""Quota allocation by territory potential, end to end on real territory data.

A territory tree with effective-dated owners, accounts placed by assignment rules and by hand,
then a quota plan allocated through the services: each seller's share must follow the potential
of the territories they own on the plan's organisation day, and every level of the tree must add
up to the cent. Who owns what on that day is worked out here a second time, row by row from the
same dated facts, as the reference.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quotas.models import QuotaAllocation, QuotaPlan
from quotas.services import plan_problems, quota_allocate, quota_plan_create
from spm.crm.models import Account
from spm.crm.services import accounts_upsert
from spm.org.models import Person
from spm.org.services import person_assign_team
from spm.tenancy.context import tenant_context
from territories.models import OwnerRole, Territory, TerritoryLevel
from territories.services import account_assign, rules_apply, territory_create, territory_owner_set
from tests.factories import AccountFactory, AssignmentRuleFactory, PersonFactory
from tests.org.test_views import SalesOrg, build_sales_org

pytestmark = pytest.mark.django_db

D = datetime.date
ALLOCATION_DAY = D(2025, 3, 1)  # the plan's organisation day: territories as they are then
TARGET = Decimal("1000000.00")
FACTOR = Decimal("1.10")
CENT = Decimal("0.01")

# Territory -> (parent, level); owners and moves below are dated around ALLOCATION_DAY.
TREE = {
    "Americas": (None, TerritoryLevel.REGION),
    "West Coast": ("Americas", TerritoryLevel.AREA),
    "NorCal": ("West Coast", TerritoryLevel.TERRITORY),
    "SoCal": ("West Coast", TerritoryLevel.TERRITORY),
    "East Coast": ("Americas", TerritoryLevel.AREA),
    "New England": ("East Coast", TerritoryLevel.TERRITORY),
    "Gulf": ("East Coast", TerritoryLevel.TERRITORY),
    "Rockies": ("Americas", TerritoryLevel.TERRITORY),  # nobody owns it
}
# (territory, person, role, from): each ownership runs until the next one of its territory and
# role. SoCal changes hands before the allocation day, New England after it, and the colleague
# takes Gulf on the day itself (a start day counts).
OWNERSHIPS = [
    ("West Coast", "manager", OwnerRole.PRIMARY, D(2024, 1, 1)),  # a manager: no quota share
    ("NorCal", "rep", OwnerRole.PRIMARY, D(2024, 1, 1)),
    ("NorCal", "east_rep", OwnerRole.OVERLAY, D(2024, 1, 1)),  # an overlay earns no share
    ("SoCal", "east_rep", OwnerRole.PRIMARY, D(2024, 1, 1)),
    ("SoCal", "colleague", OwnerRole.PRIMARY, D(2025, 2, 1)),
    ("New England", "east_rep", OwnerRole.PRIMARY, D(2024, 1, 1)),
    ("New England", "rep", OwnerRole.PRIMARY, D(2025, 6, 1)),
    ("Gulf", "colleague", OwnerRole.PRIMARY, ALLOCATION_DAY),
]
# Assignment rules, applied from 1 January: territory -> criteria.
RULES = {
    "NorCal": {"postal_prefixes": "94, 95"},
    "SoCal": {"postal_prefixes": "90, 91, 92"},
    "New England": {"regions": "MA, NH, VT"},
    "Gulf": {"regions": "TX, LA"},
    "Rockies": {"regions": "CO, UT"},
}


@dataclass(frozen=True)
class AccountSpec:
    external_id: str
    region: str
    postal_code: str
    potential: Decimal | None
    moves: tuple[tuple[D, str], ...] = ()  # placed by hand: (from, territory)


ACCOUNTS = [
    AccountSpec("bay-bank", "CA", "94105", Decimal("300000.00")),
    AccountSpec("valley-chips", "CA", "95014", Decimal("100000.50")),
    AccountSpec("no-potential", "CA", "94016", None),
    AccountSpec("hollywood", "CA", "90210", Decimal("250000.25")),
    AccountSpec("boston-beans", "MA", "02110", Decimal("150000.00")),
    AccountSpec("houston-oil", "TX", "77002", Decimal("80000.00")),
    AccountSpec("denver-data", "CO", "80202", Decimal("60000.00")),
    # Moves to New England after the allocation day: still NorCal's on it.
    AccountSpec("mover-east", "NY", "10001", Decimal("40000.00"),
                ((D(2025, 1, 1), "NorCal"), (D(2025, 5, 1), "New England"))),
    # Moves from SoCal to NorCal before the allocation day.
    AccountSpec("mover-west", "CA", "93101", Decimal("20000.00"),
                ((D(2025, 1, 1), "SoCal"), (D(2025, 2, 15), "NorCal"))),
    # Moves from NorCal to SoCal on the allocation day itself: SoCal's on it.
    AccountSpec("mover-on-the-day", "WA", "98101", Decimal("7000.00"),
                ((D(2025, 1, 1), "NorCal"), (ALLOCATION_DAY, "SoCal"))),
    # In the area itself, owned by the manager, who carries no seller quota.
    AccountSpec("area-account", "OR", "97201", Decimal("500000.00"),
                ((D(2025, 1, 1), "West Coast"),)),
]


@dataclass
class Territories:
    org: SalesOrg
    people: dict[str, Person]  # the role names of OWNERSHIPS, plus "no_territory"

    def plan(self, org_as_of: D = ALLOCATION_DAY) -> QuotaPlan:
        """The draft FY2025 plan, split by territory potential as of `org_as_of`."""
        return quota_plan_create(
            fiscal_year=2025, name="FY2025 by territory", target=TARGET,
            over_assignment_percent=FACTOR * 100, method="territory", org_as_of=org_as_of,
        )


@pytest.fixture
def territories(tenant_a, make_member, admin_a) -> Territories:
    """Acme's sales org (West: rep, colleague and a seller without a territory; East: east
    rep) and the territory facts above, written through the territory services."""
    org = build_sales_org(tenant_a, make_member)
    with tenant_context(tenant_a):
        # Admin and finance logins have a person each; they sell nothing and carry no quota.
        Person.objects.filter(user__memberships__role__in=["admin", "finance"]).update(
            role="other")
        no_territory = PersonFactory(name="Tess Noland")
        person_assign_team(person=no_territory, team=org.west, valid_from=D(2024, 1, 1))
        people = {"rep": org.rep, "colleague": org.colleague, "east_rep": org.east_rep,
                  "manager": org.manager, "no_territory": no_territory}

        nodes: dict[str, Territory] = {}
        for name, (parent, level) in TREE.items():
            nodes[name] = territory_create(
                name=name, level=level, parent=nodes[parent] if parent else None, actor=admin_a)
        for territory, who, role, valid_from in OWNERSHIPS:
            territory_owner_set(territory=nodes[territory], person=people[who], role=role,
                                valid_from=valid_from, actor=admin_a)

        accounts = {
            spec.external_id: AccountFactory(
                external_id=spec.external_id, region=spec.region, postal_code=spec.postal_code,
                potential=spec.potential,
            )
            for spec in ACCOUNTS
        }
        for priority, (territory, criteria) in enumerate(RULES.items(), start=1):
            AssignmentRuleFactory(name=territory, priority=priority, territory=nodes[territory],
                                  countries="", **criteria)
        rules_apply(effective_date=D(2025, 1, 1), actor=admin_a)
        moves = sorted(
            (day, spec.external_id, territory)
            for spec in ACCOUNTS for day, territory in spec.moves
        )
        for day, external_id, territory in moves:
            account_assign(account=accounts[external_id], territory=nodes[territory],
                           effective_date=day, actor=admin_a)
    return Territories(org=org, people=people)


# -- the reference: who owns what on a day, from the dated facts above ----------------------------


def territory_of(spec: AccountSpec, day: D) -> str | None:
    placed = [(start, territory) for start, territory in spec.moves if start <= day]
    if placed:
        return max(placed)[1]
    for territory, criteria in RULES.items():  # first matching rule wins, from 1 January
        postal = [p.strip() for p in criteria.get("postal_prefixes", "").split(",") if p.strip()]
        regions = [r.strip() for r in criteria.get("regions", "").split(",") if r.strip()]
        if (postal and spec.postal_code.startswith(tuple(postal))) or spec.region in regions:
            return territory if day >= D(2025, 1, 1) else None
    return None


def primary_owner(territory: str, day: D) -> str | None:
    started = [(start, who) for t, who, role, start in OWNERSHIPS
               if t == territory and role == OwnerRole.PRIMARY and start <= day]
    return max(started)[1] if started else None


def potential_by_seller(day: D, potentials: dict[str, Decimal | None]) -> dict[str, Decimal]:
    totals = {"rep": Decimal(0), "colleague": Decimal(0), "east_rep": Decimal(0),
              "no_territory": Decimal(0)}
    for spec in ACCOUNTS:
        territory = territory_of(spec, day)
        owner = primary_owner(territory, day) if territory else None
        if owner in totals:
            totals[owner] += potentials[spec.external_id] or 0
    return totals


def cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def round_half_up(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def allocated(plan: QuotaPlan) -> dict[str, QuotaAllocation]:
    rows = QuotaAllocation.objects.filter(plan=plan).select_related("team", "person")
    return {row.key: row for row in rows}


def assert_follows_potential(
    world: Territories, plan: QuotaPlan, potentials: dict[str, Decimal | None]
) -> None:
    """Each level splits by the potential owned on the plan's day to within a cent, and adds up
    to the cent."""
    org, people = world.org, world.people
    expected = potential_by_seller(plan.org_as_of, potentials)
    rows = allocated(plan)
    amount = {key: cents(row.amount) for key, row in rows.items()}

    def person(name: str) -> str:
        return f"person:{people[name].pk}"

    teams = {"West": ["rep", "colleague", "no_territory"], "East": ["east_rep"]}
    team_keys = {"West": f"team:{org.west.pk}", "East": f"team:{org.east.pk}"}
    weight = {team: sum(expected[n] for n in names) for team, names in teams.items()}
    total_weight = sum(weight.values())

    # Sales, the company's one top team, carries the target and passes it all to West and East.
    assert amount["root"] == amount[f"team:{org.sales.pk}"] == cents(TARGET)
    assert sum(amount[team_keys[t]] for t in teams) == cents(TARGET)
    for team, names in teams.items():
        team_cents = amount[team_keys[team]]
        assert abs(team_cents - cents(TARGET) * weight[team] / total_weight) < 1, team
        # The team's sellers carry its quota times the over-assignment, to the cent.
        owed = round_half_up(team_cents * FACTOR)
        assert sum(amount[person(n)] for n in names) == owed, team
        for name in names:
            assert rows[person(name)].weight == expected[name], name
            share = owed * expected[name] / weight[team] if weight[team] else 0
            assert abs(amount[person(name)] - share) < 1, name
    # Each team's sellers round on their own, so the company total of seller quotas is the
    # target times the over-assignment to within a cent per team.
    sellers_total = sum(amount[person(n)] for names in teams.values() for n in names)
    assert abs(sellers_total - round_half_up(cents(TARGET) * FACTOR)) <= len(teams)
    assert plan_problems(plan) == []


# -- tests ---------------------------------------------------------------------------------------


def test_each_sellers_quota_follows_the_potential_they_own_on_the_allocation_day(
    territories, admin_a
):
    org, people = territories.org, territories.people
    with tenant_context(org.tenant):
        plan = territories.plan()
        result = quota_allocate(plan=plan, actor=admin_a)
        rows = allocated(plan)
        assert_follows_potential(territories, plan, {s.external_id: s.potential for s in ACCOUNTS})

    def weight(name: str) -> Decimal:
        return rows[f"person:{people[name].pk}"].weight

    assert result.problems == []
    # Here the two teams' roundings cancel out: the sellers carry the target x 110% exactly.
    seller_quotas = sum(row.amount for row in rows.values() if row.person_id is not None)
    assert seller_quotas == TARGET * FACTOR
    # NorCal's accounts, with the account that moved in before the day and the one that moves
    # out after it, not the one that moved out on it; none of the area's own account, nor of
    # the Rockies, nobody's.
    assert weight("rep") == Decimal("300000.00") + Decimal("100000.50") + Decimal("40000.00") + (
        Decimal("20000.00"))
    # SoCal changed hands before the day: the colleague's, no longer the east rep's; with the
    # account that moved in on the day, and Gulf, taken over on the day.
    assert weight("colleague") == Decimal("250000.25") + Decimal("7000.00") + Decimal("80000.00")
    # New England changes hands after the day: still the east rep's (and no overlay share).
    assert weight("east_rep") == Decimal("150000.00")
    assert weight("no_territory") == 0
    assert rows[f"person:{people['no_territory'].pk}"].amount == 0
    assert f"person:{people['manager'].pk}" not in rows  # a manager carries no seller quota
    assert "01 Mar 2025" in rows["root"].note


def test_a_plan_of_a_later_day_follows_that_days_owners(territories, admin_a):
    # From 1 June New England is the rep's, and from 1 May the account moving east is in it:
    # the east rep owns no potential on 1 July, and the West carries the whole target.
    people = territories.people
    with tenant_context(territories.org.tenant):
        plan = territories.plan(org_as_of=D(2025, 7, 1))
        quota_allocate(plan=plan, actor=admin_a)
        rows = allocated(plan)
        assert_follows_potential(territories, plan, {s.external_id: s.potential for s in ACCOUNTS})

    assert rows[f"person:{people['rep'].pk}"].weight == Decimal("460000.50") + Decimal("150000.00")
    assert rows[f"person:{people['colleague'].pk}"].weight == Decimal("337000.25")
    assert rows[f"person:{people['east_rep'].pk}"].weight == 0
    assert rows[f"team:{territories.org.west.pk}"].amount == TARGET
    assert rows[f"team:{territories.org.east.pk}"].amount == 0


# Anything an account's potential (NUMERIC(14,2)) can hold.
money = st.integers(min_value=1, max_value=10**14 - 1).map(lambda c: Decimal(c) / 100)


@settings(max_examples=20, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_potentials_split_in_proportion_and_add_up_to_the_cent(territories, admin_a, data):
    # The colleague's and the east rep's one account each stay above zero, so no team falls
    # back to splitting by capacity, which is another rule.
    potentials = {
        spec.external_id: data.draw(
            money if spec.external_id in ("hollywood", "boston-beans")
            else st.one_of(st.none(), st.just(Decimal("0.00")), money),
            label=spec.external_id,
        )
        for spec in ACCOUNTS
    }
    with tenant_context(territories.org.tenant):
        plan = QuotaPlan.objects.filter(fiscal_year=2025).first() or territories.plan()
        accounts_upsert(rows=[{"external_id": key, "potential": value}
                              for key, value in potentials.items()])
        assert dict(Account.objects.values_list("external_id", "potential")) == potentials
        quota_allocate(plan=plan, actor=admin_a)
        assert_follows_potential(territories, plan, potentials)
