"""Celery tasks of compensation and the changes that send them: every recompute goes through
compensation.services.recompute.

- `recompute_pending`: applies the changes waiting in RecomputeRequest rows, for the deals,
  payees and months they touch; sent once a change commits, so a statement is current within a
  second, and a burst of changes is applied together by the one task already on its way.
- `recompute_period`: everyone in one period (the Recalculate button).
- `recompute_open_periods`: the nightly run of every open month, the authority.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from compensation.models import (
    Adjustment,
    Component,
    CreditRule,
    DealCancellation,
    DealSplit,
    ExchangeRate,
    MboScore,
    PlanAssignment,
    PlanVersion,
    PlanVersionComponent,
    VersionStatus,
)
from quotas.models import Quota
from spm.crm.models import Deal
from spm.crm.signals import deals_changed
from spm.org.models import Team, TeamMembership
from spm.tasks import dispatch_on_commit, tenant_task
from spm.tenancy.actors import acting_user
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Tenant
from spm.tenancy.today import tenant_today

logger = logging.getLogger(__name__)

# The task sent for a change waits this long, so the changes of one burst (an API client saving
# deals one by one) reach it together; later ones join the task already on its way.
COALESCE_SECONDS = getattr(settings, "RECOMPUTE_COALESCE_SECONDS", 0.1)
# How long a sent task counts as on its way: past this it is presumed lost and the next change
# sends another (the requests themselves wait in the database, so nothing is lost either way).
_PENDING_TTL = 120
_PENDING_KEY = "comp:recompute-pending:{tenant_id}"


@tenant_task(name="compensation.recompute_period", idempotent=True, soft_time_limit=540,
             time_limit=600)
def recompute_period(*, tenant: Tenant, period_id: int, user_id: int | None = None) -> str | None:
    """Recompute one period of the tenant for everyone; returns the run's status (None if the
    period is gone).

    A locked period is skipped with a log line: it is final, and a retry could never succeed.
    """
    from django.contrib.auth import get_user_model

    from compensation.services.recompute import period_recompute
    from compensation.services.runs import PeriodLockedError
    from spm.org.models import Period

    period = Period.objects.filter(pk=period_id).first()
    if period is None:
        logger.info("recompute skipped: period %s is gone", period_id)
        return None
    actor = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    try:
        run = period_recompute(period=period, actor=actor)
    except PeriodLockedError as exc:
        logger.info("recompute skipped: %s", "; ".join(exc.messages))
        return "locked"
    return run.status


@tenant_task(name="compensation.recompute_open_periods", idempotent=True)
def recompute_open_periods(*, tenant: Tenant) -> int:
    """Send one recompute of everyone per open month of the current fiscal year up to today.

    Beat sends this to every tenant through spm.tasks.fan_out_to_tenants (settings).
    """
    from compensation.services.recompute import open_months

    months = open_months(on=tenant_today())
    for month in months:
        dispatch_on_commit(recompute_period, tenant=tenant, period_id=month.pk)
    return len(months)


@tenant_task(name="compensation.recompute_pending", idempotent=True, soft_time_limit=540,
             time_limit=600)
def recompute_pending(*, tenant: Tenant) -> int:
    """Apply the tenant's waiting changes; returns how many requests were applied."""
    from compensation.services.recompute import recompute_pending as apply_pending

    # Cleared first: a change committed from now on sends a task of its own, while those
    # already committed are read below.
    cache.delete(_PENDING_KEY.format(tenant_id=tenant.pk))
    outcome = apply_pending()
    if outcome.failed is not None:
        logger.warning("recompute of %s changes failed: %s", outcome.requests,
                       outcome.failed.error)
        return 0
    return outcome.requests


def recompute_soon(*, tenant: Tenant | int, deal_ids: Iterable[int] = (),
                   payee_ids: Iterable[int] = (), everything: bool = False,
                   reason: str = "") -> bool:
    """Record a change in the current transaction (the active tenant's) and send the recompute
    once it commits; True if anything was recorded. A rolled-back change sends nothing."""
    from compensation.services.recompute import recompute_request

    if not recompute_request(deal_ids=deal_ids, payee_ids=payee_ids, everything=everything,
                             reason=reason):
        return False
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    transaction.on_commit(lambda: send_pending(tenant_id))
    return True


def send_pending(tenant_id: int, countdown: float | None = None) -> bool:
    """Send the tenant's recompute unless one is already on its way; True if sent."""
    if not cache.add(_PENDING_KEY.format(tenant_id=tenant_id), True, timeout=_PENDING_TTL):
        return False
    options: dict[str, Any] = {}
    queue = getattr(settings, "RECOMPUTE_QUEUE", None)
    if queue:
        options["queue"] = queue
    recompute_pending.apply_async(
        kwargs={"tenant_id": tenant_id},
        countdown=COALESCE_SECONDS if countdown is None else countdown, **options)
    return True


