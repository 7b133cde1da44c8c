"""A period's pay cycle: calculated → in review → approved (payee by payee or whole, twice above
the tenant's threshold) → paid (by the payroll export) → locked. Reopening needs a reason.

Every service locks the cycle row (select_for_update) and the period's months (the advisory locks
calculation runs hold), so two approvals, an approval and an export, or an approval and a running
recompute happen one after the other, never interleaved. Every transition is a
PayCycleTransition row: who, when, why.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from compensation.models import (
    FROZEN_STATUSES,
    PayCycle,
    PayCycleStatus,
    PayCycleTransition,
    PayeeApproval,
    PayeePeriodResult,
    PaySettings,
)
from compensation.selectors import months_of
from compensation.services.runs import lock_months
from spm.org.models import Period, PeriodStatus
from spm.org.services import period_set_status
from spm.tenancy.actors import acting_user
from spm.tenancy.context import require_active_tenant

S = PayCycleStatus


def paycycle_of(*, period: Period) -> PayCycle:
    """The period's cycle, made (open) the first time anyone asks."""
    cycle, _ = PayCycle.objects.get_or_create(period=period)
    return cycle


def frozen_period_ids(period_ids: Collection[int]) -> set[int]:
    """Of these periods, those approved or paid: a recompute must leave them as they are."""
    return set(PayCycle.objects.filter(period_id__in=sorted(period_ids),
                                       status__in=FROZEN_STATUSES)
               .values_list("period_id", flat=True))


def paycycle_for_update(*, period: Period) -> PayCycle:
    """The cycle, locked with its months until the transaction ends (call inside one)."""
    tenant = require_active_tenant()
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("pay cycle services run inside tenant_context(tenant)")
    # The months first, in the order runs take them, so a recompute in progress finishes
    # before the amounts are read, and none starts until this commits.
    lock_months(tenant=tenant, months=months_of(period))
    paycycle_of(period=period)
    return PayCycle.objects.select_for_update().select_related("period").get(period=period)


def _record(*, cycle: PayCycle, action: str, to: str, actor: Any, reason: str = "",
            payee_id: int | None = None) -> None:
    PayCycleTransition.objects.create(
        cycle=cycle, payee_id=payee_id, action=action, from_status=cycle.status, to_status=to,
        actor=acting_user(actor), at=timezone.now(), reason=reason)
    if cycle.status != to:
        cycle.status = to
        cycle.save(update_fields=["status", "updated_at"])


def _refuse_locked(cycle: PayCycle, doing: str) -> None:
    if cycle.period.status == PeriodStatus.LOCKED:
        raise ValidationError(f"{cycle.period} is locked, so its pay is final: it cannot be "
                              f"{doing}.")


def paycycles_calculated(*, periods: Sequence[Period], actor: Any = None,
                         reason: str = "") -> None:
    """A run wrote results for these periods: open cycles become calculated (a cycle further
    on is not moved back; runs cannot reach approved ones)."""
    for period in periods:
        cycle = paycycle_of(period=period)
        if cycle.status == S.OPEN:
            _record(cycle=cycle, action="calculated", to=S.CALCULATED, actor=actor,
                    reason=reason)
        elif cycle.status == S.IN_REVIEW:
            _withdraw_stale(cycle=cycle, actor=actor, reason=reason)


def _withdraw_stale(*, cycle: PayCycle, actor: Any, reason: str) -> None:
    """A recalculation during review withdraws the approvals of amounts it changed: what is
    approved is always what is paid."""
    totals = dict(PayeePeriodResult.objects.filter(period=cycle.period)
                  .values_list("payee_id", "total"))
    for approval in cycle.approvals.all():
        now = totals.get(approval.payee_id)
        if now != approval.amount:
            approval.delete()
            _record(cycle=cycle, action="approval withdrawn", to=cycle.status, actor=actor,
                    payee_id=approval.payee_id,
                    reason=f"{reason}: the amount changed from {approval.amount} to "
                           f"{now if now is not None else 'nothing'}.")


def _results(period: Period) -> list[PayeePeriodResult]:
    return list(PayeePeriodResult.objects.filter(period=period)
                .select_related("payee").order_by("payee__name", "payee_id"))


def paycycle_submit(*, period: Period, actor: Any, reason: str = "") -> PayCycle:
    """Send a calculated period to finance's review."""
    with transaction.atomic():
        cycle = paycycle_for_update(period=period)
        _refuse_locked(cycle, "submitted for review")
        if cycle.status not in (S.OPEN, S.CALCULATED):
            raise ValidationError(f"{period} is {cycle.get_status_display().lower()}, so it "
                                  "cannot be submitted for review again.")
        if not PayeePeriodResult.objects.filter(period=period).exists():
            raise ValidationError(f"{period} has no calculated results: calculate it first.")
        _record(cycle=cycle, action="submitted", to=S.IN_REVIEW, actor=actor, reason=reason)
        return cycle


def _threshold() -> Decimal | None:
    settings = PaySettings.objects.first()
    return settings.second_approval_above if settings else None


def _maybe_approved(cycle: PayCycle, actor: Any) -> None:
    """The cycle is approved once every payee with results is, completely."""
    payees = set(PayeePeriodResult.objects.filter(period=cycle.period)
                 .values_list("payee_id", flat=True))
    done = {a.payee_id for a in cycle.approvals.all() if a.complete}
    if payees and payees <= done:
        _record(cycle=cycle, action="approved", to=S.APPROVED, actor=actor,
                reason="Every payee approved.")


