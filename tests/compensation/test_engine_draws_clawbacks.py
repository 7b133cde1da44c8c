"""Draws, guarantees and clawbacks: the steps that carry state from one period to the next."""

from __future__ import annotations

import datetime

import pandas as pd

from compensation.engine import Clawback, Component, Draw, PlanVersion, RateTable, Tier, calculate

from .builders import D, assignments, credits, monthly, pct, quotas

COMMISSION = Component("commission", "Commission",
                       RateTable(tiers=(Tier(D(0), None, rate=pct(10)),), basis="amount"),
                       clawback=Clawback(90, "prorated"))


def draw_plan(draw: Draw) -> dict[str, PlanVersion]:
    return {"AE": PlanVersion("AE", 1, components=(COMMISSION,
                                                   Component("draw", "Draw", draw)))}


def draw_lines(result) -> list[tuple[str, str, int]]:
    lines = result.lines[result.lines["kind"] == "draw"]
    return [(str(p), str(t), int(a)) for p, t, a in
            zip(lines["period"], lines["line_type"], lines["amount_cents"], strict=True)]


def calc(plans, credit_rows, assignment_rows, **kwargs):
    return calculate(plans=plans, credits=credit_rows, quotas=quotas({}),
                     assignments=assignment_rows, **kwargs)


def test_a_recoverable_draw_advances_the_shortfall_and_recovers_it_from_later_surplus():
    result = calc(draw_plan(Draw(True, amount=D(3_000), max_recovery_per_period=D(1_000))),
                  credits({"amount": 10_000, "period": "2026-01"},
                          {"amount": 60_000, "period": "2026-02"},
                          {"amount": 50_000, "period": "2026-03"}),
                  assignments(monthly(months=4)))
    assert draw_lines(result) == [
        ("2026-01", "draw_advance", 200_000),  # earned 1,000 of a 3,000 draw
        ("2026-02", "draw_recovery", -100_000),  # 3,000 surplus, at most 1,000 a period
        ("2026-03", "draw_recovery", -100_000),
        ("2026-04", "draw_advance", 300_000),
    ]
    recovery = result.lines[result.lines["line_type"] == "draw_recovery"]["explanation"]
    assert recovery.iloc[0] == ("draw recovery: earned 6,000.00 is above the 3,000.00 draw: "
                                "recovers 1,000.00 of the 2,000.00 balance, at most 1,000.00 "
                                "a period; balance 1,000.00")
    assert result.draw_balances.to_dict("records") == [
        {"payee_id": "ann", "component": "draw", "balance_cents": 300_000}]
    assert result.totals["amount_cents"].tolist() == [300_000, 500_000, 400_000, 300_000]


def test_recovery_waits_for_its_start_period_and_continues_after_the_last_draw():
    result = calc(draw_plan(Draw(True, amount=D(3_000), recovery_start="2026-03",
                                 last_draw_period="2026-01")),
                  credits({"amount": 0, "period": "2026-01"},
                          {"amount": 40_000, "period": "2026-02"},
                          {"amount": 20_000, "period": "2026-03"}),
                  assignments(monthly(months=3)))
    # February's 4,000 is not recovered (recovery starts in March); in March the draw has
    # ended, so all of the 2,000 earned counts as surplus.
    assert draw_lines(result) == [("2026-01", "draw_advance", 300_000),
                                  ("2026-03", "draw_recovery", -200_000)]


def test_a_guarantee_tops_up_a_prorated_minimum_and_is_never_recovered():
    result = calc(draw_plan(Draw(False, amount=D(2_000))),
                  credits({"amount": 5_000, "period": "2026-01"},
                          {"amount": 50_000, "period": "2026-02"}),
                  assignments([("ann", "2026-01", 0, "1/2"), ("ann", "2026-02", 0, "1")]))
    assert draw_lines(result) == [("2026-01", "guarantee", 50_000)]
    assert result.lines["explanation"].iloc[1] == (
        "guarantee: earned 500.00 is below the 1,000.00 guarantee: top-up 500.00")
    assert result.draw_balances.empty


