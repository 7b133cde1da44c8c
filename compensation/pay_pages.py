"""What finance's pay pages read: each month's pay cycle, and one period's payees, approvals,
transitions and exports (a fixed number of queries, whatever the number of payees)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Sum

from compensation.models import (
    PayCycle,
    PayCycleStatus,
    PayCycleTransition,
    PayeeApproval,
    PayeePeriodResult,
    PayrollExport,
    PaySettings,
)
from spm.org.models import Period, PeriodKind, Person


@dataclass
class MonthCycle:
    period: Period
    status: str
    status_label: str
    payees: int
    total: Decimal
    exported: bool


def month_cycles(*, limit: int = 24) -> list[MonthCycle]:
    """The months with results or a cycle, latest first, with their status and totals."""
    totals = {row["period_id"]: row for row in PayeePeriodResult.objects
              .filter(period__kind=PeriodKind.MONTH).values("period_id")
              .annotate(payees=Count("payee_id", distinct=True), total=Sum("total"))}
    cycles = {c.period_id: c for c in PayCycle.objects.filter(period__kind=PeriodKind.MONTH)}
    exported = set(PayrollExport.objects.values_list("cycle__period_id", flat=True))
    ids = set(totals) | set(cycles)
    months = Period.objects.filter(pk__in=sorted(ids)).order_by("-start_date")[:limit]
    out = []
    for month in months:
        cycle = cycles.get(month.pk)
        status = cycle.status if cycle else PayCycleStatus.OPEN
        row = totals.get(month.pk, {})
        out.append(MonthCycle(
            period=month, status=status,
            status_label="Locked" if month.is_locked else PayCycleStatus(status).label,
            payees=row.get("payees", 0), total=row.get("total") or Decimal("0.00"),
            exported=month.pk in exported))
    return out


@dataclass
class PayeeRow:
    payee: Person
    total: Decimal
    approval: PayeeApproval | None
    changed_since_approval: bool


@dataclass
class CyclePage:
    period: Period
    cycle: PayCycle | None
    status: str
    rows: list[PayeeRow] = field(default_factory=list)
    total: Decimal = Decimal("0.00")
    approved_total: Decimal = Decimal("0.00")
    waiting_second: int = 0
    threshold: Decimal | None = None
    transitions: list[PayCycleTransition] = field(default_factory=list)
    exports: list[PayrollExport] = field(default_factory=list)


def cycle_page(*, period: Period) -> CyclePage:
    cycle = PayCycle.objects.filter(period=period).first()
    results = list(PayeePeriodResult.objects.filter(period=period).select_related("payee")
                   .order_by("payee__name", "payee_id"))
    approvals: dict[int, PayeeApproval] = {}
    transitions: list[PayCycleTransition] = []
    exports: list[PayrollExport] = []
    if cycle is not None:
        approvals = {a.payee_id: a for a in cycle.approvals.select_related(
            "approved_by", "second_approved_by")}
        transitions = list(cycle.transitions.select_related("actor", "payee"))
        exports = list(PayrollExport.objects.filter(cycle=cycle).defer("content", "summary")
                       .select_related("created_by"))
    settings = PaySettings.objects.first()
    page = CyclePage(period=period, cycle=cycle,
                     status=cycle.status if cycle else PayCycleStatus.OPEN,
                     threshold=settings.second_approval_above if settings else None,
                     transitions=transitions, exports=exports)
    for result in results:
        approval = approvals.get(result.payee_id)
        page.rows.append(PayeeRow(
            payee=result.payee, total=result.total, approval=approval,
            changed_since_approval=approval is not None and approval.amount != result.total))
        page.total += result.total
        if approval is not None and approval.complete:
            page.approved_total += approval.amount
        if approval is not None and not approval.complete:
            page.waiting_second += 1
    return page


def cycles_for_home(*, statuses: tuple[str, ...], limit: int = 6) -> list[PayCycle]:
    """Cycles in these statuses, latest month first (the finance home's cards)."""
    return list(PayCycle.objects.filter(status__in=statuses).select_related("period")
                .order_by("-period__start_date")[:limit])
