"""A run computes payees in groups beside its writes; the groups must not change a single cent,
line, result or issue compared with computing everyone at once."""

from __future__ import annotations

import datetime

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compensation.engine import calculate
from compensation.engine.calendar import Calendar
from compensation.models import CalculationRun, LineItem, PayeePeriodResult, RunStatus
from compensation.run_frames import payee_groups
from compensation.services import runs
from spm.demo.generate import DemoSpec
from spm.demo.steps import (
    STEPS,
    DemoContext,
    ensure_tenant,
    ensure_users,
    run_calculations,
    run_steps,
)
from spm.org.models import Period
from spm.tenancy.context import tenant_context

from .strategies import PERIODS, draw_plans, scenarios
from .test_engine_properties import as_rows, first_difference

AS_OF = datetime.date(2026, 5, 20)
LINE_FIELDS = ("payee_id", "period_id", "plan_version_id", "component_id", "kind", "line_type",
               "credit_id", "deal_id", "window", "measure", "basis", "cumulative", "quota",
               "attainment", "tier", "rate", "amount", "rounding_carry", "capped",
               "explanation_text")
RESULT_FIELDS = ("payee_id", "period_id", "plan_version_id", "credited", "quota", "attainment",
                 "target_incentive", "earnings", "clawbacks", "adjustments", "draw", "total",
                 "line_count")


@pytest.fixture
def demo(db):
    tenant = ensure_tenant(slug="acme")
    users = ensure_users(tenant=tenant, password="demo")
    spec = DemoSpec(reps=9, years=2, deals=1500, as_of=AS_OF, seed=4)
    ctx = DemoContext(spec=spec, tenant=tenant, users=users, log=lambda _: None)
    with tenant_context(tenant):
        # Up to the calculation: the pay steps after it approve and pay months, which are then
        # final, and this test recalculates the whole year.
        run_steps(ctx, STEPS[: STEPS.index(run_calculations) + 1])
    return tenant


def _outcome(run: CalculationRun) -> tuple:
    lines = sorted(LineItem.objects.filter(run=run).values_list(*LINE_FIELDS),
                   key=lambda row: tuple(str(v) for v in row))
    results = sorted(PayeePeriodResult.objects.filter(run=run).values_list(*RESULT_FIELDS))
    issues = sorted(str(sorted(issue.items())) for issue in run.issues)
    return lines, results, issues, run.total_amount, run.line_count


@pytest.mark.django_db
def test_payees_in_groups_of_one_give_exactly_what_everyone_at_once_gives(demo, monkeypatch):
    with tenant_context(demo):
        year = Period.objects.filter(kind="year", start_date__lte=AS_OF).latest("start_date")
        monkeypatch.setattr(runs, "PAYEES_PER_GROUP", 10**9)
        whole = runs.calculation_run(tenant=demo, period=year)
        at_once = _outcome(whole)
        monkeypatch.setattr(runs, "PAYEES_PER_GROUP", 1)
        grouped = runs.calculation_run(tenant=demo, period=year)
        in_groups = _outcome(grouped)
    assert whole.status == grouped.status == RunStatus.SUCCEEDED
    assert whole.inputs["payees"] > 10
    assert at_once[4] > 300  # enough lines to mean something
    assert in_groups == at_once


# -- the engine on random inputs, whole and in groups of one payee --------------------------------

def _inputs(scenario: dict, calendar, cancellations, opening) -> runs.RunInputs:
    adjustments = pd.DataFrame({"adjustment_id": [], "payee_id": [], "period_id": [],
                                "deal_id": [], "amount_cents": [], "reason": []})
    return runs.RunInputs(
        period=None, months=[], year_months=[], calendar=calendar, versions=[],
        plans=scenario["plans"], credits=scenario["credits"], quotas=scenario["quotas"],
        assignments=scenario["assignments"], cancellations=cancellations,
        opening_balances=opening, adjustments=adjustments,
        mbo_scores=scenario.get("mbo_scores", pd.DataFrame(
            columns=["payee_id", "component", "window", "score_pct"])))


def _run(inputs: runs.RunInputs):
    return calculate(plans=inputs.plans, credits=inputs.credits, quotas=inputs.quotas,
                     assignments=inputs.assignments, calendar=inputs.calendar,
                     cancellations=inputs.cancellations if len(inputs.cancellations) else None,
                     opening_balances=inputs.opening_balances,
                     mbo_scores=inputs.mbo_scores if len(inputs.mbo_scores) else None)


def _issue_set(frames) -> set[tuple]:
    found = set()
    for frame in frames:
        for row in frame.to_dict("records"):
            found.add(tuple(None if v is None or v is pd.NA or v != v else str(v)
                            for v in row.values()))
    return found


def _assert_groups_match(inputs: runs.RunInputs) -> None:
    whole = _run(inputs)
    parts = [_run(group) for group in payee_groups(inputs, per_group=1)]
    grouped = [row for part in parts for row in as_rows(part.lines)]
    assert grouped == as_rows(whole.lines), first_difference(grouped, as_rows(whole.lines))
    assert _issue_set([p.issues for p in parts]) == _issue_set([whole.issues])
    balances = pd.concat([p.draw_balances for p in parts], ignore_index=True)
    assert sorted(map(tuple, balances.astype(object).to_numpy().tolist())) == sorted(
        map(tuple, whole.draw_balances.astype(object).to_numpy().tolist()))


@settings(deadline=None, max_examples=80,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenarios(max_credits=12))
def test_any_plan_gives_the_same_lines_whole_and_by_payee(scenario):
    no_events = pd.DataFrame(columns=["deal_id", "close_date", "cancel_date", "period"])
    no_balances = pd.DataFrame(columns=["payee_id", "component", "balance_cents"])
    _assert_groups_match(_inputs(scenario, Calendar.covering(PERIODS), no_events, no_balances))


@settings(deadline=None, max_examples=80,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenarios(max_credits=10), st.data())
def test_draws_and_clawbacks_give_the_same_lines_whole_and_by_payee(scenario, data):
    plans = data.draw(draw_plans())
    scenario = dict(scenario, plans=plans)
    scenario.pop("mbo_scores")
    scenario["assignments"] = scenario["assignments"].assign(plan="AE").drop_duplicates(
        ["payee_id", "period"])
    credits = scenario["credits"]
    deals = sorted(set(credits["deal_id"]))
    # Some cancelled deals were never credited: the first group still reports them.
    cancelled = data.draw(st.lists(st.sampled_from([*deals, 99_001, 99_002]), unique=True,
                                   max_size=4))
    close = {d: credits.loc[credits.deal_id == d, "close_date"].min() if d in deals
             else pd.Timestamp("2026-02-10") for d in cancelled}
    events = pd.DataFrame({
        "deal_id": cancelled,
        "close_date": [close[d] for d in cancelled],
        # A cancellation before the close is reported, credited or not.
        "cancel_date": [close[d] + pd.Timedelta(days=data.draw(
            st.integers(-5, 120) if d in deals else st.just(-3))) for d in cancelled],
        "period": [data.draw(st.sampled_from(PERIODS[2:])) for _ in cancelled],
    })
    opening = pd.DataFrame({"payee_id": [101], "component": ["draw"],
                            "balance_cents": [data.draw(st.sampled_from((0, 5_000, 250_000)))]})
    _assert_groups_match(_inputs(scenario, Calendar.covering(PERIODS), events, opening))
