"""Reads over territories: who owned an account on a date (one row or in bulk, for crediting),
territories of a person, potential per territory, coverage, and the tree for pages."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd
from django.db.models import Count, DecimalField, Exists, F, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from spm.crm.models import Account
from spm.org.models import Person
from spm.org.selectors import visible_person_ids
from spm.tenancy.dating import valid_on_q
from spm.tenancy.models import Membership

from .models import (
    AccountAssignment,
    AssignmentChange,
    AssignmentRule,
    BalancingMove,
    BalancingProposal,
    OwnerRole,
    Territory,
    TerritoryOwner,
)

ZERO = Decimal("0.00")
_FAR_FUTURE = datetime.date(9999, 12, 31)


# -- one account, one date -----------------------------------------------------------------------


def territory_of_account_on(*, account: Account | int, on: datetime.date) -> Territory | None:
    """The territory the account was in on `on` (one query)."""
    account_id = getattr(account, "pk", account)
    return Territory.objects.filter(
        valid_on_q(on, "account_assignments__"), account_assignments__account_id=account_id
    ).first()


def account_owner_on(
    *, account: Account | int, on: datetime.date, role: str = OwnerRole.PRIMARY
) -> Person | None:
    """Who owned the account on `on`: the owner in `role` of its territory that day (one query).

    None when the account was in no territory or its territory had no owner in that role.
    """
    account_id = getattr(account, "pk", account)
    return Person.objects.filter(
        valid_on_q(on, "territory_owners__"),
        valid_on_q(on, "territory_owners__territory__account_assignments__"),
        territory_owners__role=role,
        territory_owners__territory__account_assignments__account_id=account_id,
    ).first()


# -- people and territories ----------------------------------------------------------------------


def territories_of_person_on(
    *, person: Person | int, on: datetime.date, role: str | None = OwnerRole.PRIMARY
) -> QuerySet[Territory]:
    """Territories `person` owned on `on` (in `role`; None = any role)."""
    person_id = getattr(person, "pk", person)
    owned = TerritoryOwner.objects.valid_on(on).filter(
        territory=OuterRef("pk"), person_id=person_id
    )
    if role is not None:
        owned = owned.filter(role=role)
    return Territory.objects.filter(Exists(owned))


def territory_owners_on(
    *, on: datetime.date, territories: Iterable[Territory | int] | None = None
) -> QuerySet[TerritoryOwner]:
    """Ownerships in force on `on`, with their people (of `territories`, or all)."""
    owners = TerritoryOwner.objects.valid_on(on).select_related("person", "territory")
    if territories is not None:
        owners = owners.filter(territory_id__in=[getattr(t, "pk", t) for t in territories])
    return owners.order_by("territory__path", "role")


# -- bulk, for crediting -------------------------------------------------------------------------


def account_territory_owner_bulk(
    rows: pd.DataFrame, *, role: str = OwnerRole.PRIMARY
) -> pd.DataFrame:
    """For each (account_id, on) row: the territory and its owner that day (two queries).

    `rows` needs columns `account_id` and `on` (dates); extra columns are kept. Adds
    `territory_id` and `owner_id` (nullable Int64, <NA> when unassigned or vacant), in the order
    of `rows`. The compensation engine credits territory owners with this.
    """
    result = rows.copy()
    result["_row"] = range(len(result))
    days = pd.to_datetime(result["on"]).dt.normalize()
    result["_day"] = days
    empty = pd.array([pd.NA] * len(result), dtype="Int64")
    if result.empty:
        return result.drop(columns=["_row", "_day"]).assign(territory_id=empty, owner_id=empty)
    first, last = days.min().date(), days.max().date()
    assignments = pd.DataFrame.from_records(
        AccountAssignment.objects.in_force_between(first, last)
        .filter(account_id__in=result["account_id"].unique().tolist())
        .values_list("account_id", "territory_id", "valid_from", "valid_to"),
        columns=["account_id", "territory_id", "a_from", "a_to"],
    )
    placed = _within(result, assignments, "account_id", "a_from", "a_to")
    owners = pd.DataFrame.from_records(
        TerritoryOwner.objects.in_force_between(first, last)
        .filter(role=role, territory_id__in=placed["territory_id"].unique().tolist())
        .values_list("territory_id", "person_id", "valid_from", "valid_to"),
        columns=["territory_id", "owner_id", "o_from", "o_to"],
    )
    owned = _within(placed, owners, "territory_id", "o_from", "o_to")
    territory = placed.set_index("_row")["territory_id"]
    owner = owned.set_index("_row")["owner_id"]
    result["territory_id"] = result["_row"].map(territory).astype("Int64")
    result["owner_id"] = result["_row"].map(owner).astype("Int64")
    return result.drop(columns=["_row", "_day"])


def _within(
    left: pd.DataFrame, spans: pd.DataFrame, key: str, start: str, end: str
) -> pd.DataFrame:
    """Rows of `left` joined with the span of `spans` (same key) that contains left's `_day`."""
    if spans.empty:
        return left.iloc[0:0].assign(**{c: [] for c in spans.columns if c != key})
    spans = spans.copy()
    spans[start] = pd.to_datetime(spans[start])
    spans[end] = pd.to_datetime(spans[end].fillna(_FAR_FUTURE))
    joined = left[["_row", "_day", key]].merge(spans, on=key, how="inner")
    inside = (joined[start] <= joined["_day"]) & (joined["_day"] < joined[end])
    return joined.loc[inside].drop_duplicates("_row")


