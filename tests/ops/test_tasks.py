"""Tenant tasks run inside their tenant, skip a vanished one, retry hiccups only, send on commit."""

from __future__ import annotations

import logging

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.db import connection, transaction

from spm.celery import app as celery_app
from spm.org.models import Person
from spm.tasks import MAX_RETRIES, RETRY_BACKOFF_MAX_SECONDS, dispatch_on_commit, tenant_task
from spm.tenancy.context import TenantNotActiveError, tenant_context
from tests.factories import PersonFactory, TenantFactory

from .conftest import clean_env, run_python

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def test_a_tenant_task_writes_into_the_tenant_it_was_sent_for(eager_tasks, tenant_a, tenant_b):
    eager_tasks.record_person.delay(tenant_id=tenant_a.pk, employee_id="T1", name="Tia")

    with tenant_context(tenant_a):
        assert list(Person.objects.values_list("name", flat=True)) == ["Tia"]
    with tenant_context(tenant_b):
        assert not Person.objects.exists()


def test_the_body_receives_the_tenant_and_runs_with_it_active(eager_tasks, tenant_a):
    result = eager_tasks.note_tenant.delay(tenant_id=tenant_a.pk, label="x")

    assert result.get() == "acme"
    assert eager_tasks.seen[0]["tenant"] == "acme"


def test_a_deleted_tenant_is_skipped_quietly_with_a_log_line(eager_tasks, caplog):
    gone = TenantFactory(slug="gone")
    gone_id = gone.pk
    gone.delete()

    with caplog.at_level(logging.INFO, logger="spm.tasks"):
        result = eager_tasks.note_tenant.delay(tenant_id=gone_id)

    assert result.get() is None
    assert eager_tasks.seen == []
    assert f"tenant {gone_id} is gone or inactive" in caplog.text


def test_an_inactive_tenant_is_skipped(eager_tasks):
    dormant = TenantFactory(slug="dormant", is_active=False)

    assert eager_tasks.note_tenant.delay(tenant_id=dormant.pk).get() is None
    assert eager_tasks.seen == []


def test_a_task_sent_without_tenant_id_is_refused_when_sent(eager_tasks):
    with pytest.raises(TypeError, match="tenant_id"):
        eager_tasks.note_tenant.delay(label="nobody")


@pytest.mark.parametrize("bad", ["1", 1.0, True, None])
def test_tenant_id_must_be_an_int(eager_tasks, tenant_a, bad):
    with pytest.raises(TypeError, match="tenant_id must be an int"):
        eager_tasks.note_tenant.delay(tenant_id=bad)


def test_a_task_without_a_tenant_cannot_read_tenant_rows_through_the_orm(eager_tasks, tenant_a):
    with tenant_context(tenant_a):
        PersonFactory()

    seen = eager_tasks.probe_without_tenant.delay().get()

    assert seen["orm"] == "TenantNotActiveError"


@pytest.mark.postgres
def test_a_task_without_a_tenant_sees_no_rows_through_raw_sql(eager_tasks, tenant_a):
    if connection.vendor != "postgresql":
        pytest.skip("row-level security is a PostgreSQL feature")
    with tenant_context(tenant_a):
        PersonFactory()

    assert eager_tasks.probe_without_tenant.delay().get()["raw_rows"] == 0


def test_the_tenant_is_not_left_active_after_the_task(eager_tasks, tenant_a):
    eager_tasks.note_tenant.delay(tenant_id=tenant_a.pk)

    with pytest.raises(TenantNotActiveError):
        Person.objects.count()


@pytest.fixture
def worker_like(eager_tasks):
    """Eager tasks that keep errors on their result, as a worker does (Celery retries an eager
    task only then; with errors propagating, the internal Retry signal would escape instead)."""
    celery_app.conf.task_eager_propagates = False
    return eager_tasks


def test_a_transient_database_error_is_retried_until_it_passes(worker_like, tenant_a):
    result = worker_like.fail_then_succeed.delay(
        tenant_id=tenant_a.pk, failures=2, error="database"
    )

    assert result.get() == 3


def test_retries_stop_after_five(worker_like, tenant_a):
    from django.db import OperationalError

    result = worker_like.fail_then_succeed.delay(
        tenant_id=tenant_a.pk, failures=99, error="database"
    )

    with pytest.raises(OperationalError):
        result.get()
    assert worker_like.attempts["database"] == 1 + MAX_RETRIES


def test_a_programming_error_is_not_retried(worker_like, tenant_a):
    result = worker_like.fail_then_succeed.delay(tenant_id=tenant_a.pk, failures=1, error="value")

    with pytest.raises(ValueError, match="a bug"):
        result.get()
    assert worker_like.attempts["value"] == 1


