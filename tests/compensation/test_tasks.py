"""Recompute tasks: one period per task, idempotent, debounced after changes, scheduled nightly."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.core.cache import cache

from compensation import tasks
from compensation.models import CalculationRun, LineItem, RunStatus
from spm.tenancy.context import tenant_context

from .runs_world import build_world, credit_deal

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tenant_a):
    with tenant_context(tenant_a):
        world = build_world(reps=1)
        credit_deal(world, world.reps[0], "50000.00", datetime.date(2026, 1, 12))
    return world


@pytest.mark.smoke
def test_the_task_calculates_its_period_and_a_rerun_replaces_it(tenant_a, world):
    january = world.month("2026-01")
    first = tasks.recompute_period.apply(kwargs={"tenant_id": tenant_a.pk,
                                                 "period_id": january.pk}).get()
    second = tasks.recompute_period.apply(kwargs={"tenant_id": tenant_a.pk,
                                                  "period_id": january.pk}).get()
    with tenant_context(tenant_a):
        statuses = list(CalculationRun.objects.order_by("pk").values_list("status", flat=True))
        lines = LineItem.objects.count()
    assert (first, second) == (RunStatus.SUCCEEDED, RunStatus.SUCCEEDED)
    assert statuses == [RunStatus.SUPERSEDED, RunStatus.SUCCEEDED]
    assert lines == 1


def test_the_task_skips_a_locked_period_without_retrying(tenant_a, world):
    with tenant_context(tenant_a):
        january = world.month("2026-01")
        january.status = "locked"
        january.save()
    outcome = tasks.recompute_period.apply(kwargs={"tenant_id": tenant_a.pk,
                                                   "period_id": january.pk}).get()
    assert outcome == "locked"


def test_the_task_is_idempotent_and_late_acknowledged():
    assert tasks.recompute_period.idempotent is True
    assert tasks.recompute_period.acks_late is True
    assert tasks.recompute_period.reject_on_worker_lost is True


def test_a_recorded_change_sends_one_task_until_that_task_starts(
        tenant_a, django_capture_on_commit_callbacks, monkeypatch):
    cache.clear()
    sent: list[dict] = []
    monkeypatch.setattr(tasks.recompute_pending, "apply_async",
                        lambda kwargs, countdown=None: sent.append(kwargs))
    with django_capture_on_commit_callbacks(execute=True), tenant_context(tenant_a):
        recorded = [tasks.recompute_soon(tenant=tenant_a, payee_ids=[7]) for _ in range(5)]
    assert recorded == [True] * 5
    assert sent == [{"tenant_id": tenant_a.pk}]
    tasks.recompute_pending.run(tenant_id=tenant_a.pk)
    with django_capture_on_commit_callbacks(execute=True), tenant_context(tenant_a):
        tasks.recompute_soon(tenant=tenant_a, payee_ids=[7])
    assert len(sent) == 2


def test_a_change_that_rolls_back_records_and_sends_nothing(
        tenant_a, django_capture_on_commit_callbacks, monkeypatch):
    from django.db import transaction

    from compensation.models import RecomputeRequest

    cache.clear()
    sent: list[dict] = []
    monkeypatch.setattr(tasks.recompute_pending, "apply_async",
                        lambda kwargs, countdown=None: sent.append(kwargs))
    with django_capture_on_commit_callbacks(execute=True), tenant_context(tenant_a):
        try:
            with transaction.atomic():
                tasks.recompute_soon(tenant=tenant_a, deal_ids=[1, 2])
                raise RuntimeError("the change fails after recording")
        except RuntimeError:
            pass
        assert RecomputeRequest.objects.count() == 0
    assert sent == []


def test_open_months_up_to_today_are_sent_and_locked_ones_skipped(
        tenant_a, world, django_capture_on_commit_callbacks, time_machine, eager_tasks):
    time_machine.move_to(datetime.datetime(2026, 3, 15, 12, tzinfo=datetime.UTC))
    with tenant_context(tenant_a):
        january = world.month("2026-01")
        january.status = "locked"
        january.save()
    with django_capture_on_commit_callbacks(execute=True):
        sent = tasks.recompute_open_periods.apply(kwargs={"tenant_id": tenant_a.pk}).get()
    with tenant_context(tenant_a):
        periods = sorted(CalculationRun.objects.values_list("period__label", flat=True))
    assert sent == 2
    assert periods == sorted([str(world.month("2026-02")), str(world.month("2026-03"))])


def test_beat_sends_the_open_period_recompute_to_every_tenant():
    entry = settings.CELERY_BEAT_SCHEDULE["recompute-open-periods"]
    assert entry["task"] == "spm.tasks.fan_out_to_tenants"
    assert entry["args"] == ["compensation.recompute_open_periods"]
    assert tasks.recompute_open_periods.tenant_scoped is True
