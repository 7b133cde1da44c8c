"""Bad and awkward input: every problem listed at once, no credit dropped without a report."""

from __future__ import annotations

import datetime
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from compensation.engine import (
    Calendar,
    Component,
    EngineInputError,
    PlanInvalid,
    PlanVersion,
    RateTable,
    Tier,
)
from compensation.engine import text as engine_text

from .builders import (
    D,
    assignments,
    cents,
    credits,
    monthly,
    pct,
    plan,
    quotas,
    run,
    table_component,
)

FLAT_TEN = plan(table_component(tiers=(Tier(D(0), None, rate=pct(10)),), basis="amount"))


def test_every_missing_column_is_listed_in_one_error():
    with pytest.raises(EngineInputError) as caught:
        run(FLAT_TEN, credits({"amount": 1}).drop(columns=["deal_id", "credit_date"]),
            quotas({}).drop(columns=["quota_cents"]))
    assert caught.value.errors == [
        "credits: missing column(s) deal_id, credit_date",
        "quotas: missing column(s) quota_cents",
    ]


def test_money_as_floats_is_refused():
    rows = credits({"amount": 10}).astype({"amount_cents": "float64"})
    with pytest.raises(EngineInputError, match="amount_cents: must hold whole numbers"):
        run(FLAT_TEN, rows)


def test_unknown_periods_repeated_ids_and_float_prorations_are_all_reported():
    rows = pd.concat([credits({"amount": 1}),
                      credits({"amount": 2, "period": "2026-13",
                               "date": datetime.date(2026, 1, 5)})])
    assigned = assignments(monthly()).assign(proration=[0.5])
    with pytest.raises(EngineInputError) as caught:
        run(FLAT_TEN, rows, assignment_rows=assigned)
    message = str(caught.value)
    assert "Period keys must look like 2026-03" in message
    with pytest.raises(EngineInputError) as caught:
        run(FLAT_TEN, rows, assignment_rows=assigned, calendar=Calendar.fiscal(2026, 2026))
    assert sorted(caught.value.errors) == [
        "assignments.proration: 1 value(s) are not exact numbers (use int, Decimal, Fraction "
        "or text such as '15/31'; floats are refused)",
        "credits.credit_id: ids repeat (1)",
        "credits.period: not in the calendar: 2026-13",
    ]


def test_an_invalid_plan_is_refused_with_every_error_and_its_path():
    table = RateTable(tiers=(Tier(D(0), pct(50), rate=pct(5)),
                             Tier(pct(60), None, rate=pct(-1))))
    gapped = PlanVersion("AE", 1, components=(Component("c", "C", table),))
    with pytest.raises(PlanInvalid) as caught:
        run({"AE": gapped}, credits())
    assert caught.value.errors == [
        "AE: components[0].tiers[1].from: leaves a gap after tiers[0], which ends at 50%",
        "AE: components[0].tiers[1].rate: must be ≥ 0",
    ]


def test_a_credit_nobody_is_assigned_to_is_reported_not_silently_dropped():
    result = run(FLAT_TEN, credits({"amount": 100}, {"amount": 100, "payee": "zed"}))
    assert result.lines["payee_id"].tolist() == ["ann"]
    issue = result.issues.iloc[0]
    assert (issue["severity"], issue["code"], issue["payee_id"], issue["credit_id"]) == (
        "error", "unassigned_credit", "zed", 2)


def test_a_mid_month_plan_change_sends_each_credit_to_the_plan_of_its_date():
    plans = {**FLAT_TEN, "SE": PlanVersion("SE", 1, components=(table_component(
        tiers=(Tier(D(0), None, rate=pct(20)),), basis="amount"),))}
    assigned = pd.DataFrame({
        "payee_id": ["ann", "ann"], "period": ["2026-01", "2026-01"], "plan": ["AE", "SE"],
        "valid_from": [pd.NaT, pd.Timestamp("2026-01-16")],
        "valid_to": [pd.Timestamp("2026-01-16"), pd.NaT]})
    result = run(plans, credits({"amount": 100, "date": datetime.date(2026, 1, 15)},
                                {"amount": 100, "date": datetime.date(2026, 1, 16)}),
                 assignment_rows=assigned)
    assert list(zip(result.lines["plan"], cents(result.lines), strict=True)) == [
        ("AE", 1_000), ("SE", 2_000)]


def test_two_plans_covering_the_same_credit_are_reported():
    plans = {**FLAT_TEN, "SE": FLAT_TEN["AE"]}
    assigned = pd.concat([assignments(monthly()), assignments(monthly(), plan_key="SE")])
    result = run(plans, credits({"amount": 100}), assignment_rows=assigned)
    assert result.lines.empty
    assert result.issues["code"].tolist() == ["ambiguous_assignment"]


def test_the_prorated_target_is_rounded_half_up_per_assignment():
    from compensation.engine import Cap

    capped = plan(table_component(tiers=(Tier(D(0), None, rate=pct(100)),), basis="amount",
                                  caps=(Cap("period", target_multiple=D(1)),)))
    result = run(capped, credits({"amount": 1_000}),
                 assignment_rows=assignments([("ann", "2026-01", "100.01", "1/2")]))
    assert cents(result.lines) == [5_001]  # 100.01 / 2 = 50.005, half-up to 50.01


def test_an_empty_calculation_returns_empty_tables_with_their_columns():
    result = run(FLAT_TEN, credits())
    assert result.lines.empty
    assert result.totals.empty
    assert result.issues.empty
    assert "amount_cents" in result.lines.columns


@given(st.lists(st.integers(-(2**63) + 1, 2**63 - 1), min_size=1, max_size=50))
def test_money_text_matches_python_formatting_for_any_cents(values):
    array = np.array(values, dtype=np.int64)
    expected = [f"{'-' if v < 0 else ''}{abs(v) // 100:,}.{abs(v) % 100:02d}" for v in values]
    assert engine_text.money(array).tolist() == expected
    assert engine_text.count(array).tolist() == [f"{v:,}" for v in values]


def test_percent_labels_are_exact():
    assert engine_text.percent_label(Decimal("0.0825")) == "8.25%"
    assert engine_text.percent_label(Decimal("0.1")) == "10%"
    assert engine_text.percent_label(Decimal("1.5")) == "150%"


def test_the_fiscal_calendar_names_years_after_the_year_they_end_in():
    calendar = Calendar.fiscal(2027, 2027, start_month=2)
    assert (calendar.periods[0], calendar.periods[-1]) == ("2026-02", "2027-01")
    assert (calendar.quarters[0], calendar.years[-1]) == ("FY2027-Q1", "FY2027")
    quarters = calendar.windows("quarter")
    assert quarters.labels[3] == "FY2027-Q4"
    assert calendar.periods[int(quarters.last_period[3])] == "2027-01"


def test_a_calendar_with_split_quarters_is_refused():
    with pytest.raises(ValueError, match="not consecutive"):
        Calendar(("a", "b", "c"), ("Q1", "Q2", "Q1"), ("Y", "Y", "Y"))


def test_the_engine_and_plan_documents_import_nothing_from_django():
    code = ("import sys, compensation.engine, compensation.plan_documents; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('django', 'celery', 'spm')))")
    # the interpreter running the tests, with a fixed command: nothing untrusted is run
    root = str(Path(__file__).resolve().parents[2])
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,  # noqa: S603
                           check=True, env={"PYTHONPATH": root}, cwd=root)
    assert found.stdout.strip() == "[]"
