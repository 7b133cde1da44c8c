"""Tasks the ops tests send, eagerly and to a real worker (which imports this module with -I)."""

from __future__ import annotations

import json
from collections import Counter

import redis
from celery import shared_task
from django.conf import settings
from django.db import OperationalError, connection

from spm.logging import current_request_id
from spm.org.models import Person
from spm.tasks import tenant_task
from spm.tenancy.context import TenantNotActiveError
from spm.tenancy.models import Tenant

# Eager runs happen in the test process, so the tests can read what a task body saw.
attempts: Counter[str] = Counter()
seen: list[dict] = []


@tenant_task(idempotent=True)
def record_person(*, tenant: Tenant, employee_id: str, name: str) -> int:
    person = Person.objects.create(
        employee_id=employee_id, name=name, email=f"{employee_id.lower()}@example.com"
    )
    return person.pk


@tenant_task()
def note_tenant(*, tenant: Tenant, label: str = "") -> str:
    seen.append({"tenant": tenant.slug, "label": label, "request_id": current_request_id()})
    return tenant.slug


@tenant_task()
def fail_then_succeed(*, tenant: Tenant, failures: int, error: str) -> int:
    attempts[error] += 1
    if attempts[error] <= failures:
        if error == "database":
            raise OperationalError("server closed the connection unexpectedly")
        raise ValueError("a bug, not a hiccup")
    return attempts[error]


@shared_task
def probe_without_tenant(*, redis_key: str = "") -> dict:
    """What a task declared without a tenant can see of a tenant table."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM org_person")
        raw_rows = cursor.fetchone()[0]
    try:
        orm = f"read {Person.objects.count()} rows"
    except TenantNotActiveError:
        orm = "TenantNotActiveError"
    result = {"raw_rows": raw_rows, "orm": orm}
    if redis_key:
        client = redis.Redis.from_url(settings.REDIS_URL)
        client.set(redis_key, json.dumps(result), ex=300)
        client.close()
    return result


@tenant_task(idempotent=True)
def recalculate_then_pause(*, tenant: Tenant, period_id: int, attempts_key: str,
                           pause_seconds: float) -> str:
    """A calculation run that, on its first delivery only, pauses before its transaction
    commits: long enough for a test to kill the worker with the run's lines written but not
    committed. Attempts are counted in Redis, which outlives the killed worker."""
    import time

    from compensation.services.runs import calculation_run
    from spm.org.models import Period

    client = redis.Redis.from_url(settings.REDIS_URL)
    attempt = client.incr(attempts_key)
    client.expire(attempts_key, 600)
    run = calculation_run(tenant=tenant, period=Period.objects.get(pk=period_id))
    if attempt == 1:
        client.set(f"{attempts_key}:paused", run.status, ex=600)
        time.sleep(pause_seconds)
    client.set(f"{attempts_key}:done", attempt, ex=600)
    client.close()
    return run.status
