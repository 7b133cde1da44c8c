"""Payout curves, milestone and MBO bonuses, and spiffs, with hand-computed figures."""

from __future__ import annotations

import datetime

import pandas as pd

from compensation.engine import (
    Cap,
    Component,
    CreditFilter,
    CurvePoint,
    Gate,
    Mbo,
    Milestone,
    MilestoneBonus,
    PayoutCurve,
    Spiff,
)

from .builders import D, assignments, cents, credits, monthly, pct, plan, quotas, run, texts

QUARTER_QUOTA = quotas({("ann", f"2026-0{m}"): 100_000 for m in (1, 2, 3)})
TARGET_5K = assignments(monthly(months=12, target=5_000))
CURVE = PayoutCurve((CurvePoint(D(0), D(0)), CurvePoint(pct(100), pct(100)),
                     CurvePoint(pct(150), pct(200))))


def test_a_payout_curve_interpolates_between_points_on_the_target_incentive():
    component = Component("curve", "Quarterly curve", CURVE, period="quarter")
    result = run(plan(component), credits({"amount": 375_000, "period": "2026-02"}),
                 QUARTER_QUOTA, TARGET_5K)
    # attainment 125% lies halfway between 100% (pays 100%) and 150% (pays 200%): 150% of
    # the quarter's 15,000.00 target
    assert texts(result.lines) == ["payout curve: attainment 125.00% pays 150.00% of target "
                                   "15,000.00 = 22,500.00"]
    assert list(result.lines["period"]) == ["2026-03"]
    assert result.lines["deal_id"].isna().all()


def test_a_payout_curve_is_flat_beyond_its_last_point():
    component = Component("curve", "Quarterly curve", CURVE, period="quarter")
    result = run(plan(component), credits({"amount": 600_000}), QUARTER_QUOTA, TARGET_5K)
    assert cents(result.lines) == [3_000_000]  # 200% of 15,000.00 even at 200% attainment


def test_a_payout_curve_pays_even_in_a_window_without_deals():
    component = Component("curve", "Curve", PayoutCurve((CurvePoint(D(0), pct(10)),)))
    result = run(plan(component), credits(), quotas({("ann", "2026-01"): 1_000}),
                 assignments([("ann", "2026-01", 5_000)]))
    assert cents(result.lines) == [50_000]


def test_milestones_pay_once_each_when_reached():
    bonus = MilestoneBonus((Milestone(pct(100), amount=D(1_000)),
                            Milestone(pct(120), of_target=pct(10)),
                            Milestone(pct(150), amount=D(5_000))))
    result = run(plan(Component("milestones", "Milestones", bonus, period="quarter")),
                 credits({"amount": 360_000}), QUARTER_QUOTA, TARGET_5K)
    assert texts(result.lines) == [
        "milestone 100%: reached at 120.00% attainment: 1,000.00",
        "milestone 120%: reached at 120.00% attainment: 10% of target 15,000.00 = 1,500.00",
    ]


def test_a_year_to_date_milestone_is_trued_up_when_attainment_falls_back():
    bonus = MilestoneBonus((Milestone(pct(100), amount=D(1_000)),))
    component = Component("milestone", "Milestone", bonus, ytd_true_up=True)
    result = run(plan(component),
                 credits({"amount": 50_000, "period": "2026-01"},
                         {"amount": 160_000, "period": "2026-02"},
                         {"amount": 10_000, "period": "2026-03"}), QUARTER_QUOTA)
    # February: 210,000 of a 200,000 year-to-date quota reaches 100%. March: 220,000 of
    # 300,000 is 73.33%, so the year to date no longer earns it and it is taken back.
    assert list(result.lines["period"]) == ["2026-02", "2026-03"]
    assert cents(result.lines) == [100_000, -100_000]
    assert texts(result.lines) == [
        "milestone 100%, year to date: reached at 105.00% attainment: 1,000.00; 1,000.00 - "
        "0.00 earned before = 1,000.00",
        "milestone 100%, year to date: attainment 73.33% is below it: 0.00; 0.00 - 1,000.00 "
        "earned before = -1,000.00",
    ]