def test_more_than_five_retries_cannot_be_declared():
    with pytest.raises(ValueError, match="max_retries"):
        tenant_task(max_retries=MAX_RETRIES + 1)


def test_only_idempotent_tasks_acknowledge_late_and_requeue_on_a_lost_worker(eager_tasks):
    assert eager_tasks.record_person.acks_late is True
    assert eager_tasks.record_person.reject_on_worker_lost is True
    assert eager_tasks.note_tenant.acks_late is False
    assert not eager_tasks.note_tenant.reject_on_worker_lost
    assert celery_app.conf.task_acks_late is False


def test_dispatch_on_commit_waits_for_the_commit(
    eager_tasks, tenant_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            dispatch_on_commit(eager_tasks.note_tenant, tenant=tenant_a, label="after")
            assert eager_tasks.seen == []

    assert len(callbacks) == 1
    assert [s["label"] for s in eager_tasks.seen] == ["after"]


def test_dispatch_on_commit_sends_nothing_when_the_transaction_rolls_back(
    eager_tasks, tenant_a, django_capture_on_commit_callbacks
):
    def failing_request() -> None:
        with transaction.atomic():
            dispatch_on_commit(eager_tasks.note_tenant, tenant=tenant_a, label="never")
            raise RuntimeError("the request failed")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            failing_request()

    assert callbacks == []
    assert eager_tasks.seen == []


def test_a_task_sent_from_a_request_logs_under_the_requests_id(eager_tasks, tenant_a):
    from spm.logging import bound_request_id

    with bound_request_id("req-42"):
        eager_tasks.note_tenant.delay(tenant_id=tenant_a.pk)

    assert eager_tasks.seen[0]["request_id"] == "req-42"


def test_fan_out_sends_the_task_once_per_active_tenant(eager_tasks, tenant_a, tenant_b):
    from spm.tasks import fan_out_to_tenants

    TenantFactory(slug="dormant", is_active=False)

    sent = fan_out_to_tenants.delay(eager_tasks.note_tenant.name, label="nightly").get()

    assert sent == 2
    assert sorted(s["tenant"] for s in eager_tasks.seen) == ["acme", "globex"]


def test_fan_out_refuses_a_task_that_is_not_a_tenant_task(eager_tasks):
    from spm.tasks import fan_out_to_tenants

    with pytest.raises(ValueError, match="not a tenant task"):
        fan_out_to_tenants.delay(eager_tasks.probe_without_tenant.name)


def test_celery_speaks_json_only_and_every_task_has_time_limits():
    conf = celery_app.conf
    assert conf.accept_content == ["json"]
    assert conf.task_serializer == "json"
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit


def test_redis_redelivers_only_after_the_longest_a_task_or_its_backoff_can_take():
    visibility = celery_app.conf.broker_transport_options["visibility_timeout"]
    assert visibility > celery_app.conf.task_time_limit
    assert visibility > RETRY_BACKOFF_MAX_SECONDS


def test_every_beat_entry_is_a_known_task_on_a_utc_crontab_that_expires():
    celery_app.loader.import_default_modules()
    assert celery_app.conf.timezone == "UTC"
    assert settings.CELERY_BEAT_SCHEDULE
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in celery_app.tasks, name
        assert isinstance(entry["schedule"], crontab), name
        assert entry["options"]["expires"] > 0, name


def test_clear_expired_sessions_removes_only_expired_sessions(eager_tasks):
    import datetime

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from spm.tasks import clear_expired_sessions

    day = datetime.timedelta(days=1)
    Session.objects.create(session_key="old", session_data="", expire_date=timezone.now() - day)
    Session.objects.create(session_key="new", session_data="", expire_date=timezone.now() + day)

    clear_expired_sessions.delay()

    assert list(Session.objects.values_list("session_key", flat=True)) == ["new"]


def test_without_redis_url_tasks_run_eagerly_in_process():
    probe = (
        "import django; django.setup()\n"
        "from spm.celery import app\n"
        "@app.task(name='probe')\n"
        "def probe(x):\n"
        "    return x * 2\n"
        "result = probe.delay(21)\n"
        "print(type(result).__name__, result.get(), app.conf.broker_url)\n"
    )
    embedded = run_python(["-c", probe], clean_env(DEBUG="1"))
    assert embedded.returncode == 0, embedded.stderr
    assert embedded.stdout.split() == ["EagerResult", "42", "memory://"]

    configured = run_python(
        [
            "-c",
            "import django; django.setup()\nfrom spm.celery import app\n"
            "print(app.conf.task_always_eager, app.conf.broker_url)",
        ],
        clean_env(DEBUG="1", REDIS_URL="redis://127.0.0.1:6379/15"),
    )
    assert configured.returncode == 0, configured.stderr
    assert configured.stdout.split() == ["False", "redis://127.0.0.1:6379/15"]
