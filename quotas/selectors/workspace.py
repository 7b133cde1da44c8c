"""The allocation workspace: a quota plan's tree with sums, what each node owes and problems."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum

from planning.capacity import from_cents, to_cents
from planning.selectors import fiscal_year_bounds
from spm.tenancy.context import require_active_tenant

from ..allocation import Problem, check, people_share
from ..models import Quota, QuotaAcknowledgement, QuotaAllocation, QuotaPlan
from ..tree import allocation_rows, tree_from_rows
from .common import ZERO


@dataclass
class WorkspaceRow:
    node: QuotaAllocation
    depth: int
    children_total: Decimal = ZERO  # what the children carry
    owed: Decimal | None = None  # what they must carry
    problems: list[str] = field(default_factory=list)
    in_force: Decimal | None = None  # people: the annual quota currently in force
    acknowledged_at: datetime.datetime | None = None
    acknowledged_amount: Decimal | None = None

    @property
    def is_person(self) -> bool:
        return self.node.person_id is not None


@dataclass
class Workspace:
    plan: QuotaPlan
    rows: list[WorkspaceRow]
    problems: list[Problem]
    people_total: Decimal
    people_count: int
    acknowledged_count: int

    @property
    def adds_up(self) -> bool:
        return not self.problems


def allocation_workspace(*, plan: QuotaPlan, on: datetime.date) -> Workspace:
    """The plan's tree in order, each node with its children's sum, what they owe, problems,
    and for people their quota in force and acknowledgement (three queries)."""
    nodes = allocation_rows(plan)
    year_start, year_end = fiscal_year_bounds(plan.fiscal_year)
    known_on = min(max(on, year_start), year_end - datetime.timedelta(days=1))
    in_force = dict(
        Quota.objects.valid_on(known_on).filter(plan=plan).order_by()
        .values("person_id").annotate(total=Sum("amount")).values_list("person_id", "total")
    )
    acks: dict[int, QuotaAcknowledgement] = {}
    for ack in QuotaAcknowledgement.objects.filter(plan=plan).order_by("acknowledged_at"):
        acks[ack.person_id] = ack  # the latest wins
    root = tree_from_rows(nodes)
    problems = [] if root is None else check(
        root, total_cents=to_cents(plan.target), factor=plan.factor,
        currency=require_active_tenant().currency)
    by_key: dict[str, list[str]] = {}
    for problem in problems:
        by_key.setdefault(problem.key, []).append(problem.message)

    children: dict[int | None, list[QuotaAllocation]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    depth: dict[int, int] = {}
    rows = []
    for node in nodes:
        depth[node.pk] = depth[node.parent_id] + 1 if node.parent_id in depth else 0
        kids = children.get(node.pk, [])
        row = WorkspaceRow(node=node, depth=depth[node.pk],
                           children_total=sum((k.amount for k in kids), ZERO),
                           problems=by_key.get(node.key, []))
        if kids:
            sub_teams = sum((to_cents(k.amount) for k in kids if k.person_id is None), 0)
            if any(k.person_id for k in kids):
                owed_people = people_share(team_cents=to_cents(node.amount),
                                           sub_team_cents=sub_teams, factor=plan.factor)
                row.owed = from_cents(sub_teams + owed_people)
            else:
                row.owed = node.amount
        if node.person_id is not None:
            row.in_force = in_force.get(node.person_id)
            ack = acks.get(node.person_id)
            if ack is not None:
                row.acknowledged_at = ack.acknowledged_at
                row.acknowledged_amount = ack.annual_amount
        rows.append(row)
    people_rows = [r for r in rows if r.is_person]
    return Workspace(
        plan=plan, rows=rows, problems=problems,
        people_total=sum((r.node.amount for r in people_rows), ZERO),
        people_count=len(people_rows),
        acknowledged_count=sum(
            1 for r in people_rows
            if r.acknowledged_amount is not None and r.acknowledged_amount == r.in_force
        ),
    )


def quota_plans() -> list[QuotaPlan]:
    return list(QuotaPlan.objects.select_related("sales_plan").order_by("-fiscal_year"))
