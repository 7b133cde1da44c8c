"""Disputes: a payee questions a statement line or a whole statement, the thread that answers
it, and its moves from open to in review to resolved (perhaps by an adjustment) or rejected.

Each step writes a message in the thread (so the thread is the dispute's whole history, with
who and when) and notifies the others taking part — the payee, their managers and finance —
in the app and by e-mail.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from compensation.models import (
    Adjustment,
    Dispute,
    DisputeMessage,
    DisputeStatus,
    LineItem,
)
from compensation.selectors import months_of
from compensation.services.notifications import notify
from spm.org.models import Period, Person
from spm.org.selectors import manager_chain
from spm.tenancy.actors import acting_user
from spm.tenancy.history import record_author
from spm.tenancy.models import Membership, Role

CLOSED = (DisputeStatus.RESOLVED, DisputeStatus.REJECTED)


def dispute_participants(dispute: Dispute) -> list[Any]:
    """The users who follow a dispute: the payee, their managers as the period ended, and
    finance and admin."""
    users = []
    if dispute.payee.user_id:
        users.append(dispute.payee.user)
    users += [m.user for m in manager_chain(person=dispute.payee, on=dispute.period.last_day)
              if m.user_id]
    users += [m.user for m in Membership.objects.filter(
        tenant_id=dispute.tenant_id, role__in=[Role.FINANCE, Role.ADMIN], is_active=True,
        user__is_active=True).select_related("user")]
    return users


def _tell(dispute: Dispute, message: str, actor: Any) -> None:
    recipients = [u for u in dispute_participants(dispute)
                  if actor is None or u.pk != actor.pk]
    notify(recipients=recipients, message=message, url_name="compensation:dispute-detail",
           url_kwargs={"dispute_id": dispute.pk})


def _write(dispute: Dispute, user: Any, body: str, status_to: str = "") -> DisputeMessage:
    return DisputeMessage.objects.create(dispute=dispute, author=user, body=body,
                                         status_to=status_to)


@transaction.atomic
def dispute_open(*, payee: Person, period: Period, subject: str, description: str,
                 line_item: LineItem | None = None, amount_claimed: Decimal | None = None,
                 actor: Any) -> Dispute:
    """Open a dispute on the payee's own statement (a line of it, or the whole of it).
    Refused when the actor is not the payee or the line is another person's or period's."""
    user = acting_user(actor)
    if user is None or payee.user_id != user.pk:
        raise ValidationError("Only the payee questions their own statement: ask them to open "
                              "the dispute, and join its thread.")
    if line_item is not None:
        if line_item.payee_id != payee.pk:
            raise ValidationError({"line_item": "That line is on another person's statement; "
                                                "you can only question your own lines."})
        if line_item.period_id not in _month_ids(period):
            raise ValidationError({"line_item": f"That line is not in {period}."})
    subject = subject.strip()
    if not subject:
        raise ValidationError({"subject": "Say in a few words what is wrong."})
    if not description.strip():
        raise ValidationError({"description": "Explain what you expected and why."})
    if amount_claimed is not None and amount_claimed != amount_claimed.quantize(Decimal("0.01")):
        raise ValidationError({"amount_claimed": "An amount is in whole cents (two decimals)."})
    dispute = Dispute(payee=payee, period=period, line_item=line_item,
                      deal_id=line_item.deal_id if line_item is not None else None,
                      subject=subject[:200], description=description.strip(),
                      amount_claimed=amount_claimed, raised_by=user)
    record_author(dispute, user)
    dispute.save()
    _write(dispute, user, dispute.description, DisputeStatus.OPEN)
    _tell(dispute, f"{payee} disputes their {period} statement: {dispute.subject}", user)
    return dispute


def _month_ids(period: Period) -> set[int]:
    return {m.pk for m in months_of(period)}


def _for_update(dispute: Dispute) -> Dispute:
    current = (Dispute.objects.select_for_update(of=("self",))
               .select_related("payee", "period").get(pk=dispute.pk))
    if current.status in CLOSED:
        raise ValidationError(f"This dispute is {current.get_status_display().lower()} "
                              "already; open a new one to raise something else.")
    return current


@transaction.atomic
def dispute_comment(*, dispute: Dispute, body: str, actor: Any) -> DisputeMessage:
    """Add a message to the thread of an open dispute."""
    user = acting_user(actor)
    if not body.strip():
        raise ValidationError({"body": "Write a message."})
    current = _for_update(dispute)
    message = _write(current, user, body.strip())
    _tell(current, f"New message on the dispute “{current.subject}” ({current.payee}).", user)
    return message


@transaction.atomic
def dispute_move(*, dispute: Dispute, status: str, note: str = "", actor: Any) -> Dispute:
    """Move a dispute between open and in review (resolving and rejecting have their own
    services, which ask for an answer)."""
    user = acting_user(actor)
    if status not in (DisputeStatus.OPEN, DisputeStatus.IN_REVIEW):
        raise ValidationError({"status": "A dispute is resolved or rejected with an answer, "
                                         "not moved there."})
    current = _for_update(dispute)
    if current.status == status:
        raise ValidationError({"status": f"The dispute is {current.get_status_display()} "
                                         "already."})
    current.status = status
    record_author(current, user)
    current.save()
    label = current.get_status_display().lower()
    _write(current, user, note.strip() or f"Moved to {label}.", status)
    _tell(current, f"The dispute “{current.subject}” ({current.payee}) is {label}.", user)
    return current


def _close(current: Dispute, user: Any, status: str, resolution: str) -> Dispute:
    current.status = status
    current.resolution = resolution
    current.resolved_by = user
    current.resolved_at = timezone.now()
    record_author(current, user)
    current.save()
    _write(current, user, resolution, status)
    return current


@transaction.atomic
def dispute_resolve(*, dispute: Dispute, resolution: str, adjustment: Adjustment | None = None,
                    actor: Any) -> Dispute:
    """Resolve a dispute with an answer, and the adjustment that settles it when there is one
    (the payee's own, not rejected)."""
    user = acting_user(actor)
    if not resolution.strip():
        raise ValidationError({"resolution": "Say how the dispute was resolved."})
    current = _for_update(dispute)
    if adjustment is not None:
        if adjustment.payee_id != current.payee_id:
            raise ValidationError({"adjustment": "That adjustment pays another person."})
        if adjustment.status == "rejected":
            raise ValidationError({"adjustment": "That adjustment was rejected."})
        current.adjustment = adjustment
    _close(current, user, DisputeStatus.RESOLVED, resolution.strip())
    _tell(current, f"The dispute “{current.subject}” ({current.payee}) is resolved: "
                   f"{current.resolution}", user)
    return current


@transaction.atomic
def dispute_reject(*, dispute: Dispute, reason: str, actor: Any) -> Dispute:
    """Reject a dispute, saying why."""
    user = acting_user(actor)
    if not reason.strip():
        raise ValidationError({"resolution": "Say why the dispute is rejected: the payee "
                                             "reads it."})
    current = _for_update(dispute)
    _close(current, user, DisputeStatus.REJECTED, reason.strip())
    _tell(current, f"The dispute “{current.subject}” ({current.payee}) is rejected: "
                   f"{current.resolution}", user)
    return current
