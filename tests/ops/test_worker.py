"""A real Celery worker process on Redis runs tenant tasks inside their tenant, and nothing else."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection

from spm.org.models import Person
from spm.tenancy.context import tenant_context
from tests.factories import PersonFactory

from .conftest import clean_env
from .tasks_for_test import probe_without_tenant, record_person

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

WAIT_SECONDS = 60


def _app_role_database_url() -> str:
    # The worker must see what the test committed: pytest-django's test database, as the
    # application role the tests run as (tests/conftest.py), so row-level security binds it too.
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or "5432"
    return f"postgres://{quote(db['USER'], safe='')}{password}@{host}:{port}/{db['NAME']}"


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[str]:
    """Start `celery -A spm worker` on a queue of its own; yields the queue name."""
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set (the SQLite smoke run); `make test` runs this on Redis")
    with django_db_blocker.unblock():
        vendor = connection.vendor
    if vendor != "postgresql":
        pytest.skip("a worker process cannot share the in-memory SQLite test database")
    assert connection.settings_dict["USER"] == settings.DATABASE_APP_ROLE

    queue = f"spm-test-{uuid.uuid4().hex[:12]}"
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    env = clean_env(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=_app_role_database_url(),
        REDIS_URL=settings.REDIS_URL,
    )
    command = [
        sys.executable, "-m", "celery", "-A", "spm", "worker",
        "--pool=solo", "--queues", queue, "--hostname", f"{queue}@%h",
        "--include", "tests.ops.tasks_for_test",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
        "--loglevel", "INFO",
    ]  # fmt: skip
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603  (our own interpreter, fixed arguments)
            command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    process.log_path = log_path  # type: ignore[attr-defined]
    _worker_processes[queue] = process
    try:
        yield queue
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        _worker_processes.pop(queue, None)
        # The queue was this run's alone; leave no routing keys behind in the shared Redis.
        client = redis.Redis.from_url(settings.REDIS_URL)
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
        client.close()


_worker_processes: dict[str, subprocess.Popen] = {}


def wait_for(condition: Callable[[], object], queue: str, what: str) -> object:
    process = _worker_processes[queue]
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process.poll() is not None:
            break
        time.sleep(0.2)
    log = Path(process.log_path).read_text()  # type: ignore[attr-defined]
    pytest.fail(f"{what} did not happen within {WAIT_SECONDS}s; worker output:\n{log[-4000:]}")


def test_a_worker_writes_a_tenant_tasks_row_into_that_tenant_only(worker, tenant_a, tenant_b):
    record_person.apply_async(
        kwargs={"tenant_id": tenant_a.pk, "employee_id": "W1", "name": "Written by the worker"},
        queue=worker,
    )

    def row_in_a() -> bool:
        with tenant_context(tenant_a):
            return Person.objects.filter(employee_id="W1").exists()

    wait_for(row_in_a, worker, "the task's row in tenant A")
    with tenant_context(tenant_a):
        person = Person.objects.get(employee_id="W1")
    assert person.tenant_id == tenant_a.pk
    assert person.name == "Written by the worker"
    with tenant_context(tenant_b):
        assert not Person.objects.filter(employee_id="W1").exists()


def test_a_task_without_a_tenant_sees_nothing_in_a_worker(worker, tenant_a):
    with tenant_context(tenant_a):
        PersonFactory()
    key = f"{worker}:probe"
    client = redis.Redis.from_url(settings.REDIS_URL)

    probe_without_tenant.apply_async(kwargs={"redis_key": key}, queue=worker)

    raw = wait_for(lambda: client.get(key), worker, "the probe's report")
    client.delete(key)
    client.close()
    assert json.loads(raw) == {"raw_rows": 0, "orm": "TenantNotActiveError"}


def test_a_deal_won_through_the_api_reaches_the_statement_through_a_real_worker(
        worker, tenant_a, settings):
    """The real-time road: API write, commit, Redis, the worker's recompute, the statement."""
    from decimal import Decimal

    from rest_framework.test import APIClient

    from compensation.models import CalculationRun, LineItem, RecomputeRequest, RunScope
    from compensation.services.recompute import recompute_open_months
    from spm.tenancy.models import ApiKey
    from spm.tenancy.today import tenant_today
    from tests.compensation.runs_world import build_world
    from tests.factories import AccountFactory, StageFactory

    settings.RECOMPUTE_QUEUE = worker
    with tenant_context(tenant_a):
        today = tenant_today()
        world = build_world(reps=1)
        StageFactory(name="Closed Won", is_won=True, order=90,
                     default_probability=Decimal("100"), forecast_category="closed")
        AccountFactory(external_id="ACC-RT", name="Realtime Inc")
        rep = world.reps[0]
        rep.employee_id = "RT-1"
        rep.save()
        RecomputeRequest.objects.all().delete()
        recompute_open_months()
    _, secret = ApiKey.issue(tenant=tenant_a, name="CRM sync")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    rows = [{"external_id": f"RT-{n}", "name": "Realtime", "account": "ACC-RT", "owner": "RT-1",
             "stage": "Closed Won", "amount": "10000.00", "close_date": today.isoformat()}
            for n in range(3)]
    response = client.post("/api/v1/deals/bulk/", {"rows": rows}, format="json")
    assert response.status_code == 200, response.content

    def on_statement() -> int:
        with tenant_context(tenant_a):
            return LineItem.objects.filter(payee=rep, deal__external_id__startswith="RT-").count()

    wait_for(lambda: on_statement() == 3, worker, "the three deals on the rep's statement")
    with tenant_context(tenant_a):
        assert not RecomputeRequest.objects.exists()
        month = LineItem.objects.filter(deal__external_id="RT-0").get().period
        runs = CalculationRun.objects.filter(period=month, scope=RunScope.PAYEES).count()
    assert runs == 1  # one burst of three deals, one recompute
