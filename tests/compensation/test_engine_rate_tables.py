"""Rate tables with figures a comp admin can check by hand: methods, gates, caps, true-ups."""

from __future__ import annotations

from decimal import Decimal

from compensation.engine import Cap, CreditFilter, Gate, Tier

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
    texts,
    tiers,
)

QUOTA_100K = quotas({("ann", "2026-01"): 100_000, ("ann", "2026-02"): 100_000,
                     ("ann", "2026-03"): 100_000})
EIGHT_THEN_TWELVE = tiers((0, 100, 8), (100, None, 12))


def test_a_graduated_table_pays_each_slice_at_its_own_rate():
    result = run(plan(table_component(tiers=EIGHT_THEN_TWELVE)),
                 credits({"amount": 120_000}), QUOTA_100K)
    assert texts(result.lines) == ["graduated: 100,000.00 × 8% + 20,000.00 × 12% = 10,400.00"]
    assert cents(result.lines) == [1_040_000]


def test_graduated_slices_are_allocated_to_deals_in_credit_date_order():
    result = run(plan(table_component(tiers=EIGHT_THEN_TWELVE)),
                 credits({"amount": 60_000}, {"amount": 60_000}), QUOTA_100K)
    assert texts(result.lines) == [
        "graduated: 60,000.00 × 8% = 4,800.00",
        "graduated: 40,000.00 × 8% + 20,000.00 × 12% = 5,600.00",
    ]
    assert list(result.lines["tier"]) == [1, 2]
    assert list(result.lines["rate"]) == ["8%", "12%"]
    assert list(result.lines["cumulative"]) == [6_000_000, 12_000_000]
    assert result.totals["amount_cents"].tolist() == [1_040_000]


def test_a_retroactive_table_pays_everything_at_the_rate_of_the_tier_reached():
    result = run(plan(table_component(tiers=EIGHT_THEN_TWELVE, method="retroactive")),
                 credits({"amount": 60_000}, {"amount": 60_000}), QUOTA_100K)
    assert texts(result.lines) == [
        "retroactive: 60,000.00 × 8% = 4,800.00",
        "retroactive: 120,000.00 × 12% - 60,000.00 × 8% = 9,600.00",
    ]
    assert sum(cents(result.lines)) == 1_440_000  # 120,000.00 × 12%


def test_base_plus_overage_pays_all_overage_at_the_final_tier_reached():
    table = tiers((0, 100, 8), (100, 150, 10), (150, None, 15))
    overage = run(plan(table_component(tiers=table, method="base_plus_overage")),
                  credits({"amount": 160_000}), QUOTA_100K)
    graduated = run(plan(table_component(tiers=table)), credits({"amount": 160_000}),
                    QUOTA_100K)
    assert texts(overage.lines) == [
        "base plus overage: 100,000.00 × 8% + 60,000.00 × 15% = 17,000.00"]
    assert cents(graduated.lines) == [1_450_000]  # 8,000 + 5,000 + 1,500


def test_tiers_per_transaction_price_each_deal_on_its_own():
    table = (Tier(D(0), D(50_000), rate=pct(5)), Tier(D(50_000), None, rate=pct(7)))
    result = run(plan(table_component(tiers=table, basis="amount",
                                      evaluation="per_transaction")),
                 credits({"amount": 80_000}, {"amount": 30_000}))
    assert texts(result.lines) == [
        "graduated per deal: 50,000.00 × 5% + 30,000.00 × 7% = 4,600.00",
        "graduated per deal: 30,000.00 × 5% = 1,500.00",
    ]


def test_accelerators_and_decelerators_multiply_the_base_rate():
    table = (Tier(D(0), pct(50), multiplier=D("0.5")), Tier(pct(50), pct(100), multiplier=D(1)),
             Tier(pct(100), None, multiplier=D("1.5")))
    result = run(plan(table_component(tiers=table, base_rate=pct(10))),
                 credits({"amount": 150_000}), QUOTA_100K)
    assert texts(result.lines) == [
        "graduated: 50,000.00 × 5% + 50,000.00 × 10% + 50,000.00 × 15% = 15,000.00"]


