"""The one road from a change to the statements: build a month's credits, then calculate it.

`period_recompute` is the only way results change: it builds the credits of the period's months
and runs the calculation in one transaction, under the per-(tenant, month) locks. A change
records what it touched with `recompute_request` (in its own transaction, so a rolled-back change
asks for nothing); `recompute_pending` then applies every waiting request at once, for only the
deals, payees and months they touch. The nightly run of every open month is the authority, and a
test holds it to the same lines.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from compensation.models import (
    FROZEN_STATUSES,
    Adjustment,
    AdjustmentStatus,
    AssignmentPeriod,
    CalculationRun,
    CompPlan,
    Credit,
    CreditDateField,
    DealCancellation,
    PayCycle,
    PayCycleStatus,
    PayeePeriodResult,
    Payout,
    RecomputeRequest,
    RunScope,
    RunStatus,
)
from compensation.services.crediting import credits_build
from compensation.services.paycycle import frozen_period_ids
from compensation.services.runs import (
    PeriodLockedError,
    calculation_run,
    lock_months,
    run_failed,
    totals_if_recalculated,
)
from spm.crm.models import Deal
from spm.org.models import Period, PeriodKind, PeriodStatus
from spm.tenancy.actors import acting_user
from spm.tenancy.context import require_active_tenant
from spm.tenancy.models import Tenant
from spm.tenancy.today import tenant_today

logger = logging.getLogger(__name__)

# Past this many deals or payees in one request, recomputing everyone is as cheap and simpler.
MAX_TOUCHED = 2000
_muted: ContextVar[bool] = ContextVar("compensation_recompute_muted", default=False)


# ---- recording a change --------------------------------------------------------------------


@contextlib.contextmanager
def recompute_requests_muted() -> Iterator[None]:
    """Record no requests inside (the demo builder writes a world, then calculates it whole)."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def recompute_request(*, deal_ids: Iterable[int] = (), payee_ids: Iterable[int] = (),
                      everything: bool = False, reason: str = "") -> bool:
    """Record, in the caller's transaction, that these deals or payees (or everything) changed;
    True if anything was recorded. The caller sends the recompute once it commits."""
    if _muted.get():
        return False
    require_active_tenant()
    deals = {int(d) for d in deal_ids if d is not None}
    payees = {int(p) for p in payee_ids if p is not None}
    reason = reason[:64]
    if everything or len(deals) + len(payees) > MAX_TOUCHED:
        rows = [RecomputeRequest(everything=True, reason=reason)]
    else:
        rows = ([RecomputeRequest(deal_id=d, reason=reason) for d in sorted(deals)]
                + [RecomputeRequest(payee_id=p, reason=reason) for p in sorted(payees)])
    if not rows:
        return False
    RecomputeRequest.objects.bulk_create(rows)
    return True


# ---- the recompute -------------------------------------------------------------------------


def period_recompute(*, period: Period, actor: Any = None,
                     deal_ids: Collection[int] | None = None,
                     payee_ids: Collection[int] | None = None,
                     strict: bool = False) -> CalculationRun:
    """Build the credits of `period`'s months, then calculate it, in one transaction.

    With `deal_ids`, only those deals are credited again; with `payee_ids`, only those payees are
    calculated (the caller names every payee the deals' old and new credits reach). Without
    either, everything: what the nightly run, the Recalculate button and `manage.py recalc` do.
    A failed run keeps the previous credits and results and says why on the run (raised instead
    when `strict`). Raises PeriodLockedError for a locked period.
    """
    tenant = require_active_tenant()

    def build(months: Sequence[Period]) -> None:
        for month in months:
            credits_build(period=month, actor=actor, deal_ids=deal_ids)

    return calculation_run(tenant=tenant, period=period, actor=actor, payee_ids=payee_ids,
                           prepare=build, strict=strict)


def open_months(*, on: datetime.date) -> list[Period]:
    """Open months from the start of the fiscal year holding `on` through the month holding it."""
    current = Period.objects.filter(kind=PeriodKind.MONTH, start_date__lte=on,
                                    end_date__gt=on).first()
    if current is None:
        return []
    # Approved or paid months behave as locked until finance reopens them.
    return list(Period.objects.filter(kind=PeriodKind.MONTH, fiscal_year=current.fiscal_year,
                                      start_date__lte=current.start_date)
                .exclude(status=PeriodStatus.LOCKED)
                .exclude(pk__in=PayCycle.objects.filter(status__in=FROZEN_STATUSES)
                         .values("period_id"))
                .order_by("start_date"))


