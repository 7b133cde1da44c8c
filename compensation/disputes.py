"""Reads of disputes and notifications for their pages: who sees which dispute (the payee
their own, a manager their team's, finance and admin all), filters, and age against the
tenant's target."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from compensation.models import Dispute, DisputePolicy, DisputeStatus, Notification
from spm.org.selectors import visible_person_ids
from spm.tenancy.models import Membership
from spm.tenancy.today import tenant_today

DEFAULT_TARGET_DAYS = 10


def dispute_target_days() -> int:
    policy = DisputePolicy.objects.first()
    return policy.target_days if policy is not None else DEFAULT_TARGET_DAYS


def disputes_visible_to(*, membership: Membership) -> QuerySet[Dispute]:
    """The disputes a member may read: their own as payee, their team's, or all."""
    ids = visible_person_ids(membership=membership, on=tenant_today())
    disputes = Dispute.objects.select_related("payee", "period", "line_item__component",
                                              "raised_by", "adjustment")
    if ids is None:
        return disputes
    return disputes.filter(Q(payee_id__in=ids) | Q(payee__user_id=membership.user_id))


def dispute_visible(*, membership: Membership, pk: Any) -> Dispute | None:
    if not str(pk).isdigit():
        return None
    return disputes_visible_to(membership=membership).filter(pk=pk).first()


@dataclass
class DisputeRow:
    dispute: Dispute
    age_days: int
    target_days: int

    @property
    def overdue(self) -> bool:
        return self.age_days > self.target_days


def dispute_age_days(dispute: Dispute, now: datetime.datetime | None = None) -> int:
    end = dispute.resolved_at or now or timezone.now()
    return max((end - dispute.raised_at).days, 0)


def dispute_rows(*, membership: Membership, status: str = "", period_id: Any = "",
                 overdue: bool = False) -> list[DisputeRow]:
    """The member's disputes, filtered, with their age against the target (oldest open first)."""
    disputes = disputes_visible_to(membership=membership)
    if status in DisputeStatus.values:
        disputes = disputes.filter(status=status)
    if str(period_id).isdigit():
        disputes = disputes.filter(period_id=period_id)
    target = dispute_target_days()
    now = timezone.now()
    rows = [DisputeRow(d, dispute_age_days(d, now), target) for d in disputes.order_by(
        "raised_at", "pk")]
    if overdue:
        rows = [r for r in rows if r.overdue and r.dispute.status in (
            DisputeStatus.OPEN, DisputeStatus.IN_REVIEW)]
    return rows


def unread_notifications(*, user: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user, read_at__isnull=True)


def notifications_of(*, user: Any, limit: int = 100) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user)[:limit])