def test_the_lower_bound_of_a_tier_is_inclusive():
    result = run(plan(table_component(tiers=EIGHT_THEN_TWELVE, method="retroactive")),
                 credits({"amount": "99999.99"}, {"amount": "0.01"}), QUOTA_100K)
    assert list(result.lines["tier"]) == [1, 2]
    assert sum(cents(result.lines)) == 1_200_000  # exactly 100% of quota pays 12% on all


def test_a_reversal_credit_takes_back_the_slices_it_removes():
    result = run(plan(table_component(tiers=EIGHT_THEN_TWELVE)),
                 credits({"amount": 120_000}, {"amount": -30_000}), QUOTA_100K)
    assert texts(result.lines)[1] == "graduated: -10,000.00 × 8% - 20,000.00 × 12% = -3,200.00"
    assert sum(cents(result.lines)) == 720_000  # 90,000.00 × 8%


def test_running_rounding_makes_the_lines_add_up_to_the_window_figure():
    # 10.10 × 8.25% = 0.83325 per deal: rounding each deal alone would pay 2.49 for the
    # window, but the window earns 30.30 × 8.25% = 2.49975, which is 2.50.
    result = run(plan(table_component(tiers=(Tier(D(0), None, rate=pct("8.25")),),
                                      basis="amount")),
                 credits({"amount": "10.10"}, {"amount": "10.10"}, {"amount": "10.10"}))
    assert cents(result.lines) == [83, 84, 83]
    assert list(result.lines["rounding_carry_cents"]) == [0, 1, 0]
    assert texts(result.lines)[1] == \
        "graduated: 10.10 × 8.25% = 0.83 + 0.01 rounding carry = 0.84"


def test_rounding_is_half_up_away_from_zero():
    table = (Tier(D(0), None, rate=pct(50)),)
    result = run(plan(table_component(tiers=table, basis="amount",
                                      evaluation="per_transaction")),
                 credits({"amount": "0.01"}, {"amount": "-0.01"}, {"amount": "0.03"}))
    assert cents(result.lines) == [1, -1, 2]  # 0.5 -> 1, -0.5 -> -1, 1.5 -> 2


def test_below_the_gate_nothing_is_paid_and_the_line_says_why():
    component = table_component(tiers=EIGHT_THEN_TWELVE, gate=Gate(min_attainment=pct(50)))
    below = run(plan(component), credits({"amount": 40_000}), QUOTA_100K)
    above = run(plan(component), credits({"amount": 40_000}, {"amount": 10_000}), QUOTA_100K)
    assert cents(below.lines) == [0]
    assert texts(below.lines) == ["graduated: 40,000.00 × 8% = 3,200.00; attainment 40.00% is "
                                  "below the 50% gate: paid 0.00"]
    assert cents(above.lines) == [320_000, 80_000]  # at 50% everything is paid, from 0


def test_a_deal_below_the_minimum_size_is_not_counted_towards_the_tiers():
    component = table_component(tiers=EIGHT_THEN_TWELVE,
                                gate=Gate(min_deal_amount=D(5_000)))
    result = run(plan(component),
                 credits({"amount": 99_000}, {"amount": 4_000}, {"amount": 2_000,
                                                                "deal_amount": 10_000}),
                 QUOTA_100K)
    assert cents(result.lines) == [792_000, 0, 8_000 + 12_000]
    assert texts(result.lines)[1] == ("deal of 4,000.00 is below the 5,000.00 minimum deal "
                                      "size: not counted, paid 0.00")


def test_a_period_cap_stops_payment_once_reached():
    component = table_component(tiers=EIGHT_THEN_TWELVE, caps=(Cap("period", amount=D(10_000)),))
    result = run(plan(component), credits({"amount": 100_000}, {"amount": 50_000},
                                          {"amount": 10_000}), QUOTA_100K)
    assert cents(result.lines) == [800_000, 200_000, 0]
    assert list(result.lines["capped_cents"]) == [0, 400_000, 120_000]
    assert texts(result.lines)[1].endswith(
        "= 6,000.00; capped at 10,000.00 for the period: paid 2,000.00")