def recompute_open_months(*, actor: Any = None) -> list[CalculationRun]:
    """Recompute every open month of the fiscal year so far, everyone, oldest first."""
    runs = []
    for month in open_months(on=tenant_today()):
        with transaction.atomic():
            runs.append(period_recompute(period=month, actor=actor))
    return runs


def calculate_years(*, tenant: Tenant, through: datetime.date,
                    actor: Any = None) -> list[CalculationRun]:
    """One recompute per fiscal year that has plan assignments and starts by `through`, oldest
    first (what seed_demo does so every rep has statements); locked years are left as they
    are."""
    years = Period.objects.filter(
        kind=PeriodKind.YEAR, start_date__lte=through,
        fiscal_year__in=AssignmentPeriod.objects.values("period__fiscal_year"),
    ).order_by("start_date")
    runs = []
    for year in years:
        try:
            with transaction.atomic():
                runs.append(period_recompute(period=year, actor=actor))
        except PeriodLockedError:
            continue
    return runs


# ---- applying the waiting changes ----------------------------------------------------------


@dataclass
class PendingOutcome:
    """What one pass over the waiting requests did."""

    requests: int = 0
    runs: list[CalculationRun] = field(default_factory=list)
    failed: CalculationRun | None = None
    skipped_locked: list[str] = field(default_factory=list)
    prior_period: list[Adjustment] = field(default_factory=list)


def _months_touching(deal_ids: Collection[int]) -> set[int]:
    """Months where the deals have credits now, or could have after crediting again: the
    months of their close and created dates and of their cancellations (two queries)."""
    months = set(Credit.objects.filter(deal_id__in=sorted(deal_ids))
                 .values_list("period_id", flat=True).distinct())
    days: set[datetime.date] = set()
    # A deal is credited on its close date, or its created date where a plan says so.
    by_created = CompPlan.objects.filter(credit_date_field=CreditDateField.CREATED_DATE).exists()
    for close, created in Deal.objects.filter(pk__in=sorted(deal_ids)).values_list(
            "close_date", "created_date"):
        days.update(d for d in (close, created if by_created else None) if d is not None)
    days.update(DealCancellation.objects.filter(deal_id__in=sorted(deal_ids))
                .values_list("cancel_date", flat=True))
    if days:
        calendar = Period.objects.filter(kind=PeriodKind.MONTH, start_date__lte=max(days),
                                         end_date__gt=min(days))
        for pk, start, end in calendar.values_list("pk", "start_date", "end_date"):
            if any(start <= day < end for day in days):
                months.add(pk)
    return months


def _payees_of(deal_ids: Collection[int], month_ids: Collection[int]) -> set[int]:
    return set(Credit.objects.filter(deal_id__in=sorted(deal_ids), period_id__in=sorted(month_ids))
               .values_list("payee_id", flat=True).distinct())


