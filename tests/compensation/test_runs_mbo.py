"""MBO scores entered in the product reach the engine: a scored payee is paid target incentive
x weight x score for the window, an unscored one is reported, and a changed score changes the
run's inputs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from compensation.mbo import mbo_score_set
from compensation.models import LineItem, RunStatus
from compensation.services.runs import calculation_run
from spm.tenancy.context import tenant_context

from .mbo_world import build_mbo_world

pytestmark = pytest.mark.django_db

TARGET = Decimal("60000.00")  # a year, assigned for the whole of it
WEIGHT = Decimal("0.20")


@pytest.fixture
def world(tenant_a, make_member):
    return build_mbo_world(tenant_a, make_member)


def _mbo_lines(run, person) -> list[LineItem]:
    return list(LineItem.objects.filter(run=run, payee=person, line_type="mbo"))


@pytest.mark.smoke
def test_a_scored_payee_is_paid_and_an_unscored_one_is_reported(tenant_a, world):
    with tenant_context(tenant_a):
        mbo_score_set(payee=world.ann, component=world.objectives, window=world["Q1"],
                      score_pct=Decimal("85"))
        run = calculation_run(tenant=tenant_a, period=world["Q1"])
        ann = _mbo_lines(run, world.ann)
        zed = _mbo_lines(run, world.zed)
    assert run.status == RunStatus.SUCCEEDED
    quarter_target = TARGET / 4
    assert [line.amount for line in ann] == [
        (quarter_target * WEIGHT * Decimal("0.85")).quantize(Decimal("0.01"))]
    assert ann[0].period_id == world["2026-03"].pk  # paid with the quarter's last month
    assert "85" in ann[0].explanation_text
    assert sum(line.amount for line in zed) == 0
    assert any(issue["code"] == "no_mbo_score" and str(issue["payee_id"]) == str(world.zed.pk)
               for issue in run.issues)


def test_a_score_above_the_maximum_pays_the_maximum_and_a_change_changes_the_inputs(
        tenant_a, world):
    with tenant_context(tenant_a):
        mbo_score_set(payee=world.ann, component=world.objectives, window=world["Q1"],
                      score_pct=Decimal("150"))
        first = calculation_run(tenant=tenant_a, period=world["Q1"])
        paid = [line.amount for line in _mbo_lines(first, world.ann)]
        mbo_score_set(payee=world.ann, component=world.objectives, window=world["Q1"],
                      score_pct=Decimal("100"))
        second = calculation_run(tenant=tenant_a, period=world["Q1"])
    assert paid == [(TARGET / 4 * WEIGHT * Decimal("1.20")).quantize(Decimal("0.01"))]
    assert second.inputs_fingerprint != first.inputs_fingerprint
    assert second.inputs["counts"]["mbo_scores"] == 1


def test_entering_or_clearing_a_score_asks_to_recompute_that_payee(
        tenant_a, world, monkeypatch, django_capture_on_commit_callbacks):
    from django.core.cache import cache

    from compensation import tasks
    from compensation.models import RecomputeRequest

    sent = []
    monkeypatch.setattr(tasks.recompute_pending, "apply_async",
                        lambda kwargs, countdown=None: sent.append(kwargs["tenant_id"]))
    cache.clear()
    with django_capture_on_commit_callbacks(execute=True), tenant_context(tenant_a):
        RecomputeRequest.objects.all().delete()
        mbo_score_set(payee=world.ann, component=world.objectives, window=world["Q1"],
                      score_pct=Decimal("90"))
        mbo_score_set(payee=world.zed, component=world.objectives, window=world["Q1"],
                      score_pct=Decimal("70"))
        payees = set(RecomputeRequest.objects.values_list("payee_id", flat=True))
    assert payees == {world.ann.pk, world.zed.pk}
    assert sent == [tenant_a.pk]  # folded into one
    cache.clear()
    with django_capture_on_commit_callbacks(execute=True), tenant_context(tenant_a):
        mbo_score_set(payee=world.ann, component=world.objectives, window=world["Q1"],
                      score_pct=None)
    assert sent == [tenant_a.pk, tenant_a.pk]
