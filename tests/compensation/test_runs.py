"""Calculation runs: results replaced in one transaction, idempotent, locked periods refused."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db.models import Sum

from compensation.models import CalculationRun, LineItem, PayeePeriodResult, RunStatus
from compensation.services.recompute import calculate_years
from compensation.services.runs import (
    PeriodLockedError,
    calculation_run,
    run_inputs,
)
from spm.tenancy.context import tenant_context

from .runs_world import build_world, credit_deal

pytestmark = pytest.mark.django_db
TIMES = "\N{MULTIPLICATION SIGN}"


def _lines(period_ids: list[int]) -> list[tuple]:
    return list(LineItem.objects.filter(period_id__in=period_ids).order_by(
        "payee_id", "period_id", "deal_id", "line_type").values_list(
        "payee_id", "period_id", "plan_version_id", "component_id", "kind", "line_type",
        "credit_id", "deal_id", "window", "measure", "basis", "cumulative", "quota",
        "attainment", "tier", "rate", "amount", "rounding_carry", "capped", "explanation_text"))


@pytest.fixture
def world(tenant_a):
    with tenant_context(tenant_a):
        world = build_world(reps=2)
        ann, bob = world.reps
        credit_deal(world, ann, "60000.00", datetime.date(2026, 1, 10))
        credit_deal(world, ann, "60000.00", datetime.date(2026, 1, 20))
        credit_deal(world, bob, "30000.00", datetime.date(2026, 2, 3))
        credit_deal(world, ann, "250000.00", datetime.date(2026, 3, 5))
    return world


@pytest.mark.smoke
def test_a_run_writes_each_credits_line_with_its_tier_and_explanation(tenant_a, world):
    with tenant_context(tenant_a):
        run = calculation_run(tenant=tenant_a, period=world.month("2026-01"), actor=None)
        assert run.status == RunStatus.SUCCEEDED, run.error
        lines = list(LineItem.objects.filter(run=run).select_related("component")
                     .order_by("pk"))
    assert [line.amount for line in lines] == [Decimal("4800.00"), Decimal("5600.00")]
    assert [line.tier for line in lines] == [1, 2]
    assert lines[1].explanation_text == \
        f"graduated: 40,000.00 {TIMES} 8% + 20,000.00 {TIMES} 12% = 5,600.00"
    assert lines[1].deal_id == world.deals[1].pk
    assert lines[1].credit_id == world.credits[1].pk
    assert lines[1].component.code == "commission"
    assert lines[1].plan_version_id == world.version.pk
    assert lines[1].attainment == Decimal("1.200000")
    assert run.line_count == 2
    assert run.total_amount == Decimal("10400.00")
    assert len(run.inputs_fingerprint) == 64


def test_a_payee_period_result_totals_its_lines_to_the_cent(tenant_a, world):
    with tenant_context(tenant_a):
        run = calculation_run(tenant=tenant_a, period=world.quarter, actor=None)
        assert run.status == RunStatus.SUCCEEDED, run.error
        results = list(PayeePeriodResult.objects.filter(run=run))
        assert len(results) == 6  # two reps, three months: assigned months get a row
        for result in results:
            summed = LineItem.objects.filter(
                run=run, payee_id=result.payee_id, period_id=result.period_id,
            ).aggregate(total=Sum("amount"))["total"] or Decimal("0.00")
            assert result.total == summed
        ann_march = next(r for r in results if r.payee_id == world.reps[0].pk
                         and r.period_id == world.month("2026-03").pk)
    # 250,000 on a 100,000 quota: 8,000 + 6,000 + 15,000 = 29,000, capped at 20,000.
    assert ann_march.total == Decimal("20000.00")
    assert ann_march.credited == Decimal("250000.00")
    assert ann_march.quota == Decimal("100000.00")
    assert ann_march.attainment == Decimal("2.500000")
    assert ann_march.target_incentive == Decimal("5000.00")


def test_running_twice_gives_identical_lines_and_the_same_fingerprint(tenant_a, world):
    month_ids = [p.pk for p in world.months.values()]
    with tenant_context(tenant_a):
        first = calculation_run(tenant=tenant_a, period=world.quarter, actor=None)
        before = _lines(month_ids)
        second = calculation_run(tenant=tenant_a, period=world.quarter, actor=None)
        after = _lines(month_ids)
        first.refresh_from_db()
        assert LineItem.objects.filter(run=first).count() == 0
    assert before == after
    assert len(after) == 4
    assert second.inputs_fingerprint == first.inputs_fingerprint
    assert first.status == RunStatus.SUPERSEDED
    assert second.status == RunStatus.SUCCEEDED


def test_a_new_credit_changes_the_fingerprint(tenant_a, world):
    with tenant_context(tenant_a):
        first = calculation_run(tenant=tenant_a, period=world.month("2026-02"), actor=None)
        credit_deal(world, world.reps[1], "1000.00", datetime.date(2026, 2, 9))
        second = calculation_run(tenant=tenant_a, period=world.month("2026-02"), actor=None)
    assert second.inputs_fingerprint != first.inputs_fingerprint
    assert second.line_count == first.line_count + 1


def test_a_run_that_fails_half_way_leaves_the_previous_results(tenant_a, world, monkeypatch):
    from compensation.services import runs

    month_ids = [p.pk for p in world.months.values()]
    with tenant_context(tenant_a):
        good = calculation_run(tenant=tenant_a, period=world.quarter, actor=None)
        before = _lines(month_ids)
        credit_deal(world, world.reps[1], "1000.00", datetime.date(2026, 2, 9))

        def crash(*, run: CalculationRun, **kwargs: object) -> None:
            assert LineItem.objects.filter(run=run).exists()  # the new lines were written
            raise RuntimeError("worker lost mid-run")

        # The step after the lines are written: failing there fails the run half-way.
        monkeypatch.setattr(runs, "_write_balances", crash)
        failed = calculation_run(tenant=tenant_a, period=world.quarter, actor=None)
        after = _lines(month_ids)
        good.refresh_from_db()
        assert PayeePeriodResult.objects.filter(run=good).count() == 6
    assert failed.status == RunStatus.FAILED
    assert "worker lost mid-run" in failed.error
    assert after == before
    assert good.status == RunStatus.SUCCEEDED


@pytest.mark.smoke
def test_an_engine_failure_while_the_old_results_are_deleted_keeps_them(tenant_a, world,
                                                                         monkeypatch):
    # The engine runs beside the delete of the results it replaces; when it fails, the delete
    # must be rolled back with the rest of the run.
    from compensation.services import runs

    month_ids = [p.pk for p in world.months.values()]
    with tenant_context(tenant_a):
        good = calculation_run(tenant=tenant_a, period=world.quarter, actor=None)
        before = _lines(month_ids)

        def broken(**kwargs):
            raise RuntimeError("engine blew up")

        monkeypatch.setattr(runs, "calculate", broken)
        failed = calculation_run(tenant=tenant_a, period=world.quarter, actor=None)
        after = _lines(month_ids)
        results = PayeePeriodResult.objects.filter(run=good).count()
    assert failed.status == RunStatus.FAILED
    assert "engine blew up" in failed.error
    assert after == before != []
    assert results == 6


def test_a_locked_period_is_refused_and_nothing_is_written(tenant_a, world):
    with tenant_context(tenant_a):
        march = world.month("2026-03")
        march.status = "locked"
        march.save()
        with pytest.raises(PeriodLockedError, match="locked"):
            calculation_run(tenant=tenant_a, period=world.quarter, actor=None)
        with pytest.raises(PeriodLockedError, match="Mar"):
            calculation_run(tenant=tenant_a, period=march, actor=None)
        assert CalculationRun.objects.count() == 0
        assert LineItem.objects.count() == 0


def test_a_month_run_counts_the_earlier_months_of_the_year_but_writes_only_its_own(
        tenant_a, world):
    with tenant_context(tenant_a):
        inputs = run_inputs(tenant=tenant_a, period=world.month("2026-03"))
        run = calculation_run(tenant=tenant_a, period=world.month("2026-03"), actor=None)
        periods = set(LineItem.objects.filter(run=run).values_list("period_id", flat=True))
    assert sorted(inputs.credits["period"]) == ["2026-01", "2026-01", "2026-02", "2026-03"]
    assert periods == {world.month("2026-03").pk}


def test_a_rep_of_another_tenant_is_not_read_or_replaced(tenant_a, tenant_b, world):
    with tenant_context(tenant_b):
        other = build_world(reps=1)
        credit_deal(other, other.reps[0], "5000.00", datetime.date(2026, 1, 4))
        theirs = calculation_run(tenant=tenant_b, period=other.month("2026-01"), actor=None)
    with tenant_context(tenant_a):
        calculation_run(tenant=tenant_a, period=world.month("2026-01"), actor=None)
        payees = set(LineItem.objects.values_list("payee_id", flat=True))
    with tenant_context(tenant_b):
        assert LineItem.objects.filter(run=theirs).count() == 1
    assert payees == {world.reps[0].pk}


def test_the_demo_calculation_gives_every_assigned_rep_results_for_each_month(tenant_a, world):
    with tenant_context(tenant_a):
        runs = calculate_years(tenant=tenant_a, through=datetime.date(2026, 6, 30))
        results = PayeePeriodResult.objects.filter(run__in=runs)
        people = set(results.values_list("payee_id", flat=True))
        months = results.values("period_id").distinct().count()
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED]
    assert people == {rep.pk for rep in world.reps}
    assert months == 12
