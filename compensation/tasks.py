"""Celery tasks of compensation: recompute one (tenant, period), the scheduled recompute of open
months, and the debounced recompute after an import or an API change.

Each task is a thin wrapper over compensation.services.runs.calculation_run, which is
idempotent (a rerun replaces the results) and serialised per month by an advisory lock.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from compensation.models import MboScore
from spm.crm.models import ImportBatch, ImportStatus
from spm.crm.signals import deals_changed
from spm.tasks import dispatch_on_commit, tenant_task
from spm.tenancy.models import Tenant

logger = logging.getLogger(__name__)

# A burst of changes (an import of many batches, an API sync) should cause one recompute: the
# first change schedules it this many seconds ahead, and later ones within the window join it.
DEBOUNCE_SECONDS = 120
_DEBOUNCE_KEY = "comp:recompute-pending:{tenant_id}"


@tenant_task(name="compensation.recompute_period", idempotent=True, soft_time_limit=540,
             time_limit=600)
def recompute_period(*, tenant: Tenant, period_id: int, user_id: int | None = None) -> str | None:
    """Calculate one period of the tenant; returns the run's status (None if the period is gone).

    A locked period is skipped with a log line: it is final, and a retry could never succeed.
    """
    from django.contrib.auth import get_user_model

    from compensation.services.runs import PeriodLockedError, calculation_run
    from spm.org.models import Period

    period = Period.objects.filter(pk=period_id).first()
    if period is None:
        logger.info("recompute skipped: period %s is gone", period_id)
        return None
    actor = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    try:
        run = calculation_run(tenant=tenant, period=period, actor=actor)
    except PeriodLockedError as exc:
        logger.info("recompute skipped: %s", "; ".join(exc.messages))
        return "locked"
    return run.status


def _send_open_periods(tenant: Tenant) -> int:
    from compensation.services.runs import periods_to_recompute

    periods = periods_to_recompute(on=timezone.localdate())
    for period in periods:
        dispatch_on_commit(recompute_period, tenant=tenant, period_id=period.pk)
    return len(periods)


@tenant_task(name="compensation.recompute_open_periods", idempotent=True)
def recompute_open_periods(*, tenant: Tenant) -> int:
    """Send one recompute per open month of the current fiscal year up to today.

    Beat sends this to every tenant through spm.tasks.fan_out_to_tenants (settings).
    """
    return _send_open_periods(tenant)


@tenant_task(name="compensation.recompute_after_change", idempotent=True)
def recompute_after_change(*, tenant: Tenant) -> int:
    """The debounced recompute: clear the pending mark, then recompute the open months."""
    cache.delete(_DEBOUNCE_KEY.format(tenant_id=tenant.pk))
    return _send_open_periods(tenant)


def schedule_recompute(*, tenant: Tenant | int, countdown: int = DEBOUNCE_SECONDS) -> bool:
    """Ask for a recompute of the tenant's open months after data changed; True if one was sent.

    Only the first call in a window sends a task (the cache's add() is atomic); the others
    are folded into it, so an import of fifty batches recomputes once. Sent on commit, so a
    rolled-back change schedules nothing.
    """
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    if not cache.add(_DEBOUNCE_KEY.format(tenant_id=tenant_id), True, timeout=countdown + 60):
        return False
    _dispatch_later(tenant_id, countdown)
    return True


def _dispatch_later(tenant_id: int, countdown: int) -> None:
    from django.db import transaction

    def send() -> None:
        recompute_after_change.apply_async(kwargs={"tenant_id": tenant_id}, countdown=countdown)

    transaction.on_commit(send)


@receiver(deals_changed, dispatch_uid="compensation-recompute-after-deal-changes")
def _recompute_after_deal_changes(sender: type, tenant: Tenant, **kwargs: Any) -> None:
    # Deals pushed by the API or a script; a burst of batches is folded into one recompute.
    schedule_recompute(tenant=tenant)


@receiver(post_save, sender=ImportBatch, dispatch_uid="compensation-recompute-after-import")
def _recompute_after_import(sender: type, instance: ImportBatch, **kwargs: Any) -> None:
    if instance.status == ImportStatus.APPLIED:
        schedule_recompute(tenant=instance.tenant_id)


@receiver(post_save, sender=MboScore, dispatch_uid="compensation-recompute-after-mbo-score")
@receiver(post_delete, sender=MboScore, dispatch_uid="compensation-recompute-after-mbo-clear")
def _recompute_after_mbo_score(sender: type, instance: MboScore, **kwargs: Any) -> None:
    # A manager scoring a team one person at a time is one recompute, like an import.
    schedule_recompute(tenant=instance.tenant_id)


def enqueue_recompute(*, tenant: Tenant, period_id: int, user: Any = None) -> None:
    """Recompute a period once the current transaction commits (eager without Redis)."""
    user_id = user.pk if getattr(user, "is_authenticated", False) else None
    dispatch_on_commit(recompute_period, tenant=tenant, period_id=period_id, user_id=user_id)
