"""The allocation tree of a quota plan: the year it covers, the organisation read into a tree of
teams and sellers with their weights, the stored tree read back, and the check of its sums.
Reads only; the services write what comes out of it."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from planning.capacity import ONE, parse_percentages, to_cents
from planning.selectors import fiscal_year_bounds, ramp_ratios, sellers
from spm.org.calendar import add_months
from spm.org.models import Person, Team, TeamMembership
from spm.tenancy.context import require_active_tenant
from spm.tenancy.models import Membership
from spm.tenancy.permissions import can_configure

from .allocation import Node, Problem, check
from .credits import credit_source
from .models import AllocationMethod, QuotaAllocation, QuotaPlan
from .seasonality import capacity_factor, flat_weights, month_factors


@dataclass(frozen=True)
class PlanYear:
    start: datetime.date
    end: datetime.date  # exclusive
    month_starts: tuple[datetime.date, ...]
    weights: tuple[Decimal, ...]  # seasonality, percent per fiscal month
    ramp: tuple[Decimal, ...]

    def clamp(self, day: datetime.date) -> datetime.date:
        return min(max(day, self.start), self.end - datetime.timedelta(days=1))


def season_weights(plan: QuotaPlan) -> tuple[Decimal, ...]:
    """The plan's month weights; flat when none are set (or the stored text is broken)."""
    if not plan.seasonality_percent.strip():
        return flat_weights()
    try:
        return parse_percentages(plan.seasonality_percent, count=12, total=Decimal(100))
    except ValueError:
        return flat_weights()


def plan_year(plan: QuotaPlan) -> PlanYear:
    start, end = fiscal_year_bounds(plan.fiscal_year)
    return PlanYear(
        start=start,
        end=end,
        month_starts=tuple(add_months(start, i) for i in range(12)),
        weights=season_weights(plan),
        ramp=ramp_ratios(plan.ramp_schedule),
    )



# -- the tree ------------------------------------------------------------------------------------


def _reference_date(plan: QuotaPlan, year: PlanYear) -> datetime.date:
    return year.clamp(plan.org_as_of) if plan.org_as_of else year.start


def _quota_carriers(year: PlanYear, on: datetime.date) -> tuple[list[Person], dict[int, int]]:
    """Sellers employed at some time from `on` to the year end, and the team each is in on `on`
    (or, for someone who joins later, the first team they join). Two queries."""
    people = list(
        sellers()
        .filter(Q(hire_date__isnull=True) | Q(hire_date__lt=year.end))
        .filter(Q(termination_date__isnull=True) | Q(termination_date__gt=on))
        .order_by("name", "pk")
    )
    team_of: dict[int, int] = {}
    memberships = (
        TeamMembership.objects.filter(person_id__in=[p.pk for p in people])
        .overlapping(on, year.end)
        .order_by("person_id", "valid_from")
        .values_list("person_id", "team_id")
    )
    for person_id, team_id in memberships:
        team_of.setdefault(person_id, team_id)
    return people, team_of


def _base_weights(
    plan: QuotaPlan, method: str, people: list[Person], on: datetime.date
) -> tuple[dict[int, Decimal], str]:
    """Each person's weight before capacity, by the method, and a note on how it was found."""
    if method == AllocationMethod.HISTORICAL:
        last_start, last_end = fiscal_year_bounds(plan.fiscal_year - 1)
        credited = credit_source().credited(
            windows={"last": (last_start, last_end)}, person_ids=[p.pk for p in people]
        )
        full_year = [p for p in people if p.hire_date is None or p.hire_date <= last_start]
        booked = {p.pk: credited.get(p.pk, {}).get("last", Decimal(0)) for p in people}
        typical = (
            sum((booked[p.pk] for p in full_year), Decimal(0)) / len(full_year)
            if full_year else ONE
        )
        # Someone without a full year behind them is weighed as a typical full-year seller.
        return (
            {p.pk: booked[p.pk] if p in full_year else typical for p in people},
            f"Last year's bookings (FY{plan.fiscal_year - 1}); newer sellers count as the "
            "average seller.",
        )
    if method == AllocationMethod.TERRITORY:
        # Territories sit below quotas in the layers; imported here so quotas load without them.
        from territories.selectors import potential_by_owner_on

        potential = potential_by_owner_on(on=on)
        return (
            {p.pk: potential.get(p.pk, Decimal(0)) for p in people},
            f"Potential of the accounts in each seller's territories on {on:%d %b %Y}.",
        )
    return {p.pk: ONE for p in people}, "Equal shares, scaled by each seller's capacity."