# -- potential per territory ---------------------------------------------------------------------


@dataclass
class TerritoryLoad:
    """A territory's accounts and potential on a day: its own, and with everything below it."""

    territory: Territory
    accounts: int = 0
    potential: Decimal = ZERO
    subtree_accounts: int = 0
    subtree_potential: Decimal = ZERO
    owners: list[TerritoryOwner] = field(default_factory=list)
    children: list[TerritoryLoad] = field(default_factory=list)

    @property
    def is_leaf(self) -> bool:
        return not self.children


def territory_potential_on(*, on: datetime.date) -> dict[int, TerritoryLoad]:
    """Accounts and potential per territory on `on`, direct and rolled up the tree (three
    queries). Accounts without a potential count with zero. Quota allocation by territory
    potential reads each territory's own `potential` (see potential_by_owner_on), so a manager
    who owns an area is weighed by the accounts assigned to the area itself, not its subtree."""
    territories = list(Territory.objects.order_by("path"))
    loads = {t.pk: TerritoryLoad(territory=t) for t in territories}
    sums = (
        AccountAssignment.objects.valid_on(on)
        .order_by()
        .values("territory_id")
        .annotate(
            accounts=Count("account_id"),
            potential=Coalesce(
                Sum("account__potential"), Value(ZERO),
                output_field=DecimalField(max_digits=18, decimal_places=2),
            ),
        )
    )
    for row in sums:
        load = loads.get(row["territory_id"])
        if load is not None:
            load.accounts, load.potential = row["accounts"], row["potential"]
    for owner in territory_owners_on(on=on):
        if owner.territory_id in loads:
            loads[owner.territory_id].owners.append(owner)
    for t in territories:
        if t.parent_id in loads:
            loads[t.parent_id].children.append(loads[t.pk])
    # Tree order puts parents first, so walking it backwards sums bottom-up.
    for t in reversed(territories):
        load = loads[t.pk]
        load.subtree_accounts += load.accounts
        load.subtree_potential += load.potential
        if t.parent_id in loads:
            loads[t.parent_id].subtree_accounts += load.subtree_accounts
            loads[t.parent_id].subtree_potential += load.subtree_potential
    return loads


def potential_by_owner_on(
    *, on: datetime.date, role: str = OwnerRole.PRIMARY
) -> dict[int, Decimal]:
    """Potential of the accounts in each person's territories on `on` (person id -> amount).

    A person owning several territories gets their sum; potential of vacant territories is
    nobody's. Feeds quota allocation by territory potential.
    """
    loads = territory_potential_on(on=on)
    totals: dict[int, Decimal] = {}
    for load in loads.values():
        for owner in load.owners:
            if owner.role == role:
                totals[owner.person_id] = totals.get(owner.person_id, ZERO) + load.potential
    return totals


def territory_tree_on(*, on: datetime.date) -> list[TerritoryLoad]:
    """The tree's roots, each with loads and owners on `on`, children sorted by name."""
    loads = territory_potential_on(on=on)
    for load in loads.values():
        load.children.sort(key=lambda child: child.territory.name.lower())
    roots = [ld for ld in loads.values() if ld.territory.parent_id not in loads]
    return sorted(roots, key=lambda ld: ld.territory.name.lower())