def paycycle_approve(*, period: Period, actor: Any, payee_ids: Collection[int] | None = None,
                     reason: str = "") -> PayCycle:
    """Approve the period's pay for these payees (every payee when None): each approval records
    the amount as it stands. Amounts above the tenant's threshold wait for a second approver."""
    user = acting_user(actor)
    if user is None:
        raise ValidationError("An approval is made by a signed-in person.")
    with transaction.atomic():
        cycle = paycycle_for_update(period=period)
        _refuse_locked(cycle, "approved")
        if cycle.status != S.IN_REVIEW:
            raise ValidationError(f"{period} is {cycle.get_status_display().lower()}: only a "
                                  "period in review is approved.")
        results = _results(period)
        if payee_ids is not None:
            wanted = set(payee_ids)
            results = [r for r in results if r.payee_id in wanted]
            missing = wanted - {r.payee_id for r in results}
            if missing:
                raise ValidationError(f"{len(missing)} of the payees chosen have no results "
                                      f"in {period}.")
        already = set(cycle.approvals.values_list("payee_id", flat=True))
        threshold = _threshold()
        now = timezone.now()
        currency = require_active_tenant().currency
        fresh = [r for r in results if r.payee_id not in already]
        if not fresh:
            raise ValidationError("Everyone chosen is already approved.")
        PayeeApproval.objects.bulk_create([
            PayeeApproval(cycle=cycle, payee_id=r.payee_id, amount=r.total, currency=currency,
                          needs_second=threshold is not None and r.total > threshold,
                          approved_by=user, approved_at=now)
            for r in fresh])
        for r in fresh:
            _record(cycle=cycle, action="payee approved", to=cycle.status, actor=user,
                    reason=reason, payee_id=r.payee_id)
        _maybe_approved(cycle, user)
        return cycle


def paycycle_second_approve(*, period: Period, actor: Any,
                            payee_ids: Collection[int] | None = None,
                            reason: str = "") -> PayCycle:
    """Give the second approval to payees above the threshold; never by their first approver."""
    user = acting_user(actor)
    if user is None:
        raise ValidationError("An approval is made by a signed-in person.")
    with transaction.atomic():
        cycle = paycycle_for_update(period=period)
        _refuse_locked(cycle, "approved")
        if cycle.status != S.IN_REVIEW:
            raise ValidationError(f"{period} is {cycle.get_status_display().lower()}: only a "
                                  "period in review is approved.")
        waiting = [a for a in cycle.approvals.select_related("payee")
                   if a.needs_second and a.second_approved_by_id is None
                   and (payee_ids is None or a.payee_id in set(payee_ids))]
        if not waiting:
            raise ValidationError("No approval chosen is waiting for a second approver.")
        own = [a for a in waiting if a.approved_by_id == user.pk]
        if own:
            names = ", ".join(a.payee.name for a in own[:5])
            raise ValidationError(f"You gave the first approval for {names}: the second "
                                  "approval must come from someone else.")
        now = timezone.now()
        for approval in waiting:
            approval.second_approved_by = user
            approval.second_approved_at = now
            approval.save(update_fields=["second_approved_by", "second_approved_at"])
            _record(cycle=cycle, action="payee second approval", to=cycle.status, actor=user,
                    reason=reason, payee_id=approval.payee_id)
        _maybe_approved(cycle, user)
        return cycle


def paycycle_reopen(*, period: Period, actor: Any, reason: str) -> PayCycle:
    """Take an approved (or in-review) period back to calculated, so it can be recalculated;
    its approvals are withdrawn. A paid or locked period is not reopened: it has been paid."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the period is reopened: the reason is kept "
                                         "with the approvals it withdraws."})
    with transaction.atomic():
        cycle = paycycle_for_update(period=period)
        _refuse_locked(cycle, "reopened")
        if cycle.status == S.PAID:
            raise ValidationError(f"{period} has been exported to payroll and paid: it cannot "
                                  "be reopened; a later change becomes an adjustment in the "
                                  "next open period.")
        if cycle.status not in (S.IN_REVIEW, S.APPROVED):
            raise ValidationError(f"{period} is {cycle.get_status_display().lower()}: there is "
                                  "nothing to reopen.")
        cycle.approvals.all().delete()
        _record(cycle=cycle, action="reopened", to=S.CALCULATED, actor=actor, reason=reason)
        return cycle


def paycycle_paid(*, cycle: PayCycle, actor: Any, reason: str) -> None:
    """Called by the payroll export, under the cycle's lock, once its payouts are written."""
    _record(cycle=cycle, action="exported", to=S.PAID, actor=actor, reason=reason)


def paycycle_lock(*, period: Period, actor: Any, reason: str = "") -> PayCycle:
    """Lock a paid period: from now on nothing in it changes."""
    with transaction.atomic():
        cycle = paycycle_for_update(period=period)
        _refuse_locked(cycle, "locked again")
        if cycle.status != S.PAID:
            raise ValidationError(f"{period} is {cycle.get_status_display().lower()}: a period "
                                  "is locked once its payroll has been exported.")
        period_set_status(period=period, status=PeriodStatus.LOCKED)
        cycle.period.status = PeriodStatus.LOCKED
        _record(cycle=cycle, action="locked", to=cycle.status, actor=actor,
                reason=reason or "Locked: its pay is final.")
        return cycle


__all__ = [
    "frozen_period_ids",
    "paycycle_approve",
    "paycycle_for_update",
    "paycycle_lock",
    "paycycle_of",
    "paycycle_paid",
    "paycycle_reopen",
    "paycycle_second_approve",
    "paycycle_submit",
    "paycycles_calculated",
]
