"""Writes for quota plans: allocation top-down with manual overrides, seasonality, applying a
plan to effective-dated monthly quotas, mid-year changes and quota-letter acknowledgements.

Every operation is atomic and leaves its trace in the models' history with the acting user.
"""

# Just over 500 lines: every quota write, in sections (plan and seasonality, allocation,
# applying monthly quotas, letters) that share _save, the one audited save; each service is
# short and the sections are the map.

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from planning.capacity import format_percentages, from_cents, parse_percentages, to_cents
from planning.models import RampSchedule, SalesPlan
from planning.selectors import monthly_bookings
from spm.org.models import Period, PeriodKind, Person, Team
from spm.org.services import periods_generate
from spm.tenancy.actors import acting_user
from spm.tenancy.context import require_active_tenant
from spm.tenancy.history import record_author
from spm.tenancy.today import tenant_today

from .allocation import Node, Problem, allocate, check
from .models import (
    AllocationMethod,
    Quota,
    QuotaAcknowledgement,
    QuotaAllocation,
    QuotaPlan,
    QuotaPlanStatus,
)
from .seasonality import employed_shares, learn_weights, month_factors, rephase_remaining
from .tree import (
    PlanYear,
    allocation_rows,
    build_org_tree,
    plan_problems,
    plan_year,
    season_weights,
    tree_from_rows,
)

__all__ = [
    "AllocationResult",
    "ApplyResult",
    "PlanYear",
    "allocation_rows",
    "annual_quotas",
    "plan_problems",
    "plan_year",
    "quota_acknowledge",
    "quota_allocate",
    "quota_allocation_clear_override",
    "quota_allocation_override",
    "quota_change",
    "quota_plan_apply",
    "quota_plan_create",
    "quota_seasonality_learn",
    "quota_seasonality_set",
    "season_weights",
    "tree_from_rows",
]


def _save(obj: Any, actor: Any, **kwargs: Any) -> None:
    record_author(obj, acting_user(actor))
    obj.save(**kwargs)


# -- creating a plan and its seasonality ---------------------------------------------------------


@transaction.atomic
def quota_plan_create(
    *,
    fiscal_year: int,
    name: str,
    target: Decimal | None = None,
    sales_plan: SalesPlan | None = None,
    over_assignment_percent: Decimal = Decimal("100"),
    method: str = AllocationMethod.HISTORICAL,
    seasonality_percent: str = "",
    ramp_schedule: RampSchedule | None = None,
    org_as_of: datetime.date | None = None,
    actor: Any = None,
) -> QuotaPlan:
    """A draft plan for the year. The target defaults to the year's sales plan target."""
    if QuotaPlan.objects.filter(fiscal_year=fiscal_year).exists():
        raise ValidationError({"fiscal_year": f"FY{fiscal_year} already has a quota plan."})
    if sales_plan is None:
        sales_plan = SalesPlan.objects.filter(fiscal_year=fiscal_year).first()
    if target is None:
        if sales_plan is None:
            raise ValidationError({"target": "Enter a target, or make a sales plan for the year "
                                             "first."})
        target = sales_plan.bookings_target
    plan = QuotaPlan(
        fiscal_year=fiscal_year, name=name, sales_plan=sales_plan, target=target,
        over_assignment_percent=over_assignment_percent, method=method,
        seasonality_percent=seasonality_percent, ramp_schedule=ramp_schedule,
        org_as_of=org_as_of,
    )
    plan.full_clean()
    _save(plan, actor)
    return plan


@transaction.atomic
def quota_seasonality_set(
    *, plan: QuotaPlan, seasonality_percent: str, actor: Any = None
) -> QuotaPlan:
    """Set the month weights by hand (12 percentages adding up to 100; empty for flat)."""
    if seasonality_percent.strip():
        try:
            weights = parse_percentages(seasonality_percent, count=12, total=Decimal(100))
        except ValueError as exc:
            raise ValidationError({"seasonality_percent": str(exc)}) from exc
        seasonality_percent = format_percentages(weights)
    plan.seasonality_percent = seasonality_percent
    _save(plan, actor, update_fields=["seasonality_percent"])
    if plan.allocations.exists():
        quota_allocate(plan=plan, actor=actor)  # capacity depends on the month weights
    return plan


@transaction.atomic
def quota_seasonality_learn(*, plan: QuotaPlan, years: int = 2, actor: Any = None) -> QuotaPlan:
    """Set the month weights from the bookings of the `years` fiscal years before the plan's."""
    history = monthly_bookings(fiscal_years=range(plan.fiscal_year - years, plan.fiscal_year))
    weights = learn_weights(list(history.values()))
    return quota_seasonality_set(
        plan=plan, seasonality_percent=format_percentages(weights), actor=actor
    )