def test_an_opening_balance_is_recovered_in_the_next_periods():
    opening = pd.DataFrame({"payee_id": ["ann"], "component": ["draw"],
                            "balance_cents": [150_000]})
    result = calc(draw_plan(Draw(True, amount=D(1_000))),
                  credits({"amount": 20_000}), assignments(monthly()),
                  opening_balances=opening)
    assert draw_lines(result) == [("2026-01", "draw_recovery", -100_000)]
    assert result.draw_balances["balance_cents"].tolist() == [50_000]


CLOSED = datetime.date(2026, 1, 10)


def cancellation(days: int, period: str = "2026-03", deal: str = "D1") -> pd.DataFrame:
    return pd.DataFrame({"deal_id": [deal], "close_date": [pd.Timestamp(CLOSED)],
                         "cancel_date": [pd.Timestamp(CLOSED + datetime.timedelta(days=days))],
                         "period": [period]})


def test_a_cancelled_deal_is_clawed_back_in_the_period_of_cancellation_prorated_by_days():
    plans = {"AE": PlanVersion("AE", 1, components=(COMMISSION,))}
    sale = credits({"amount": 12_000, "date": CLOSED, "close_date": CLOSED})
    before = calc(plans, sale, assignments(monthly(months=3)))
    after = calc(plans, sale, assignments(monthly(months=3)), cancellations=cancellation(30))
    clawback = after.lines[after.lines["line_type"] == "clawback"]
    assert clawback[["period", "deal_id", "amount_cents"]].to_numpy().tolist() == [
        ["2026-03", "D1", -80_000]]  # 60/90 of 1,200.00
    assert clawback["explanation"].iloc[0] == (
        "clawback: deal cancelled on 2026-02-09, 30 days after it closed on 2026-01-10 "
        "(within 90): reverses 60/90 of the 1,200.00 paid in 2026-01 = -800.00")
    january = after.lines[after.lines["period"] == "2026-01"].astype(str)
    assert january.to_dict("records") == before.lines.astype(str).to_dict("records")


def test_a_full_clawback_reverses_everything_and_a_late_cancellation_nothing():
    full = Component("commission", "Commission",
                     RateTable(tiers=(Tier(D(0), None, rate=pct(10)),), basis="amount"),
                     clawback=Clawback(90, "full"))
    plans = {"AE": PlanVersion("AE", 1, components=(full,))}
    sale = credits({"amount": 12_000, "date": CLOSED, "close_date": CLOSED})
    inside = calc(plans, sale, assignments(monthly(months=6)), cancellations=cancellation(90))
    outside = calc(plans, sale, assignments(monthly(months=6)),
                   cancellations=cancellation(91, period="2026-05"))
    assert inside.lines["amount_cents"].tolist() == [120_000, -120_000]
    assert outside.lines["amount_cents"].tolist() == [120_000]


def test_a_deal_already_clawed_back_is_not_reversed_twice():
    plans = {"AE": PlanVersion("AE", 1, components=(COMMISSION,))}
    sale = credits({"amount": 12_000, "date": CLOSED, "close_date": CLOSED})
    first = calc(plans, sale, assignments(monthly(months=4)), cancellations=cancellation(30))
    again = calc(plans, credits(), assignments(monthly(months=4)),
                 cancellations=cancellation(30, period="2026-04"), paid_lines=first.lines)
    assert again.lines.empty
    assert again.issues["code"].tolist() == ["already_clawed_back"]


def test_a_cancellation_dated_before_the_close_is_reported():
    plans = {"AE": PlanVersion("AE", 1, components=(COMMISSION,))}
    sale = credits({"amount": 12_000, "date": CLOSED, "close_date": CLOSED})
    result = calc(plans, sale, assignments(monthly(months=3)), cancellations=cancellation(-3))
    assert result.lines["line_type"].tolist() == ["credit"]
    assert result.issues["code"].tolist() == ["cancelled_before_close"]