def enqueue_recompute(*, tenant: Tenant, period_id: int, user: Any = None) -> None:
    """Recompute a period for everyone once the current transaction commits (eager without
    Redis)."""
    user_id = getattr(acting_user(user), "pk", None)
    dispatch_on_commit(recompute_period, tenant=tenant, period_id=period_id, user_id=user_id)


# ---- the changes ---------------------------------------------------------------------------


@receiver(deals_changed, dispatch_uid="compensation-recompute-after-deal-changes")
def _after_deal_changes(sender: type, tenant: Tenant, deal_ids: Iterable[int] = (),
                        **kwargs: Any) -> None:
    # Sent once the deals committed (an import applied, the API): its own transaction.
    with tenant_context(tenant):
        recompute_soon(tenant=tenant, deal_ids=deal_ids, reason="deals changed")


@receiver(post_save, sender=Deal, dispatch_uid="compensation-recompute-after-deal-save")
@receiver(post_delete, sender=Deal, dispatch_uid="compensation-recompute-after-deal-delete")
def _after_deal_save(sender: type, instance: Deal, **kwargs: Any) -> None:
    # One deal saved by a page or the admin (bulk writes send deals_changed instead).
    recompute_soon(tenant=instance.tenant_id, deal_ids=[instance.pk], reason="deal edited")


@receiver(post_save, sender=DealSplit, dispatch_uid="compensation-recompute-after-split")
@receiver(post_delete, sender=DealSplit, dispatch_uid="compensation-recompute-after-unsplit")
@receiver(post_save, sender=DealCancellation, dispatch_uid="compensation-recompute-after-cancel")
@receiver(post_delete, sender=DealCancellation,
          dispatch_uid="compensation-recompute-after-uncancel")
def _after_deal_detail(sender: type, instance: DealSplit | DealCancellation,
                       **kwargs: Any) -> None:
    recompute_soon(tenant=instance.tenant_id, deal_ids=[instance.deal_id],
                   reason=f"{sender._meta.verbose_name} changed")


@receiver(post_save, sender=PlanAssignment, dispatch_uid="compensation-recompute-after-assign")
@receiver(post_delete, sender=PlanAssignment,
          dispatch_uid="compensation-recompute-after-unassign")
@receiver(post_save, sender=Quota, dispatch_uid="compensation-recompute-after-quota")
@receiver(post_delete, sender=Quota, dispatch_uid="compensation-recompute-after-quota-delete")
def _after_person_terms(sender: type, instance: PlanAssignment | Quota, **kwargs: Any) -> None:
    recompute_soon(tenant=instance.tenant_id, payee_ids=[instance.person_id],
                   reason=f"{sender._meta.verbose_name} changed")


@receiver(post_save, sender=MboScore, dispatch_uid="compensation-recompute-after-mbo-score")
@receiver(post_delete, sender=MboScore, dispatch_uid="compensation-recompute-after-mbo-clear")
@receiver(post_save, sender=Adjustment, dispatch_uid="compensation-recompute-after-adjustment")
@receiver(post_delete, sender=Adjustment,
          dispatch_uid="compensation-recompute-after-adjustment-delete")
def _after_payee_input(sender: type, instance: MboScore | Adjustment, **kwargs: Any) -> None:
    recompute_soon(tenant=instance.tenant_id, payee_ids=[instance.payee_id],
                   reason=f"{sender._meta.verbose_name} changed")


_EVERYONE = (CreditRule, ExchangeRate, PlanVersion, PlanVersionComponent, Component, Team,
             TeamMembership)


def _after_shared_input(sender: type, instance: Any, **kwargs: Any) -> None:
    # Rules, rates, plans and the team tree reach every payee (roll-ups follow the tree). A
    # draft plan version pays nobody until it is published.
    if isinstance(instance, PlanVersion) and instance.status == VersionStatus.DRAFT:
        return
    recompute_soon(tenant=instance.tenant_id, everything=True,
                   reason=f"{sender._meta.verbose_name} changed")


for _model in _EVERYONE:
    post_save.connect(_after_shared_input, sender=_model,
                      dispatch_uid=f"compensation-recompute-after-{_model.__name__}-save")
    post_delete.connect(_after_shared_input, sender=_model,
                        dispatch_uid=f"compensation-recompute-after-{_model.__name__}-delete")
