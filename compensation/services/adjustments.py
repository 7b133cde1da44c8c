"""Adjustments entered by finance and approved by somebody else, and holds on pay.

An approved adjustment reaches the statement only through a recalculation: saving it asks the
recompute of its payee (compensation.tasks), and the engine turns approved rows into lines
carrying `reason`. A recurring adjustment is written as one pending row per month from its
first period to its last, linked to the first (`series`), so each month is approved, shown and
stopped on its own. Nothing is written into a locked period.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from compensation.models import Adjustment, AdjustmentReason, AdjustmentStatus, Hold, LineItem
from compensation.services.notifications import notify_roles
from spm.crm.models import Deal
from spm.org.models import Period, PeriodKind, PeriodStatus, Person
from spm.tenancy.actors import acting_user
from spm.tenancy.history import record_author
from spm.tenancy.models import Role

MAX_AMOUNT = Decimal("1000000000")  # a typo guard well below the column's limit


def _locked_error(period: Period, field: str = "period") -> ValidationError:
    return ValidationError({field: f"{period} is locked, so its pay is final: enter the "
                                   "adjustment in the next open period instead."})


def _months_between(first: Period, last: Period | None) -> list[Period]:
    if last is None:
        return [first]
    if last.start_date < first.start_date:
        raise ValidationError({"repeat_until": f"The last month ({last}) is before the first "
                                               f"({first})."})
    return list(Period.objects.filter(kind=PeriodKind.MONTH, start_date__gte=first.start_date,
                                      start_date__lte=last.start_date).order_by("start_date"))


def _reason_text(reason_code: AdjustmentReason, comment: str) -> str:
    text = reason_code.label if not comment else f"{reason_code.label}: {comment}"
    return text[:500]


@transaction.atomic
def adjustment_create(*, payee: Person, period: Period, amount: Decimal,
                      reason_code: AdjustmentReason, comment: str = "",
                      repeat_until: Period | None = None, deal: Deal | None = None,
                      actor: Any = None) -> list[Adjustment]:
    """Enter an adjustment (one per month through `repeat_until` when it recurs), pending the
    approval of someone else. Refused, nothing written, when the amount is zero or absurd, the
    reason is inactive, the period is not a month, or any month it reaches is locked."""
    user = acting_user(actor)
    if amount is None or amount == 0:
        raise ValidationError({"amount": "An adjustment of zero changes nothing: enter a "
                                         "positive amount to pay more, negative to pay less."})
    if abs(amount) >= MAX_AMOUNT:
        raise ValidationError({"amount": f"{amount} is beyond any plausible adjustment."})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({"amount": "An adjustment is in whole cents (two decimals)."})
    if not reason_code.is_active:
        raise ValidationError({"reason_code": f"The reason {reason_code} is no longer in use."})
    if period.kind != PeriodKind.MONTH:
        raise ValidationError({"period": "Adjustments go into a month; choose one of the "
                                         f"months of {period}."})
    if repeat_until is not None and repeat_until.kind != PeriodKind.MONTH:
        raise ValidationError({"repeat_until": "The last month of a recurring adjustment is a "
                                               "month."})
    months = _months_between(period, repeat_until)
    # Lock the months so a period cannot be locked while we write into it.
    locked = Period.objects.select_for_update().filter(pk__in=[m.pk for m in months],
                                                       status=PeriodStatus.LOCKED).first()
    if locked is not None:
        raise _locked_error(locked, "period" if locked.pk == period.pk else "repeat_until")
    created: list[Adjustment] = []
    for month in months:
        adjustment = Adjustment(payee=payee, period=month, amount=amount, deal=deal,
                                reason=_reason_text(reason_code, comment),
                                reason_code=reason_code, comment=comment, created_by=user,
                                series=created[0] if created else None)
        record_author(adjustment, user)
        adjustment.save()
        created.append(adjustment)
    notify_roles(roles=(Role.FINANCE, Role.ADMIN), exclude=user,
                 message=f"Adjustment of {amount} for {payee} in {period} awaits approval.",
                 url_name="compensation:adjustment-list", email=False)
    return created


def _pending_for_update(adjustment: Adjustment) -> Adjustment:
    current = (Adjustment.objects.select_for_update().select_related("period")
               .get(pk=adjustment.pk))
    if current.status != AdjustmentStatus.PENDING:
        raise ValidationError(f"This adjustment is already {current.get_status_display().lower()}.")
    if current.period.is_locked:
        raise _locked_error(current.period)
    return current


@transaction.atomic
def adjustment_approve(*, adjustment: Adjustment, actor: Any) -> Adjustment:
    """Approve a pending adjustment; its payee is recalculated once the approval commits.
    Whoever entered it cannot approve it."""
    user = acting_user(actor)
    current = _pending_for_update(adjustment)
    if user is None or current.created_by_id == user.pk:
        raise ValidationError("You entered this adjustment, so someone else approves it: "
                              "two people see every manual change to pay.")
    current.status = AdjustmentStatus.APPROVED
    current.approved_by = user
    current.approved_at = timezone.now()
    record_author(current, user)
    current.save()  # post_save asks the recompute of the payee
    return current


@transaction.atomic
def adjustment_reject(*, adjustment: Adjustment, reason: str, actor: Any) -> Adjustment:
    """Reject a pending adjustment, saying why; it never reaches a statement."""
    user = acting_user(actor)
    if not reason.strip():
        raise ValidationError({"rejection_reason": "Say why the adjustment is rejected."})
    current = _pending_for_update(adjustment)
    current.status = AdjustmentStatus.REJECTED
    current.rejection_reason = reason.strip()[:500]
    current.approved_by = user
    current.approved_at = timezone.now()
    record_author(current, user)
    current.save()
    return current


@transaction.atomic
def hold_place(*, payee: Person, period: Period, reason: str,
               line_item: LineItem | None = None, actor: Any = None) -> Hold:
    """Hold back one line, or (no line) everything of the payee's period, until released."""
    user = acting_user(actor)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the pay is held: the payee reads it."})
    if period.is_locked:
        raise ValidationError({"period": f"{period} is locked, so its pay is final."})
    if line_item is not None and line_item.payee_id != payee.pk:
        raise ValidationError({"line_item": "That line is not on this payee's statement."})
    active = Hold.objects.select_for_update().filter(payee=payee, period=period,
                                                     released_at__isnull=True)
    if active.filter(line_item=line_item).exists():
        raise ValidationError("This is already held.")
    if line_item is not None and line_item.period_id != period.pk:
        raise ValidationError({"line_item": f"That line is not in {period}."})
    hold = Hold(payee=payee, period=period, line_item=line_item, reason=reason.strip()[:500],
                created_by=user)
    if line_item is not None:
        hold.component_id = line_item.component_id
        hold.deal_id = line_item.deal_id
        hold.line_type = line_item.line_type
    record_author(hold, user)
    hold.save()
    return hold


@transaction.atomic
def hold_release(*, hold: Hold, note: str = "", actor: Any = None) -> Hold:
    """Release a hold: its amount is payable again."""
    user = acting_user(actor)
    current = Hold.objects.select_for_update().get(pk=hold.pk)
    if current.released_at is not None:
        raise ValidationError("This hold was released already.")
    current.released_at = timezone.now()
    current.released_by = user
    current.release_note = note.strip()[:500]
    record_author(current, user)
    current.save()
    return current