def build_org_tree(
    plan: QuotaPlan, *, method: str | None = None
) -> tuple[Node, dict[str, Team | Person], str]:
    """The plan's tree from the organisation: company, teams, sellers, each with weights."""
    year = plan_year(plan)
    on = _reference_date(plan, year)
    teams = list(Team.objects.order_by("path"))
    people, team_of = _quota_carriers(year, on)
    base, basis = _base_weights(plan, method or plan.method, people, on)

    root = Node(key="root", label="Company", kind="root")
    nodes: dict[int, Node] = {}
    objects: dict[str, Team | Person] = {}
    for team in teams:
        node = Node(key=f"team:{team.pk}", label=team.name, kind="team")
        nodes[team.pk] = node
        objects[node.key] = team
        parent = nodes.get(team.parent_id) if team.parent_id else None
        (parent.children if parent is not None else root.children).append(node)
    for person in people:
        factors = month_factors(month_starts=year.month_starts, hire_date=person.hire_date,
                                termination_date=person.termination_date, ramp=year.ramp)
        capacity = capacity_factor(year.weights, factors)
        node = Node(key=f"person:{person.pk}", label=person.name, kind="person",
                    weight=Decimal(base[person.pk]) * capacity, capacity=capacity)
        objects[node.key] = person
        team_node = nodes.get(team_of.get(person.pk, -1))
        (team_node.children if team_node is not None else root.children).append(node)
    return root, objects, basis


def tree_from_rows(rows: Iterable[QuotaAllocation]) -> Node | None:
    """The stored allocation as a tree (rows need team and person loaded)."""
    nodes: dict[int, Node] = {}
    root = None
    for row in sorted(rows, key=lambda r: r.position):
        node = Node(key=row.key, label=row.label, kind=row.kind, weight=row.weight,  # type: ignore[arg-type]
                    capacity=row.capacity, amount_cents=to_cents(row.amount),
                    pinned_cents=to_cents(row.amount) if row.is_override else None,
                    note=row.note)
        nodes[row.pk] = node
        parent = nodes.get(row.parent_id) if row.parent_id else None
        if parent is not None:
            parent.children.append(node)
        elif row.parent_id is None and root is None:
            root = node
    return root


def allocation_rows(plan: QuotaPlan) -> list[QuotaAllocation]:
    return list(
        QuotaAllocation.objects.filter(plan=plan)
        .select_related("team", "team__manager", "person")
        .order_by("position")
    )


def plan_problems(plan: QuotaPlan, rows: list[QuotaAllocation] | None = None) -> list[Problem]:
    rows = allocation_rows(plan) if rows is None else rows
    root = tree_from_rows(rows)
    if root is None:
        return [Problem("root", "Nothing is allocated yet: run an allocation first.")]
    return check(root, total_cents=to_cents(plan.target), factor=plan.factor,
                 currency=require_active_tenant().currency)


def quota_plan_by_pk(pk: int) -> QuotaPlan | None:
    """One quota plan with its ramp schedule, or None when missing (or another tenant's)."""
    return QuotaPlan.objects.filter(pk=pk).select_related("ramp_schedule").first()


def allocation_node_by_pk(pk: int) -> QuotaAllocation | None:
    """One node of an allocation tree with its plan and who it is, or None when missing."""
    return QuotaAllocation.objects.filter(pk=pk).select_related("plan", "person", "team").first()


def quota_plan_visible_to(*, membership: Membership, pk: int) -> QuotaPlan | None:
    """The plan when the member may read its letters: once published for everyone, before that
    only for those who configure it."""
    plan = quota_plan_by_pk(pk)
    if plan is None or (not plan.is_published and not can_configure(membership)):
        return None
    return plan