def leaf_territories(*, under: Territory | None = None) -> list[Territory]:
    """Territories without children (in `under`'s subtree when given), in tree order."""
    has_children = Territory.objects.filter(parent=OuterRef("pk"))
    leaves = Territory.objects.filter(~Exists(has_children))
    if under is not None:
        leaves = leaves.filter(path__startswith=under.path)
    return list(leaves.order_by("path"))


# -- coverage ------------------------------------------------------------------------------------


def unassigned_accounts_on(*, on: datetime.date) -> QuerySet[Account]:
    placed = AccountAssignment.objects.valid_on(on).filter(account=OuterRef("pk"))
    return Account.objects.filter(~Exists(placed))


def overlapping_assignments() -> QuerySet[AccountAssignment]:
    """Assignment rows that share a day with another row of the same account (should be none:
    the services and, on PostgreSQL, an exclusion constraint prevent them)."""
    other = AccountAssignment.objects.filter(account_id=OuterRef("account_id")).exclude(
        pk=OuterRef("pk")
    ).overlapping(OuterRef("valid_from"), Coalesce(OuterRef("valid_to"), Value(_FAR_FUTURE)))
    return AccountAssignment.objects.filter(Exists(other)).select_related("account", "territory")


@dataclass
class Coverage:
    on: datetime.date
    account_count: int
    unassigned_count: int
    unassigned_potential: Decimal
    unassigned_sample: list[Account]
    overlaps: list[AccountAssignment]
    loads: list[TerritoryLoad]  # every territory, tree order
    vacant: list[Territory]  # leaf territories with accounts but no owner


def coverage_report(*, on: datetime.date, sample: int = 50) -> Coverage:
    """Unassigned accounts, overlapping assignments, and accounts, potential and owners per
    territory, on `on` (a constant number of queries)."""
    unassigned = unassigned_accounts_on(on=on)
    totals = unassigned.aggregate(
        n=Count("pk"),
        potential=Coalesce(
            Sum("potential"), Value(ZERO),
            output_field=DecimalField(max_digits=18, decimal_places=2),
        ),
    )
    loads = territory_potential_on(on=on)
    ordered = sorted(loads.values(), key=lambda ld: ld.territory.path)
    return Coverage(
        on=on,
        account_count=Account.objects.count(),
        unassigned_count=totals["n"],
        unassigned_potential=totals["potential"],
        unassigned_sample=list(unassigned.order_by("-potential", "name")[:sample]),
        overlaps=list(overlapping_assignments()[:200]),
        loads=ordered,
        vacant=[ld.territory for ld in ordered if ld.is_leaf and ld.accounts and not ld.owners],
    )


# -- history -------------------------------------------------------------------------------------


def assignment_history(*, account: Account) -> QuerySet[AccountAssignment]:
    return (
        AccountAssignment.objects.filter(account=account)
        .select_related("territory", "opened_by", "opened_by__created_by")
        .order_by("-valid_from")
    )


def accounts_in_territory_on(
    *, territory: Territory, on: datetime.date, subtree: bool = False
) -> QuerySet[Account]:
    assigned = AccountAssignment.objects.valid_on(on).filter(account=OuterRef("pk"))
    if subtree:
        assigned = assigned.filter(territory__path__startswith=territory.path)
    else:
        assigned = assigned.filter(territory=territory)
    return Account.objects.filter(Exists(assigned))


def visible_territory_ids(
    *, person_ids: Sequence[int] | set[int] | None, on: datetime.date
) -> set[int] | None:
    """Territories a member may read: None = all; otherwise those owned (any role) on `on` by
    the people they may see, and everything below them."""
    if person_ids is None:
        return None
    owned = Territory.objects.filter(
        valid_on_q(on, "owners__"), owners__person_id__in=list(person_ids)
    ).values_list("path", flat=True)
    paths = set(owned)
    if not paths:
        return set()
    query = Q()
    for path in paths:
        query |= Q(path__startswith=path)
    return set(Territory.objects.filter(query).values_list("pk", flat=True))


# -- what a member may see, for pages ------------------------------------------------------------


def territory_ids_visible_to(*, membership: Membership, on: datetime.date) -> set[int] | None:
    """Territories the member may read on `on` (None = all): those the people they may see own,
    and everything below them."""
    people = visible_person_ids(membership=membership, on=on)
    return visible_territory_ids(person_ids=people, on=on)


@dataclass
class VisibleTree:
    roots: list[TerritoryLoad]
    territory_count: int


