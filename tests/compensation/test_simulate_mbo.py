"""`comp_simulate --mbo-scores`: MBO bonuses from a file of scores, with every score the plan
could never pay refused rather than ignored."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import strategies as st

from compensation.management.commands.comp_simulate import month_of_window, scores, windows

PLAN = """
plan: BONUS
version: 1
components:
  - code: objectives
    kind: mbo
    period: quarter
    weight: 20%
    max_score: 120%
  - code: monthly-goals
    kind: mbo
    period: month
    weight: 5%
"""
CREDITS = "credit_id,payee_id,deal_id,period,credit_date,amount\n"
QUOTAS = "payee_id,period,quota\n"
ASSIGNMENTS = "payee_id,period,target_incentive\n" + "".join(
    f"{payee},2026-{month:02d},5000.00\n" for payee in ("E1", "E2") for month in (1, 2, 3))


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for name, text in (("plan.yaml", PLAN), ("credits.csv", CREDITS), ("quotas.csv", QUOTAS),
                       ("assignments.csv", ASSIGNMENTS)):
        paths[name] = tmp_path / name
        paths[name].write_text(text, encoding="utf-8")
    paths["scores.csv"] = tmp_path / "scores.csv"
    paths["out"] = tmp_path / "lines.csv"
    return paths


def simulate(files: dict[str, Path], score_rows: str, **options) -> list[dict[str, str]]:
    files["scores.csv"].write_text(score_rows, encoding="utf-8")
    call_command("comp_simulate", plan=files["plan.yaml"], credits=files["credits.csv"],
                 quotas=files["quotas.csv"], assignments=files["assignments.csv"],
                 mbo_scores=files["scores.csv"], out=files["out"], stderr=io.StringIO(),
                 **options)
    with files["out"].open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def refusal(files: dict[str, Path], score_rows: str) -> str:
    with pytest.raises(CommandError) as caught:
        simulate(files, score_rows)
    assert not files["out"].exists()
    return str(caught.value)


@pytest.mark.smoke
def test_scores_pay_target_times_weight_times_score_up_to_the_maximum(files):
    lines = simulate(files, "payee_id,component,window,score_pct\n"
                            "E1,objectives,FY2026-Q1,85\n"
                            "E2,objectives,fy2026 q1,150%\n"
                            "E1,monthly-goals,2026-2,100\n")
    paid = {(line["payee_id"], line["component"], line["window"]): line["amount"]
            for line in lines}
    # The quarter's target is 3 × 5,000.00; a month's 5,000.00.
    assert paid == {("E1", "objectives", "FY2026-Q1"): "2550.00",
                    ("E2", "objectives", "FY2026-Q1"): "3600.00",
                    ("E1", "monthly-goals", "2026-02"): "250.00"}


def test_an_unscored_window_is_reported_on_the_console(files):
    files["scores.csv"].write_text("payee_id,component,window,score_pct\n"
                                   "E1,objectives,FY2026-Q1,85\n", encoding="utf-8")
    console = io.StringIO()
    call_command("comp_simulate", plan=files["plan.yaml"], credits=files["credits.csv"],
                 quotas=files["quotas.csv"], assignments=files["assignments.csv"],
                 mbo_scores=files["scores.csv"], out=files["out"], stderr=console)
    warnings = [line for line in console.getvalue().splitlines() if "no MBO score" in line]
    # E2's quarter, and three months for each of them.
    assert len(warnings) == 1 + 2 * 3


def test_a_misspelt_component_and_a_window_of_the_wrong_cadence_are_errors(files):
    message = refusal(files, "payee_id,component,window,score_pct\n"
                             "E1,objectivs,FY2026-Q1,85\n"
                             "E1,objectives,2026-03,85\n"
                             "E1,objectives,FY2026,85\n"
                             "E2,monthly-goals,FY2026-Q1,85\n")
    assert ("component 'objectivs' is not an MBO component of the plan (its MBO components: "
            "monthly-goals, objectives)") in message
    assert "objectives is scored per quarter, so 2026-03, FY2026 cannot be its windows" in message
    assert "monthly-goals is scored per month, so FY2026-Q1 cannot be its window" in message


def test_bad_cells_are_named_with_their_row_and_what_to_write(files):
    message = refusal(files, "payee_id,component,window,score_pct\n"
                             "E1,objectives,2026-Q1,85\n"
                             "E1,objectives,FY2026-Q2,\"85,5\"\n"
                             "E1,objectives,FY2026-Q3,-3\n"
                             "E1,objectives,FY2026-Q4,1200\n"
                             "E2,objectives,FY2026-Q1,85.125\n")
    assert ("scores.csv row 2, window: '2026-Q1' is not a window such as 2026-03, FY2026-Q1 "
            "or FY2026") in message
    assert "scores.csv row 3, score_pct: '85,5' has a decimal comma" in message
    assert "scores.csv row 4, score_pct: cannot be negative" in message
    assert "scores.csv row 5, score_pct: '1200' is above 1000%" in message
    assert "scores.csv row 6, score_pct: '85.125' has more than 2 decimal places" in message


def test_a_scored_year_outside_the_other_files_still_pays_in_a_february_fiscal_year(files):
    # With a February start, FY2027 runs from February 2026 to January 2027: assignments in
    # February to April 2026 are its first quarter.
    files["assignments.csv"].write_text("payee_id,period,target_incentive\n" + "".join(
        f"E1,2026-{m:02d},5000.00\n" for m in (2, 3, 4)), encoding="utf-8")
    lines = simulate(files, "payee_id,component,window,score_pct\n"
                            "E1,objectives,FY2027-Q1,100\n"
                            "E1,objectives,FY2028-Q1,100\n",
                     fiscal_year_start_month=2)
    assert [(line["window"], line["amount"]) for line in lines
            if line["component"] == "objectives"] == [("FY2027-Q1", "3000.00")]


@given(st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False,
                   allow_infinity=False))
def test_every_score_the_page_takes_is_read_exactly(value):
    raw = pd.Series([f"{value}", f"{value}%"], dtype=object)
    result = scores(raw, required=True)
    assert result.problems.isna().all()
    assert list(result.parsed) == [value, value]


@given(year=st.integers(1990, 2100), start_month=st.integers(1, 12),
       quarter=st.integers(1, 4), month=st.integers(1, 12))
def test_windows_are_read_as_the_engine_names_them(year, start_month, quarter, month):
    raw = pd.Series([f"FY{year}", f"fy{year} q{quarter}", f"{year}-{month}",
                     f"{year}-{month:02d}-01"], dtype=object)
    assert list(windows(raw).parsed) == [f"FY{year}", f"FY{year}-Q{quarter}",
                                         f"{year}-{month:02d}", f"{year}-{month:02d}"]
    # A month of the window's fiscal year, which is named after the year it ends in.
    first = month_of_window(f"FY{year}-Q{quarter}", start_month)
    first_year, first_month = map(int, first.split("-"))
    assert first_month == start_month
    assert first_year + (start_month != 1) == year