def test_a_yearly_cap_as_a_multiple_of_target_runs_across_periods():
    component = table_component(tiers=(Tier(D(0), None, rate=pct(10)),), basis="amount",
                                caps=(Cap("year", target_multiple=D("0.5")),))
    # target 1,000.00 a month for the twelve months: the cap is 6,000.00 for the year
    result = run(plan(component),
                 credits({"amount": 40_000, "period": "2026-01"},
                         {"amount": 40_000, "period": "2026-02"}),
                 assignment_rows=assignments(monthly(months=12, target=1_000)))
    assert cents(result.lines) == [400_000, 200_000]
    assert texts(result.lines)[1].endswith("capped at 6,000.00 for the year: paid 2,000.00")


def test_a_year_to_date_true_up_reprices_earlier_months_at_the_new_quota():
    component = table_component(tiers=EIGHT_THEN_TWELVE, ytd_true_up=True)
    result = run(plan(component),
                 credits({"amount": 150_000, "period": "2026-01"},
                         {"amount": 20_000, "period": "2026-02"}), QUOTA_100K)
    lines = result.lines
    # January: 100,000 × 8% + 50,000 × 12% = 14,000. February's year-to-date quota is
    # 200,000, so January's 150,000 now earns 12,000: a true-up of -2,000.
    assert list(lines["line_type"]) == ["credit", "true_up", "credit"]
    assert cents(lines) == [1_400_000, -200_000, 160_000]
    assert texts(lines)[1] == ("year-to-date true-up: earlier credits of 150,000.00 now earn "
                               "12,000.00 - 14,000.00 earned before = -2,000.00")
    assert texts(lines)[2] == "graduated (year to date): 20,000.00 × 8% = 1,600.00"


def test_a_zero_quota_means_no_quota_and_attainment_tiers_pay_nothing():
    result = run(plan(table_component(tiers=EIGHT_THEN_TWELVE)),
                 credits({"amount": 10_000}), quotas({("ann", "2026-01"): 0}))
    assert cents(result.lines) == [0]
    assert texts(result.lines) == ["graduated: no quota for 2026-01, so the attainment tiers "
                                   "cannot apply: paid 0.00"]
    assert result.issues[["code", "period", "component"]].values.tolist() == [
        ["no_quota", "2026-01", "commission"]]


def test_amount_tiers_need_no_quota():
    result = run(plan(table_component(tiers=(Tier(D(0), None, rate=pct(10)),),
                                      basis="amount")), credits({"amount": 10_000}))
    assert cents(result.lines) == [100_000]
    assert result.issues.empty


def test_a_units_measure_pays_money_per_unit():
    table = (Tier(D(0), D(10), rate=D(50)), Tier(D(10), None, rate=D(75)))
    result = run(plan(table_component(tiers=table, basis="amount", measure="units")),
                 credits({"units": 12}))
    assert texts(result.lines) == ["graduated: 10 × 50.00 + 2 × 75.00 = 650.00"]


def test_a_quarterly_table_accumulates_the_quarter_and_pays_at_its_end():
    component = table_component(tiers=EIGHT_THEN_TWELVE, period="quarter")
    result = run(plan(component),
                 credits({"amount": 200_000, "period": "2026-01"},
                         {"amount": 200_000, "period": "2026-03"}), QUOTA_100K)
    assert list(result.lines["period"]) == ["2026-03", "2026-03"]
    assert list(result.lines["window"]) == ["FY2026-Q1", "FY2026-Q1"]
    assert cents(result.lines) == [1_600_000, 800_000 + 1_200_000]


def test_a_filter_limits_a_component_to_matching_credits():
    component = table_component(tiers=(Tier(D(0), None, rate=pct(10)),), basis="amount",
                                filter=CreditFilter(product_lines=("cloud",)))
    result = run(plan(component), credits({"amount": 1_000, "product_line": "cloud"},
                                          {"amount": 1_000, "product_line": "onprem"}))
    assert list(result.lines["credit_id"]) == [1]


def test_exact_beyond_int64_intermediates():
    # 90 trillion cents × a rate with six decimals passes 2**63 on the way; the result fits.
    table = (Tier(D(0), None, rate=Decimal("0.123457")),)
    result = run(plan(table_component(tiers=table, basis="amount")),
                 credits({"amount": 900_000_000_000_000}))
    assert cents(result.lines) == [11_111_130_000_000_000]