def territory_tree_visible_to(*, membership: Membership, on: datetime.date) -> VisibleTree:
    """The territory tree on `on` as the member may see it, children in name order. A member who
    may not see everything starts at the territories they may see whose parent they may not."""
    loads = territory_potential_on(on=on)
    visible = territory_ids_visible_to(membership=membership, on=on)
    for load in loads.values():
        load.children.sort(key=lambda child: child.territory.name.lower())
    if visible is None:
        roots = [ld for ld in loads.values() if ld.territory.parent_id is None]
    else:
        roots = [
            ld for pk, ld in loads.items()
            if pk in visible and ld.territory.parent_id not in visible
        ]
        for load in loads.values():
            load.children = [c for c in load.children if c.territory.pk in visible]
    roots.sort(key=lambda ld: ld.territory.name.lower())
    return VisibleTree(roots=roots,
                       territory_count=len(loads) if visible is None else len(visible))


def territory_visible_to(
    *, membership: Membership, territory_id: int, on: datetime.date
) -> Territory | None:
    """The territory when the member may read it on `on`, else None (missing looks the same)."""
    visible = territory_ids_visible_to(membership=membership, on=on)
    territory = Territory.objects.filter(pk=territory_id).first()
    if territory is None or (visible is not None and territory.pk not in visible):
        return None
    return territory


@dataclass
class TerritorySurroundings:
    ancestors: list[Territory]
    children: list[Territory]
    ownerships: list[TerritoryOwner]
    rules: list[AssignmentRule]


def territory_surroundings(*, territory: Territory) -> TerritorySurroundings:
    """What a territory's page shows around it: its ancestors, children, owners over time and
    the rules that assign to it (four queries)."""
    return TerritorySurroundings(
        ancestors=list(
            Territory.objects.filter(pk__in=territory.ancestor_ids()[:-1]).order_by("path")
        ),
        children=list(territory.children.order_by("name")),
        ownerships=list(
            TerritoryOwner.objects.filter(territory=territory)
            .select_related("person").order_by("role", "-valid_from")
        ),
        rules=list(AssignmentRule.objects.filter(territory=territory)),
    )


def accounts_in_territory_by_potential(
    *, territory: Territory, on: datetime.date
) -> QuerySet[Account]:
    """The accounts in the territory's subtree on `on`, largest potential first."""
    accounts = accounts_in_territory_on(territory=territory, on=on, subtree=True)
    return accounts.order_by(F("potential").desc(nulls_last=True), "name", "pk")


# -- rules, changes and proposals ----------------------------------------------------------------


def assignment_rules() -> QuerySet[AssignmentRule]:
    return AssignmentRule.objects.select_related("territory").order_by("priority", "pk")


def assignment_rule_by_pk(pk: int) -> AssignmentRule | None:
    return AssignmentRule.objects.filter(pk=pk).first()


def next_rule_priority(*, step: int = 10) -> int:
    """A priority after every existing rule's, so a new rule is tried last."""
    last = AssignmentRule.objects.order_by("-priority").first()
    return (last.priority + step) if last else step


def names_for_moves(
    *, account_ids: Iterable[int], territory_ids: Iterable[int]
) -> tuple[dict[int, str], dict[int, str]]:
    """Account names and territory names by id, for a sample of proposed moves (two queries)."""
    accounts = dict(Account.objects.filter(pk__in=list(account_ids)).values_list("pk", "name"))
    territories = dict(
        Territory.objects.filter(pk__in=list(territory_ids)).values_list("pk", "name")
    )
    return accounts, territories


def assignment_changes() -> QuerySet[AssignmentChange]:
    return AssignmentChange.objects.select_related("created_by").order_by("-created_at", "-pk")


def assignment_change_by_pk(pk: int) -> AssignmentChange | None:
    return AssignmentChange.objects.select_related("created_by").filter(pk=pk).first()


def recent_proposals(*, limit: int = 20) -> QuerySet[BalancingProposal]:
    return (
        BalancingProposal.objects.select_related("scope")
        .annotate(move_count=Count("moves"))
        .order_by("-created_at", "-pk")[:limit]
    )


def proposal_by_pk(pk: int) -> BalancingProposal | None:
    return BalancingProposal.objects.select_related(
        "scope", "created_by", "decided_by", "change"
    ).filter(pk=pk).first()


def proposal_moves(*, proposal: BalancingProposal) -> QuerySet[BalancingMove]:
    return proposal.moves.select_related("account", "from_territory", "to_territory").order_by(
        "from_territory__name", "-potential", "pk"
    )


def account_by_pk(pk: int) -> Account | None:
    return Account.objects.filter(pk=pk).first()
