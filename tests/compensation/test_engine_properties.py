"""The engine against the per-row reference on random plans and data, to the cent and letter."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compensation.engine import apply_clawbacks, calculate, compute, settle_draws
from compensation.engine.calendar import Calendar

from .reference import reference_compute
from .reference_stateful import reference_clawbacks, reference_draws
from .strategies import PERIODS, draw_plans, scenarios

SETTINGS = settings(max_examples=250, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
QUICK = settings(SETTINGS, max_examples=100)


def as_rows(lines: pd.DataFrame) -> list[dict]:
    """Engine lines as plain Python values, missing values as None."""
    rows = []
    for record in lines.to_dict("records"):
        row = {}
        for key, value in record.items():
            if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
                value = None
            elif isinstance(value, np.integer):
                value = int(value)
            row[key] = value
        rows.append(row)
    return rows


def first_difference(engine: list[dict], reference: list[dict]) -> str:
    for index, (got, want) in enumerate(zip(engine, reference, strict=False)):
        if got != want:
            fields = {k: (got.get(k), want.get(k)) for k in want if got.get(k) != want.get(k)}
            return f"line {index}: {fields}\nengine: {got}\nreference: {want}"
    return f"{len(engine)} engine lines, {len(reference)} reference lines"


def issue_keys(issues: pd.DataFrame) -> list[tuple]:
    keys = []
    for row in issues.to_dict("records"):
        credit = row["credit_id"]
        keys.append((row["severity"], row["code"], row["payee_id"], row["period"],
                     row["plan"] or "", row["component"] or "",
                     None if credit is None or credit is pd.NA else int(credit)))
    return sorted(keys, key=repr)


# Half the examples are general; the rest focus on year-to-date true-ups and on windows with
# many credits, where cumulative rounding carries appear.
any_scenario = st.sampled_from(("", "", "ytd", "rounding")).flatmap(
    lambda focus: scenarios(focus=focus))


@SETTINGS
@given(any_scenario)
def test_every_line_matches_the_per_row_reference_to_the_cent(scenario):
    result = compute(**scenario)
    reference, reference_issues = reference_compute(**scenario)
    engine = as_rows(result.lines)
    assert engine == reference, first_difference(engine, reference)
    assert issue_keys(result.issues) == sorted(reference_issues, key=repr)


@QUICK
@given(any_scenario)
def test_each_payee_period_total_is_exactly_the_sum_of_its_lines(scenario):
    result = compute(**scenario)
    sums: dict[tuple, int] = {}
    for row in as_rows(result.lines):
        key = (row["payee_id"], row["period"])
        sums[key] = sums.get(key, 0) + row["amount_cents"]
    totals = {(r["payee_id"], r["period"]): int(r["amount_cents"])
              for r in result.totals.to_dict("records")}
    assert totals == sums


@QUICK
@given(any_scenario)
def test_a_running_rounding_carry_never_exceeds_one_cent(scenario):
    carries = compute(**scenario).lines["rounding_carry_cents"]
    assert (carries.abs() <= 1).all()


@settings(SETTINGS, max_examples=150)
@given(scenarios(max_credits=8), st.data())
def test_draws_and_clawbacks_match_the_reference_period_by_period(scenario, data):
    plans = data.draw(draw_plans())
    scenario = dict(scenario, plans=plans)
    scenario["assignments"] = scenario["assignments"].assign(plan="AE").drop_duplicates(
        ["payee_id", "period"])
    scenario.pop("mbo_scores")
    credits = scenario["credits"]
    calendar = Calendar.covering(PERIODS)
    deals = sorted(set(credits["deal_id"]))
    cancelled = data.draw(st.lists(st.sampled_from(deals), unique=True, max_size=3)) \
        if deals else []
    events = pd.DataFrame({
        "deal_id": cancelled,
        "close_date": [credits.loc[credits.deal_id == d, "close_date"].min() for d in cancelled],
        "cancel_date": [credits.loc[credits.deal_id == d, "close_date"].min()
                        + pd.Timedelta(days=data.draw(st.integers(0, 120))) for d in cancelled],
        "period": [data.draw(st.sampled_from(PERIODS[2:])) for _ in cancelled],
    })
    opening = pd.DataFrame({"payee_id": [101], "component": ["draw"],
                            "balance_cents": [data.draw(st.sampled_from((0, 5_000, 250_000)))]})
    result = calculate(**scenario, calendar=calendar, cancellations=events,
                       opening_balances=opening)

    base = compute(**scenario, calendar=calendar)
    base_rows = as_rows(base.lines)
    clawed = reference_clawbacks(plans, events, base_rows, calendar)
    engine_clawed = as_rows(apply_clawbacks(plans=plans, events=events, paid_lines=base.lines,
                                            calendar=calendar).lines)
    assert engine_clawed == clawed, first_difference(engine_clawed, clawed)

    draws, closing = reference_draws(plans, scenario["assignments"], base_rows + clawed,
                                     calendar, opening)
    key = ["payee_id", "period", "line_type"]
    got = as_rows(result.lines[result.lines["kind"] == "draw"].sort_values(key))
    want = sorted(draws, key=lambda r: (r["payee_id"], r["period"], r["line_type"]))
    assert got == want, first_difference(got, want)
    balances = {(r["payee_id"], r["component"]): int(r["balance_cents"])
                for r in result.draw_balances.to_dict("records")}
    assert balances == closing
    settled = settle_draws(plans=plans, assignments=scenario["assignments"],
                           lines=pd.concat([base.lines.astype(object),
                                            apply_clawbacks(plans=plans, events=events,
                                                            paid_lines=base.lines,
                                                            calendar=calendar).lines.astype(object)]),
                           opening_balances=opening, calendar=calendar)
    assert len(settled.lines) == len(draws)
