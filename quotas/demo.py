"""The quota step of `seed_demo`: this year's quota plan from the sales plan, with seasonality
learned from the demo's bookings, allocated by historical share with one manual override,
applied, one mid-year change, and letters acknowledged by most sellers but not all."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from planning.models import SalesPlan
from spm.org.calendar import add_months, fiscal_year_of, fiscal_year_start
from spm.org.models import Person

from .models import AllocationMethod, Quota, QuotaAllocation
from .services import (
    quota_acknowledge,
    quota_allocate,
    quota_allocation_override,
    quota_change,
    quota_plan_apply,
    quota_plan_create,
    quota_seasonality_learn,
)

if TYPE_CHECKING:
    from spm.demo.steps import DemoContext

#: Share of sellers who have acknowledged their letter by the demo's today.
ACKNOWLEDGED_SHARE = 0.7


def build_quota_plan(ctx: DemoContext) -> None:
    actor = ctx.users.get("admin")
    today = ctx.spec.as_of
    start_month = ctx.spec.fiscal_year_start_month
    year = fiscal_year_of(today, start_month)
    year_start = fiscal_year_start(year, start_month)
    rng = ctx.rng("quotas")
    sales_plan = SalesPlan.objects.filter(fiscal_year=year).first()
    plan = quota_plan_create(
        fiscal_year=year, name=f"FY{year} quotas", sales_plan=sales_plan,
        target=None if sales_plan else Decimal("1000000"),
        over_assignment_percent=Decimal("110"), method=AllocationMethod.HISTORICAL,
        org_as_of=year_start, actor=actor,
    )
    quota_seasonality_learn(plan=plan, years=2, actor=actor)
    quota_allocate(plan=plan, actor=actor)
    # The biggest first-line team with a sibling to give way took on a strategic account: 5%
    # more, by hand, with a reason, and its siblings share the rest. A small org with one team
    # a region shows the same on its biggest seller.
    nodes = list(QuotaAllocation.objects.filter(plan=plan).order_by("-amount", "pk"))
    siblings: dict[tuple[int | None, bool], int] = {}
    with_people: set[int | None] = set()
    for node in nodes:
        key = (node.parent_id, node.person_id is not None)
        siblings[key] = siblings.get(key, 0) + 1
        if node.person_id is not None:
            with_people.add(node.parent_id)
    teams = [n for n in nodes if n.team_id is not None and n.pk in with_people]
    sellers_nodes = [n for n in nodes if n.person_id is not None]
    chosen = next((n for n in teams if siblings[(n.parent_id, False)] > 1), None) or next(
        (n for n in sellers_nodes if siblings[(n.parent_id, True)] > 1), None)
    if chosen is not None:
        quota_allocation_override(
            node=chosen, amount=(chosen.amount * Decimal("1.05")).quantize(Decimal("0.01")),
            reason="Takes on a strategic account moved from another region", actor=actor,
        )
    quota_plan_apply(plan=plan, effective=year_start, actor=actor)

    # A mid-year change for one seller, from the start of the current quarter.
    sellers = list(Person.objects.filter(quotas__plan=plan, role="rep").distinct().order_by("pk"))
    quarter_start = add_months(year_start, ((today.month - start_month) % 12) // 3 * 3)
    demo_rep = Person.objects.filter(user=ctx.users.get("rep")).first()
    changed = next((p for p in sellers if p != demo_rep), None)
    if changed is not None and quarter_start > year_start:
        annual = sum(q.amount for q in Quota.objects.filter(plan=plan, person=changed,
                                                            valid_to__isnull=True))
        quota_change(plan=plan, person=changed, annual_amount=annual * Decimal("0.9"),
                     effective=quarter_start, reason="Moved to a smaller territory",
                     actor=actor)

    # Letters: most sellers acknowledged in the first weeks; the demo rep has not yet.
    acknowledged = 0
    for person in sellers:
        if person == demo_rep or rng.random() > ACKNOWLEDGED_SHARE:
            continue
        moment = datetime.datetime.combine(
            min(year_start + datetime.timedelta(days=int(rng.integers(3, 40))), today),
            datetime.time(9 + int(rng.integers(0, 8)), int(rng.integers(0, 60))),
            tzinfo=datetime.UTC,
        )
        quota_acknowledge(plan=plan, person=person, user=person.user, now=moment)
        acknowledged += 1
    ctx.counts["quotas"] = Quota.objects.filter(plan=plan).count()
    ctx.counts["acknowledged letters"] = acknowledged