# -- allocation ----------------------------------------------------------------------------------


@dataclass
class AllocationResult:
    plan: QuotaPlan
    root: Node
    problems: list[Problem] = field(default_factory=list)


@transaction.atomic
def quota_allocate(
    *, plan: QuotaPlan, method: str | None = None, actor: Any = None
) -> AllocationResult:
    """Rebuild the plan's tree from today's organisation and split the target top-down.

    Manual overrides are kept (a pinned node keeps its amount, its siblings share the rest);
    nodes for teams and people no longer in the organisation go. Rows whose numbers do not
    change are left alone, so the history shows what an allocation actually moved.
    """
    plan = QuotaPlan.objects.select_for_update().get(pk=plan.pk)
    if method is not None and method != plan.method:
        if method not in AllocationMethod.values:
            raise ValidationError({"method": f"Unknown allocation method {method!r}."})
        plan.method = method
        _save(plan, actor, update_fields=["method"])
    root, objects, basis = build_org_tree(plan)
    existing = {row.key: row for row in allocation_rows(plan)}
    for node, _ in root.walk():
        row = existing.get(node.key)
        if row is not None and row.is_override and node.kind != "root":
            node.pinned_cents = to_cents(row.amount)
    allocate(root, total_cents=to_cents(plan.target), factor=plan.factor)
    root.note = root.note or basis

    rows_by_key: dict[str, QuotaAllocation] = {}
    parents: dict[str, str | None] = {}
    for node, _ in root.walk():
        for child in node.children:
            parents[child.key] = node.key
    parents["root"] = None
    for position, (node, _) in enumerate(root.walk()):
        row = existing.pop(node.key, None)
        subject = objects.get(node.key)
        if row is None:
            row = QuotaAllocation(
                plan=plan,
                team=subject if isinstance(subject, Team) else None,
                person=subject if isinstance(subject, Person) else None,
            )
        parent_key = parents[node.key]
        parent = rows_by_key[parent_key] if parent_key is not None else None
        values = {
            "parent_id": parent.pk if parent is not None else None,
            "position": position,
            "amount": from_cents(node.amount_cents),
            "weight": node.weight.quantize(Decimal("0.000001")),
            "capacity": node.capacity.quantize(Decimal("0.000001")),
            "note": node.note[:300],
        }
        if row.pk is None or any(getattr(row, k) != v for k, v in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            _save(row, actor)
        rows_by_key[node.key] = row
    # Gone from the organisation: children before parents, each deletion in the history.
    for row in sorted(existing.values(), key=lambda r: -r.position):
        record_author(row, acting_user(actor))
        row.delete()
    problems = check(root, total_cents=to_cents(plan.target), factor=plan.factor,
                     currency=require_active_tenant().currency)
    return AllocationResult(plan=plan, root=root, problems=problems)


@transaction.atomic
def quota_allocation_override(
    *, node: QuotaAllocation, amount: Decimal | None, reason: str, actor: Any = None
) -> AllocationResult:
    """Pin a team's or person's quota by hand, with a reason, and re-split around it."""
    errors = {}
    if node.kind == "root":
        raise ValidationError("The company quota is the plan's target: change the target instead.")
    if amount is None:
        errors["amount"] = "Enter the quota amount."
    elif amount < 0:
        errors["amount"] = "A quota cannot be negative."
    elif amount != amount.quantize(Decimal("0.01")):
        errors["amount"] = "Use at most two decimals (cents)."
    if not reason.strip():
        errors["reason"] = "Say why this amount is set by hand; the reason is kept with it."
    if errors:
        raise ValidationError(errors)
    assert amount is not None  # refused above
    node = QuotaAllocation.objects.select_for_update().get(pk=node.pk)
    node.amount = amount
    node.is_override = True
    node.override_reason = reason.strip()[:500]
    _save(node, actor)
    return quota_allocate(plan=node.plan, actor=actor)


@transaction.atomic
def quota_allocation_clear_override(
    *, node: QuotaAllocation, actor: Any = None
) -> AllocationResult:
    """Let allocation decide this node's amount again."""
    node = QuotaAllocation.objects.select_for_update().get(pk=node.pk)
    if node.is_override:
        node.is_override = False
        node.override_reason = ""
        _save(node, actor)
    return quota_allocate(plan=node.plan, actor=actor)


# -- applying the plan: monthly quotas, effective-dated ------------------------------------------


@dataclass
class ApplyResult:
    effective: datetime.date
    created: int = 0
    changed: int = 0
    closed: int = 0
    unchanged: int = 0
    warnings: list[str] = field(default_factory=list)


def _month_periods(plan: QuotaPlan) -> list[Period]:
    periods = list(
        Period.objects.filter(kind=PeriodKind.MONTH, fiscal_year=plan.fiscal_year)
        .order_by("start_date")
    )
    if len(periods) != 12:
        periods_generate(fiscal_years=[plan.fiscal_year])
        periods = list(
            Period.objects.filter(kind=PeriodKind.MONTH, fiscal_year=plan.fiscal_year)
            .order_by("start_date")
        )
    return periods


def annual_quotas(plan: QuotaPlan, rows: list[QuotaAllocation]) -> dict[int, tuple[int, str]]:
    """Annual cents and kind ("rep" or "manager") per person, from the allocation.

    Sellers carry their own node. A manager carries the quota of the teams they lead, counting
    only the topmost when they lead a team and one below it (the lower is inside the upper).
    """
    carriers: dict[int, tuple[int, str]] = {}
    for row in rows:
        if row.person_id is not None:
            carriers[row.person_id] = (to_cents(row.amount), "rep")
    by_pk = {row.pk: row for row in rows}
    for row in rows:
        manager_id = row.team.manager_id if row.team is not None else None
        if manager_id is None or carriers.get(manager_id, (0, ""))[1] == "rep":
            continue
        ancestor = by_pk.get(row.parent_id) if row.parent_id else None
        inside_own = False
        while ancestor is not None:
            if ancestor.team is not None and ancestor.team.manager_id == manager_id:
                inside_own = True
                break
            ancestor = by_pk.get(ancestor.parent_id) if ancestor.parent_id else None
        if not inside_own:
            cents, _ = carriers.get(manager_id, (0, "manager"))
            carriers[manager_id] = (cents + to_cents(row.amount), "manager")
    return carriers


def _rewrite_months(
    *,
    plan: QuotaPlan,
    year: PlanYear,
    periods: list[Period],
    person: Person,
    annual_cents: int | None,
    kind: str,
    effective: datetime.date,
    current: dict[int, Quota],
    reason: str,
    result: ApplyResult,
    creates: list[Quota],
    updates: list[Quota],
    actor: Any,
) -> None:
    """Bring one person's open months to `annual_cents` from `effective` (None: no quota)."""
    closed = [p.end_date <= effective for p in periods]
    kept: list[int | None] = [
        to_cents(current[p.pk].amount) if c and p.pk in current else (0 if c else None)
        for p, c in zip(periods, closed, strict=True)
    ]
    if annual_cents is None:
        months: list[int | None] = [k if c else None for k, c in zip(kept, closed, strict=True)]
    else:
        employed = employed_shares(month_starts=year.month_starts, hire_date=person.hire_date,
                                   termination_date=person.termination_date)
        ramp = year.ramp if kind == "rep" else ()
        factors = month_factors(month_starts=year.month_starts, hire_date=person.hire_date,
                                termination_date=person.termination_date, ramp=ramp)
        try:
            months = list(rephase_remaining(annual_cents, kept, year.weights, factors, employed))
        except ValueError as exc:
            raise ValidationError(f"{person.name}: {exc}") from exc
        placed = sum(m for m in months if m is not None)
        if placed != annual_cents:
            result.warnings.append(
                f"{person.name}'s months add up to {from_cents(placed):,.2f}, not the annual "
                f"quota of {from_cents(annual_cents):,.2f}: the months already over carry "
                "more, or they are not employed in the months still open."
            )
    for period, is_closed, cents in zip(periods, closed, months, strict=True):
        if is_closed:
            continue
        row = current.get(period.pk)
        if row is not None and cents is not None and to_cents(row.amount) == cents:
            result.unchanged += 1
            continue
        if row is not None and row.valid_from == effective:
            if cents is None:
                record_author(row, acting_user(actor))
                row.delete()
                result.closed += 1
            else:
                row.amount, row.reason = from_cents(cents), reason
                updates.append(row)
                result.changed += 1
            continue
        if row is not None:
            row.valid_to = effective
            updates.append(row)
            result.closed += 1
        if cents is not None:
            creates.append(Quota(plan=plan, person=person, period=period, amount=from_cents(cents),
                                 valid_from=effective, reason=reason))
            result.created += 1


def _write_quotas(
    *,
    plan: QuotaPlan,
    carriers: dict[int, tuple[int | None, str]],
    effective: datetime.date | None,
    reason: str,
    actor: Any,
    only: set[int] | None = None,
) -> ApplyResult:
    year = plan_year(plan)
    periods = _month_periods(plan)
    month_ids = [p.pk for p in periods]
    rows = Quota.objects.select_for_update().filter(period_id__in=month_ids)
    if only is not None:
        rows = rows.filter(person_id__in=only)
    rows = list(rows)
    first_time = not rows
    day = year.start if first_time else year.clamp(effective or tenant_today())
    result = ApplyResult(effective=day)
    current: dict[int, dict[int, Quota]] = {}
    later: list[Quota] = []
    for row in rows:
        if row.valid_from <= day and (row.valid_to is None or row.valid_to > day):
            current.setdefault(row.person_id, {})[row.period_id] = row
        elif row.valid_from > day:
            later.append(row)
    # Versions dated after this change are superseded by it.
    for row in later:
        record_author(row, acting_user(actor))
        row.delete()
    everyone = set(carriers) | set(current)
    if only is not None:
        everyone &= only
    people = Person.objects.in_bulk(everyone)
    creates: list[Quota] = []
    updates: list[Quota] = []
    for person_id in sorted(everyone):
        annual, kind = carriers.get(person_id, (None, "rep"))
        _rewrite_months(
            plan=plan, year=year, periods=periods, person=people[person_id],
            annual_cents=annual, kind=kind, effective=day,
            current=current.get(person_id, {}), reason=reason, result=result,
            creates=creates, updates=updates, actor=actor,
        )
    if updates:
        bulk_update_with_history(updates, Quota, ["amount", "valid_to", "reason"],
                                 default_user=acting_user(actor))
    if creates:
        bulk_create_with_history(creates, Quota, default_user=acting_user(actor))
    return result


@transaction.atomic
def quota_plan_apply(
    *, plan: QuotaPlan, effective: datetime.date | None = None, actor: Any = None
) -> ApplyResult:
    """Write everyone's monthly quotas from the allocation and publish the plan.

    Refused while the allocation does not add up. The first application covers the whole year.
    Applying again (a mid-year re-allocation) changes quotas from `effective` (default today):
    months already over keep what they carried, the rest of each new annual quota is phased
    over the months still open, and the superseded rows stay, closed, in the record.
    """
    given, plan = plan, QuotaPlan.objects.select_for_update().get(pk=plan.pk)
    rows = allocation_rows(plan)
    problems = plan_problems(plan, rows)
    if problems:
        raise ValidationError([p.message for p in problems])
    carriers: dict[int, tuple[int | None, str]] = dict(annual_quotas(plan, rows))
    result = _write_quotas(plan=plan, carriers=carriers, effective=effective,
                           reason=f"{plan.name}: allocation applied", actor=actor)
    plan.status = QuotaPlanStatus.PUBLISHED
    plan.applied_at = timezone.now()
    _save(plan, actor, update_fields=["status", "applied_at"])
    given.status, given.applied_at = plan.status, plan.applied_at  # the caller's copy too
    return result


@transaction.atomic
def quota_change(
    *,
    plan: QuotaPlan,
    person: Person,
    annual_amount: Decimal,
    effective: datetime.date,
    reason: str,
    actor: Any = None,
) -> ApplyResult:
    """Change one person's annual quota from `effective` (a promotion, a territory change).

    Months already over keep their quota; the open months carry the rest of the new amount.
    The plan's allocation is not touched: it records what was planned, quotas what is in force.
    """
    errors = {}
    if annual_amount is None or annual_amount < 0:
        errors["annual_amount"] = "A quota cannot be negative or empty."
    if not reason.strip():
        errors["reason"] = "Say why the quota changes; the reason is kept with it."
    year = plan_year(plan)
    if not year.start <= effective < year.end:
        errors["effective"] = (f"Pick a day in FY{plan.fiscal_year} ({year.start} to "
                               f"{year.end - datetime.timedelta(days=1)}).")
    if errors:
        raise ValidationError(errors)
    kind = "rep" if person.role == "rep" else "manager"
    return _write_quotas(
        plan=plan, carriers={person.pk: (to_cents(annual_amount), kind)}, effective=effective,
        reason=reason.strip()[:500], actor=actor, only={person.pk},
    )


# -- quota letters -------------------------------------------------------------------------------


@transaction.atomic
def quota_acknowledge(
    *, plan: QuotaPlan, person: Person, user: Any, now: datetime.datetime | None = None
) -> QuotaAcknowledgement:
    """Record that `person` has seen and accepted their quota as it stands now."""
    from .selectors import quota_letter

    if not plan.is_published:
        raise ValidationError("This quota plan is not published yet.")
    now = now or timezone.now()
    letter = quota_letter(plan=plan, person=person, on=tenant_today(now=now))
    if letter is None:
        raise ValidationError("You have no quota in this plan to acknowledge.")
    existing = QuotaAcknowledgement.objects.filter(
        plan=plan, person=person, annual_amount=letter.annual
    ).first()
    if existing is not None:
        return existing
    return QuotaAcknowledgement.objects.create(
        plan=plan, person=person, annual_amount=letter.annual, acknowledged_at=now,
        acknowledged_by=acting_user(user),
    )
