"""A real worker killed mid-run: its transaction rolls back, the message is redelivered to the
next worker, and the results are those of a clean run, with no line twice."""

from __future__ import annotations

import datetime
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction

from compensation.models import CalculationRun, LineItem, PayeePeriodResult
from compensation.services.runs import calculation_run
from spm.tenancy.context import tenant_context
from tests.compensation.runs_world import build_world, credit_deal

from .conftest import clean_env
from .tasks_for_test import recalculate_then_pause
from .test_worker import _app_role_database_url

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

WAIT_SECONDS = 60
# Short, so the next worker takes the lost message within seconds rather than the production
# timeout (twice the hard time limit).
VISIBILITY_SECONDS = 2
LINE_FIELDS = ("payee_id", "period_id", "window", "plan_version_id", "component_id", "kind",
               "line_type", "credit_id", "deal_id", "measure", "basis", "cumulative", "quota",
               "attainment", "tier", "rate", "amount", "rounding_carry", "capped",
               "explanation_text")
RESULT_FIELDS = ("payee_id", "period_id", "plan_version_id", "credited", "quota", "attainment",
                 "target_incentive", "earnings", "clawbacks", "adjustments", "draw", "total",
                 "line_count")


class Workers:
    """Start workers on one queue of their own; every one is stopped at the end."""

    def __init__(self, log_dir: Path) -> None:
        self.queue = f"spm-test-{uuid.uuid4().hex[:12]}"
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        env = clean_env(
            DEBUG="0",
            SECRET_KEY=secrets.token_urlsafe(50),
            DATABASE_URL=_app_role_database_url(),
            REDIS_URL=settings.REDIS_URL,
            CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_SECONDS),
        )
        number = len(self.processes) + 1
        command = [
            sys.executable, "-m", "celery", "-A", "spm", "worker",
            "--pool=solo", "--queues", self.queue, "--hostname", f"{self.queue}-{number}@%h",
            "--include", "tests.ops.tasks_for_test",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "--loglevel", "INFO",
        ]  # fmt: skip
        log_path = self.log_dir / f"worker-{number}.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(  # noqa: S603  (our own interpreter, fixed arguments)
                command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        process.log_path = log_path  # type: ignore[attr-defined]
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        client = redis.Redis.from_url(settings.REDIS_URL)
        client.delete(self.queue, f"_kombu.binding.{self.queue}",
                      f"_kombu.binding_permanent.{self.queue}")
        client.close()


@pytest.fixture
def workers(django_db_setup, tmp_path) -> Iterator[Workers]:
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set (the SQLite smoke run); `make test` runs this on Redis")
    if connection.vendor != "postgresql":
        pytest.skip("a worker process cannot share the in-memory SQLite test database")
    pool = Workers(tmp_path)
    try:
        yield pool
    finally:
        pool.stop_all()


def wait_for(condition: Callable[[], object], process: subprocess.Popen, what: str) -> object:
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


def _results(period_ids: list[int]) -> tuple[Counter, Counter]:
    lines = Counter(LineItem.objects.filter(period_id__in=period_ids).values_list(*LINE_FIELDS))
    results = Counter(PayeePeriodResult.objects.filter(period_id__in=period_ids)
                      .values_list(*RESULT_FIELDS))
    return lines, results


def test_a_worker_killed_mid_run_leaves_the_results_whole_and_the_next_worker_redoes_the_run(
        workers, tenant_a):
    with tenant_context(tenant_a):
        world = build_world(reps=2)
        for rep, amounts in zip(world.reps, (("60000", "70000"), ("30000", "45000", "90000")),
                                strict=True):
            for day, amount in enumerate(amounts, start=5):
                credit_deal(world, rep, amount, datetime.date(2026, 1, day))
        january = world.month("2026-01")
        with transaction.atomic():
            clean_run = calculation_run(tenant=tenant_a, period=january)
        assert clean_run.status == "succeeded", clean_run.error
        clean_lines, clean_results = _results([january.pk])
        runs_before = CalculationRun.objects.count()
    assert clean_lines
    assert max(clean_lines.values()) == 1

    key = f"{workers.queue}:attempts"
    client = redis.Redis.from_url(settings.REDIS_URL)
    first = workers.start()
    recalculate_then_pause.apply_async(
        kwargs={"tenant_id": tenant_a.pk, "period_id": january.pk, "attempts_key": key,
                "pause_seconds": WAIT_SECONDS},
        queue=workers.queue,
    )
    wait_for(lambda: client.get(f"{key}:paused"), first, "the run's lines written, uncommitted")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)

    # The killed run's transaction rolled back: the clean run's results stand, whole.
    with tenant_context(tenant_a):
        assert _results([january.pk]) == (clean_lines, clean_results)
        assert CalculationRun.objects.count() == runs_before

    second = workers.start()
    wait_for(lambda: client.get(f"{key}:done"), second, "the redelivered run, finished")
    attempts = int(client.get(key))
    client.delete(key, f"{key}:paused", f"{key}:done")
    client.close()

    assert attempts == 2  # the same message, delivered again to the new worker
    with tenant_context(tenant_a):
        lines, results = _results([january.pk])
        assert CalculationRun.objects.count() == runs_before + 1
        latest = CalculationRun.objects.latest("pk")
    assert latest.status == "succeeded", latest.error
    assert lines == clean_lines
    assert results == clean_results
    assert max(lines.values()) == 1  # no line twice