def test_an_mbo_pays_weight_times_score_times_target_up_to_the_maximum_score():
    component = Component("mbo", "Objectives", Mbo(weight=pct(20), max_score=pct(120)),
                          period="quarter")
    scores = pd.DataFrame({"payee_id": ["ann", "bob"], "component": ["mbo", "mbo"],
                           "window": ["FY2026-Q1", "FY2026-Q1"], "score_pct": ["85", "150"]})
    result = run(plan(component), credits(), quotas({}),
                 assignments(monthly(months=3, target=10_000)
                             + monthly("bob", months=3, target=10_000)),
                 mbo_scores=scores)
    assert texts(result.lines) == [
        "MBO: score 85.00% × weight 20% × target 30,000.00 = 5,100.00",
        "MBO: score 120.00% (scored 150.00%, capped at the 120% maximum) × weight 20% × "
        "target 30,000.00 = 7,200.00",
    ]


def test_an_unscored_mbo_is_reported_not_paid():
    component = Component("mbo", "Objectives", Mbo(weight=pct(20)), period="quarter")
    result = run(plan(component), credits(), quotas({}), assignments(monthly(months=3)))
    assert result.lines.empty
    assert result.issues["code"].tolist() == ["no_mbo_score"]


def test_a_spiff_pays_a_fixed_amount_per_matching_deal():
    spiff = Component("spiff", "Cloud new logos", Spiff(per_deal=D(500)),
                      filter=CreditFilter(product_lines=("cloud",), new_logo=True,
                                          closed_on_or_after=datetime.date(2026, 1, 10),
                                          closed_before=datetime.date(2026, 2, 1)))
    result = run(plan(spiff), credits(
        {"amount": 1_000, "new_logo": True, "date": datetime.date(2026, 1, 12)},
        {"amount": 1_000, "new_logo": False, "date": datetime.date(2026, 1, 13)},
        {"amount": 1_000, "new_logo": True, "date": datetime.date(2026, 1, 5)},
        {"amount": 1_000, "new_logo": True, "product_line": "onprem",
         "date": datetime.date(2026, 1, 14)}))
    assert list(result.lines["credit_id"]) == [1]
    assert texts(result.lines) == ["spiff: 500.00 per deal"]


def test_a_spiff_can_pay_per_unit_or_a_percentage_within_an_amount_range():
    per_unit = Component("meetings", "Meetings", Spiff(per_unit=D(25)))
    percent = Component("big", "Big deals", Spiff(percent=pct(2)),
                        filter=CreditFilter(deal_amount_at_least=D(10_000),
                                            deal_amount_below=D(100_000)))
    result = run(plan(per_unit, percent), credits({"amount": 10_000, "units": 12},
                                                  {"amount": 100_000, "units": 0}))
    assert texts(result.lines) == ["spiff: 12 units × 25.00 = 300.00",
                                   "spiff: 0 units × 25.00 = 0.00",
                                   "spiff: 10,000.00 × 2% = 200.00"]


def test_a_spiff_pays_nothing_per_deal_on_a_reversal_credit():
    result = run(plan(Component("spiff", "Spiff", Spiff(per_deal=D(500)))),
                 credits({"amount": -1_000}))
    assert texts(result.lines) == ["spiff: 500.00 per deal, but this credit of -1,000.00 is "
                                   "not a sale: paid 0.00"]


def test_caps_and_gates_apply_to_bonuses_too():
    spiff = Component("spiff", "Spiff", Spiff(per_deal=D(500)),
                      caps=(Cap("period", amount=D(800)),))
    gated = Component("curve", "Curve", CURVE, gate=Gate(min_attainment=pct(50)))
    result = run(plan(spiff, gated), credits({"amount": 10_000}, {"amount": 10_000}),
                 quotas({("ann", "2026-01"): 100_000}),
                 assignments([("ann", "2026-01", 5_000)]))
    assert cents(result.lines) == [50_000, 30_000, 0]
    assert texts(result.lines)[2] == ("payout curve: attainment 20.00% pays 20.00% of target "
                                      "5,000.00 = 1,000.00; attainment 20.00% is below the 50% "
                                      "gate: paid 0.00")
