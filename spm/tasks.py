"""The task base: `tenant_task` runs a Celery task body inside its tenant, plus on-commit dispatch.

Tenant tasks take `tenant_id` (an int) as a keyword argument and nothing else that identifies the
tenant; a task declared without it has no tenant active, so the scoped managers raise and
row-level security shows it no rows.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import kombu.exceptions
import redis.exceptions
from celery import Task, current_app, shared_task
from celery.signals import before_task_publish
from django.core.management import call_command
from django.db import InterfaceError, OperationalError, transaction

from spm.logging import NO_REQUEST_ID, bound_request_id, current_request_id
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Tenant

logger = logging.getLogger(__name__)

# Errors that say "try again later" rather than "this is wrong": a dropped or restarted
# database (also deadlocks and serialisation failures, which psycopg raises as
# OperationalError) and an unreachable Redis. Anything else is a bug or bad data, and retrying it
# only repeats the failure.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    kombu.exceptions.OperationalError,
)
MAX_RETRIES = 5
RETRY_BACKOFF_MAX_SECONDS = 600
REQUEST_ID_HEADER = "spm_request_id"


def tenant_task(
    *,
    name: str | None = None,
    idempotent: bool = False,
    queue: str | None = None,
    soft_time_limit: int | None = None,
    time_limit: int | None = None,
    retry_on: tuple[type[BaseException], ...] = TRANSIENT_ERRORS,
    max_retries: int = MAX_RETRIES,
) -> Callable[[Callable[..., Any]], Task]:
    """Declare a Celery task whose body runs inside `tenant_context` of the `tenant_id` it is sent.

    The body is called as `body(*args, tenant=<Tenant>, **kwargs)`. A tenant that is gone or
    deactivated by the time the task runs is logged and skipped.

    `idempotent=True` (a rerun replaces its results) turns on `acks_late` and
    `reject_on_worker_lost`, so a worker killed mid-run hands the message to another worker.
    A task that is not idempotent must not be redelivered, so it acknowledges on receipt.
    """
    if not 0 <= max_retries <= MAX_RETRIES:
        raise ValueError(f"max_retries must be between 0 and {MAX_RETRIES}.")

    def decorate(body: Callable[..., Any]) -> Task:
        @functools.wraps(body)
        def run(self: Task, *args: Any, tenant_id: int, **kwargs: Any) -> Any:
            # JSON round-trips ints exactly; anything else is a caller passing a model or a slug.
            if isinstance(tenant_id, bool) or not isinstance(tenant_id, int):
                raise TypeError(f"{self.name}: tenant_id must be an int, got {tenant_id!r}.")
            with bound_request_id(_request_id_for(self)):
                tenant = Tenant.objects.filter(pk=tenant_id).first()
                if tenant is None or not tenant.is_active:
                    logger.info("%s skipped: tenant %s is gone or inactive", self.name, tenant_id)
                    return None
                with tenant_context(tenant):
                    return body(*args, tenant=tenant, **kwargs)

        options: dict[str, Any] = {
            "bind": True,
            "acks_late": idempotent,
            "reject_on_worker_lost": idempotent,
            "autoretry_for": retry_on,
            "max_retries": max_retries,
            "retry_backoff": True,
            "retry_backoff_max": RETRY_BACKOFF_MAX_SECONDS,
            "retry_jitter": True,
        }
        if name is not None:
            options["name"] = name
        if queue is not None:
            options["queue"] = queue
        if soft_time_limit is not None:
            options["soft_time_limit"] = soft_time_limit
        if time_limit is not None:
            options["time_limit"] = time_limit
        task = shared_task(**options)(run)
        task.tenant_scoped = True
        task.idempotent = idempotent
        return task

    return decorate


def dispatch_on_commit(task: Task, /, *, tenant: Tenant | int, **kwargs: Any) -> None:
    """Send `task` for `tenant` once the current transaction commits (at once outside one).

    A task sent before its data is committed can run first and find nothing, and a rolled-back
    request must not leave a task behind.
    """
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    payload = {**kwargs, "tenant_id": tenant_id}
    transaction.on_commit(functools.partial(task.apply_async, kwargs=payload))


def _request_id_for(task: Task) -> str:
    # A task sent from a request logs under that request's id, so one grep follows the work
    # from click to worker; otherwise its own task id.
    sent_from = getattr(task.request, REQUEST_ID_HEADER, None)
    if sent_from:
        return str(sent_from)
    running_in = current_request_id()
    if running_in != NO_REQUEST_ID:
        return running_in
    return task.request.id or NO_REQUEST_ID


@before_task_publish.connect(dispatch_uid="spm-request-id-header")
def _stamp_request_id(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    request_id = current_request_id()
    if headers is not None and request_id != NO_REQUEST_ID:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


# ------------------------------------------------------------------------------------------------
# Platform tasks (no tenant): fan-out and housekeeping, scheduled by beat (settings).
# ------------------------------------------------------------------------------------------------
@shared_task(name="spm.tasks.fan_out_to_tenants")
def fan_out_to_tenants(task_name: str, **kwargs: Any) -> int:
    """Send the tenant task `task_name` once per active tenant; returns how many were sent.

    Beat schedules this rather than the tenant task itself, so one slow or failing tenant never
    holds up the others and each run is retried on its own.
    """
    task = current_app.tasks[task_name]
    if not getattr(task, "tenant_scoped", False):
        raise ValueError(f"{task_name} is not a tenant task; fan-out sends only @tenant_task.")
    tenant_ids = list(
        Tenant.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True)
    )
    for tenant_id in tenant_ids:
        task.apply_async(kwargs={**kwargs, "tenant_id": tenant_id})
    return len(tenant_ids)


@shared_task(name="spm.tasks.clear_expired_sessions")
def clear_expired_sessions() -> None:
    """Delete expired login sessions (Django keeps them until something clears them)."""
    call_command("clearsessions")