def recompute_pending(*, actor: Any = None, limit: int = 50_000) -> PendingOutcome:
    """Apply every waiting request of the active tenant, for the deals, payees and months they
    touch, inside the caller's transaction; the applied requests are deleted.

    A deal's credits are rebuilt in each month it had or may now have credits; the payees of
    its old and new credits, and the payees named, are calculated from the first month touched
    through the last month so far of that fiscal year (later months read earlier ones through
    year-to-date windows). Locked months, and months whose pay is approved or paid (until
    finance reopens them), are left as they are and named on the runs. Everything is applied in one
    savepoint: if any calculation fails, no credit or result changes, the failure is recorded on
    a run, and the requests wait for the next pass.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("recompute_pending runs inside tenant_context(tenant)")
    tenant = require_active_tenant()
    requests = list(RecomputeRequest.objects.select_for_update(skip_locked=True)
                    .order_by("pk")[:limit])
    outcome = PendingOutcome(requests=len(requests))
    if not requests:
        return outcome
    today = tenant_today()
    current = open_months(on=today)
    deal_ids = {r.deal_id for r in requests if r.deal_id is not None}
    payee_ids = {r.payee_id for r in requests if r.payee_id is not None}
    first: Period | None = None
    try:
        with transaction.atomic():
            if any(r.everything for r in requests):
                outcome.skipped_locked = _frozen_so_far(today)
                for month in current:
                    first = first or month
                    outcome.runs.append(period_recompute(period=month, actor=actor,
                                                         strict=True))
            else:
                scope = _scope(tenant=tenant, deal_ids=deal_ids, payee_ids=payee_ids,
                               current=current, today=today)
                outcome.skipped_locked = [str(m) for m in scope.locked]
                outcome.prior_period = _prior_period_adjustments(
                    tenant=tenant, scope=scope, deal_ids=deal_ids, actor=actor)
                for month in scope.credit_months:
                    credits_build(period=month, actor=actor, deal_ids=deal_ids)
                payees = scope.payees | _payees_of(deal_ids, [m.pk for m in scope.credit_months])
                for month in scope.run_months:
                    first = first or month
                    outcome.runs.append(calculation_run(
                        tenant=tenant, period=month, actor=actor, payee_ids=payees,
                        strict=True))
    except Exception as exc:
        if getattr(getattr(exc, "__cause__", None), "pgcode", None) == "55P03":
            raise  # a lock wait timed out: the task retries
        outcome.runs = []
        outcome.failed = _record_failure(month=first or (current[-1] if current else None),
                                         error=exc, actor=actor)
        return outcome
    RecomputeRequest.objects.filter(pk__in=[r.pk for r in requests]).delete()
    if outcome.skipped_locked:  # say on each run which months it was not allowed to change
        for run in outcome.runs:
            run.inputs = {**run.inputs, "skipped_final_months": outcome.skipped_locked}
            run.save(update_fields=["inputs"])
    return outcome


def _frozen_so_far(today: datetime.date) -> list[str]:
    """Months of the fiscal year so far a recompute of everything leaves as they are."""
    current = Period.objects.filter(kind=PeriodKind.MONTH, start_date__lte=today,
                                    end_date__gt=today).first()
    if current is None:
        return []
    months = list(Period.objects.filter(kind=PeriodKind.MONTH,
                                        fiscal_year=current.fiscal_year,
                                        start_date__lte=current.start_date)
                  .order_by("start_date"))
    frozen = frozen_period_ids([m.pk for m in months])
    return [str(m) for m in months if m.is_locked or m.pk in frozen]


@dataclass
class _Scope:
    credit_months: list[Period]  # where the deals' credits are built again, in order
    run_months: list[Period]  # what is calculated for `payees`, in order
    payees: set[int]  # named, or holding the deals' credits before they are built again
    locked: list[Period]
    final_touched: list[Period] = field(default_factory=list)  # locked or paid, deals moved


def _scope(*, tenant: Tenant, deal_ids: set[int], payee_ids: set[int], current: list[Period],
           today: datetime.date) -> _Scope:
    """What the requests touch. Every month it may write is locked first, in month order (as
    a full run locks its own), so a run of everyone in progress finishes before the deals'
    credits are read, and none starts until this pass commits."""
    touched = _months_touching(deal_ids) if deal_ids else set()
    years = set(Period.objects.filter(pk__in=touched).values_list("fiscal_year", flat=True))
    if payee_ids and current:
        years.add(current[0].fiscal_year)
    candidates = list(Period.objects.filter(kind=PeriodKind.MONTH, fiscal_year__in=years,
                                            start_date__lte=today)
                      .order_by("start_date", "pk"))
    lock_months(tenant=tenant, months=candidates)
    if deal_ids:  # read again under the locks: a run that just finished may have moved them
        touched = _months_touching(deal_ids)
    payees = set(payee_ids) | (_payees_of(deal_ids, touched) if deal_ids else set())
    starts: dict[int, datetime.date] = {}
    for month in candidates:
        if month.pk in touched:
            starts.setdefault(month.fiscal_year, month.start_date)
    if payee_ids and current:
        year = current[0].fiscal_year
        starts[year] = min(starts.get(year, current[0].start_date), current[0].start_date)
    credit_months, run_months, locked = [], [], []
    frozen = frozen_period_ids([m.pk for m in candidates])
    paid = set(PayCycle.objects.filter(period_id__in=sorted(frozen), status=PayCycleStatus.PAID)
               .values_list("period_id", flat=True))
    final_touched: list[Period] = []
    for month in candidates:
        start = starts.get(month.fiscal_year)
        if start is None or month.start_date < start:
            continue
        if month.is_locked or month.pk in frozen:
            locked.append(month)  # it would have been calculated: say it was not
            if month.pk in touched and (month.is_locked or month.pk in paid):
                final_touched.append(month)
            continue
        if month.pk in touched:
            credit_months.append(month)
        run_months.append(month)
    return _Scope(credit_months=credit_months, run_months=run_months, payees=payees,
                  locked=locked, final_touched=final_touched)


PRIOR_PERIOD = "Prior-period adjustment for "


def _next_open_month(month: Period) -> Period | None:
    """The first month after `month` still open for pay (not locked, approved or paid)."""
    return (Period.objects.filter(kind=PeriodKind.MONTH, start_date__gt=month.start_date)
            .exclude(status=PeriodStatus.LOCKED)
            .exclude(pk__in=PayCycle.objects.filter(status__in=FROZEN_STATUSES)
                     .values("period_id"))
            .order_by("start_date").first())


def _prior_period_adjustments(*, tenant: Tenant, scope: _Scope, deal_ids: set[int],
                              actor: Any) -> list[Adjustment]:
    """A locked or paid month never changes: what a change to its deals would now make it pay
    (computed by the real engine and rolled back) less what it paid, and less earlier
    adjustments for it, becomes an approved adjustment in the next open month (calculated here
    when that month has begun, else when it is calculated)."""
    made: list[Adjustment] = []
    for month in scope.final_touched:
        target = _next_open_month(month)
        if target is None or not scope.payees:
            continue
        def prepare(_months: Sequence[Period], month: Period = month) -> None:
            # credits_build refuses a locked month: open it inside the dry run's savepoint,
            # which rolls this back with the credits it builds.
            Period.objects.filter(pk=month.pk).update(status=PeriodStatus.OPEN)
            credits_build(period=month, actor=actor, deal_ids=deal_ids)

        now = totals_if_recalculated(tenant=tenant, month=month, payee_ids=scope.payees,
                                     prepare=prepare)
        payees = sorted(scope.payees)
        paid = dict(Payout.objects.filter(period=month, payee_id__in=payees)
                    .values_list("payee_id", "amount"))
        before = dict(PayeePeriodResult.objects.filter(period=month, payee_id__in=payees)
                      .values_list("payee_id", "total"))
        label = f"{PRIOR_PERIOD}{month}"
        earlier = dict(Adjustment.objects.filter(reason__startswith=label, payee_id__in=payees)
                       .values("payee_id").annotate(total=Sum("amount"))
                       .values_list("payee_id", "total"))
        zero = Decimal("0.00")
        for payee in payees:
            was: Decimal = paid[payee] if payee in paid else (before.get(payee) or zero)
            delta = now.get(payee, zero) - was - (earlier.get(payee) or zero)
            if delta:
                made.append(Adjustment.objects.create(
                    payee_id=payee, period=target, amount=delta,
                    reason=f"{label}: it paid {was}, its deals now give {now.get(payee, zero)}",
                    status=AdjustmentStatus.APPROVED, approved_at=timezone.now()))
    return made


def _record_failure(*, month: Period | None, error: BaseException,
                    actor: Any) -> CalculationRun | None:
    if month is None:
        logger.warning("recompute of pending changes failed: %s", error)
        return None
    now = timezone.now()
    run = CalculationRun.objects.create(
        period=month, status=RunStatus.RUNNING, requested_at=now, started_at=now,
        requested_by=acting_user(actor),
        scope=RunScope.PAYEES)
    run_failed(run=run, error=error, seconds=0.0)
    return run


__all__ = [
    "PendingOutcome",
    "calculate_years",
    "open_months",
    "period_recompute",
    "recompute_open_months",
    "recompute_pending",
    "recompute_request",
    "recompute_requests_muted",
]
