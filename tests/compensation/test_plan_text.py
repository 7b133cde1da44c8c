"""A plan component in words, one test per kind: tiers as percentages and as money for the
payee's quota, rates from multipliers, curve points, milestones, MBO weights, spiffs, draws,
and the terms (gates, caps, filters, clawbacks) a payee has to know."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compensation.plan_documents import load_plan
from compensation.plan_text import component_text, money, pct

pytestmark = pytest.mark.smoke

D = Decimal


def cents(value: Decimal) -> Decimal:
    """The reference: money is rounded half up to the cent."""
    return value.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def one(document: str, **kwargs):
    plan = load_plan("plan: P\nversion: 1\ncomponents:\n" + document)
    return component_text(plan.components[0], **kwargs)


def test_percentages_lose_trailing_zeros_and_money_keeps_cents_only_when_there_are_some():
    assert pct(D("0.0500000000")) == "5%"
    assert pct(D("0E-10")) == "0%"
    assert pct(D("1.2500000000")) == "125%"
    assert pct(D("0.0825")) == "8.25%"
    assert money(D("40000.0000000000")) == "40,000"
    assert money(D("1234.5")) == "1,234.50"
    assert money(D("-75.005")) == "-75.01"


@given(st.decimals(min_value=D("-10"), max_value=D("10"), places=6))
def test_a_percentage_reads_back_as_the_fraction_it_came_from(value):
    shown = pct(value)
    assert shown.endswith("%")
    assert "e" not in shown.lower()
    assert D(shown[:-1]) / 100 == value


@given(st.decimals(min_value=D("-1e9"), max_value=D("1e9"), places=2))
def test_money_reads_back_as_the_amount_to_the_cent(value):
    assert D(money(value).replace(",", "")) == value


def test_attainment_tiers_show_percent_of_quota_and_money_for_the_payees_quota():
    text = one("""
  - code: commission
    kind: rate_table
    tiers:
      - {from: 0%, to: 100%, rate: 8%}
      - {from: 100%, to: 150%, rate: 12%}
      - {from: 150%, rate: 15%}
""", window_quota=D("25000.00"), window_label="Mar 2026")
    assert text.quota_label == "Mar 2026: 25,000"
    assert [t.text for t in text.tiers] == [
        "0% \u2013 100%: 8%", "100% \u2013 150%: 12%", "150% and above: 15%"]
    assert [t.money_bounds for t in text.tiers] == [
        "0 \u2013 25,000", "25,000 \u2013 37,500", "37,500 and above"]
    assert [t.accelerator for t in text.tiers] == [False, True, True]
    assert "Graduated" in text.notes[0]


def test_attainment_tiers_without_a_quota_show_no_money_bounds():
    text = one("""
  - code: commission
    kind: rate_table
    tiers:
      - {from: 0%, rate: 8%}
""")
    assert text.tiers[0].money_bounds == ""
    assert text.tiers[0].text == "0% and above: 8%"


def test_the_annual_quota_is_split_over_the_components_windows_when_no_window_quota_is_known():
    text = one("""
  - code: q
    kind: rate_table
    period: quarter
    tiers:
      - {from: 0%, to: 100%, rate: 8%}
      - {from: 100%, rate: 10%}
""", annual_quota=D("400000"))
    assert text.tiers[0].money_bounds == "0 \u2013 100,000"
    assert text.window == "quarter"


def test_amount_tiers_are_money_and_per_transaction_retroactive_tables_say_so():
    text = one("""
  - code: flat
    kind: rate_table
    method: retroactive
    basis: amount
    evaluation: per_transaction
    tiers:
      - {from: 0, to: 250000.00, rate: 5%}
      - {from: 250000.00, rate: 7%}
""", window_quota=D("1"))
    assert [t.text for t in text.tiers] == ["0 \u2013 250,000: 5%", "250,000 and above: 7%"]
    assert all(t.money_bounds == "" for t in text.tiers)
    assert "Retroactive" in text.notes[0]
    assert "each deal on its own" in text.notes[1]


def test_multiplier_tiers_show_the_rate_they_come_to():
    text = one("""
  - code: acc
    kind: rate_table
    base_rate: 6%
    tiers:
      - {from: 0%, to: 100%, multiplier: 1}
      - {from: 100%, multiplier: 2.5}
""")
    assert text.tiers[1].rate == "2.5 × base rate 6% = 15%"


def test_a_units_table_pays_money_per_unit():
    text = one("""
  - code: units
    kind: rate_table
    measure: units
    basis: amount
    tiers:
      - {from: 0, to: 10, rate: 50.00}
      - {from: 10, rate: 75.00}
""")
    assert [t.text for t in text.tiers] == ["0 \u2013 10: 50 per unit", "10 and above: 75 per unit"]


def test_a_payout_curve_shows_each_point_as_a_share_and_as_money_of_the_window_target():
    text = one("""
  - code: curve
    kind: payout_curve
    period: quarter
    points:
      - {attainment: 0%, payout: 0%}
      - {attainment: 100%, payout: 100%}
      - {attainment: 150%, payout: 200%}
""", target_incentive=D("80000"))
    assert text.rows == (
        ("at 0% of quota", "0% of target incentive (0)"),
        ("at 100% of quota", "100% of target incentive (20,000)"),
        ("at 150% of quota", "200% of target incentive (40,000)"),
    )


def test_milestones_show_fixed_amounts_and_shares_of_target():
    text = one("""
  - code: club
    kind: milestone_bonus
    period: year
    milestones:
      - {attainment: 100%, amount: 2500.00}
      - {attainment: 125%, of_target: 10%}
""", target_incentive=D("60000"))
    assert text.rows == (("on reaching 100% of quota", "2,500"),
                         ("on reaching 125% of quota", "10% of target incentive (6,000)"))


def test_an_mbo_shows_its_weight_cap_and_what_a_full_score_pays():
    text = one("""
  - code: objectives
    kind: mbo
    period: quarter
    weight: 20%
    max_score: 120%
""", target_incentive=D("60000"))
    assert ("weight", "20%") in text.rows
    assert ("highest score paid", "120%") in text.rows
    assert ("at a 100% score", "3,000") in text.rows


def test_spiffs_show_per_deal_per_unit_and_percent_with_their_filter():
    text = one("""
  - code: cloud
    kind: spiff
    per_deal: 500.00
    filter:
      product_lines: [cloud]
      new_logo: true
      deal_amount_at_least: 10000.00
      closed_on_or_after: 2026-01-01
      closed_before: 2026-04-01
""")
    assert text.rows == (("per deal", "500"),)
    assert text.terms == ("Counts only: product lines cloud; new logos only; deals of at least "
                          "10,000; closed on or after 01 Jan 2026; closed before 01 Apr 2026.",)
    percent = one("""
  - code: big
    kind: spiff
    percent: 2%
""")
    assert percent.rows == (("of the deal amount", "2%"),)


def test_a_recoverable_draw_shows_its_amount_recovery_and_dates():
    text = one("""
  - code: ramp
    kind: draw
    recoverable: true
    amount: 3000.00
    max_recovery_per_period: 1000.00
    recovery_start: "2026-04"
    last_draw_period: "2026-06"
""")
    rows = dict(text.rows)
    assert rows["type"].startswith("recoverable draw")
    assert rows["amount each period"] == "3,000"
    assert rows["most recovered a period"] == "1,000"
    assert rows["recovery starts"] == "2026-04"
    assert rows["last period with a draw"] == "2026-06"


def test_a_guarantee_of_target_shows_the_money_for_a_month():
    text = one("""
  - code: g
    kind: draw
    recoverable: false
    of_target: 50%
""", target_incentive=D("120000"))
    rows = dict(text.rows)
    assert rows["type"] == "guarantee (never repaid)"
    assert rows["amount each period"] == "50% of the period's target incentive (5,000)"


def test_gates_caps_true_up_and_clawback_are_written_out():
    text = one("""
  - code: acc
    kind: rate_table
    period: quarter
    ytd_true_up: true
    tiers:
      - {from: 0%, rate: 6%}
    gate: {min_attainment: 25%, min_deal_amount: 1000.00}
    caps:
      - {per: year, amount: 150000.00}
      - {per: year, target_multiple: 2}
    clawback: {within_days: 60, method: prorated}
""", target_incentive=D("40000"))
    terms = text.terms
    assert terms[0].startswith("Year-to-date true-up")
    assert "Gate: nothing is paid for a quarter below 25% of quota." in terms
    assert "Deals below 1,000 do not count and pay nothing." in terms
    assert "Cap: at most 150,000 each fiscal year." in terms
    assert "Cap: at most 2 × target incentive each fiscal year (80,000)." in terms
    period_cap = one("""
  - code: s
    kind: spiff
    per_deal: 100.00
    period: quarter
    caps:
      - {per: period, target_multiple: 0.5}
""", target_incentive=D("40000"))
    assert period_cap.terms == ("Cap: at most 0.5 × target incentive each quarter (5,000).",)
    assert ("Clawback: if a deal is cancelled within 60 days of closing, its commission is "
            "taken back in proportion to the days the customer stayed.") in terms


@given(
    bounds=st.lists(st.decimals(min_value=D("0.01"), max_value=D("3"), places=2),
                    min_size=1, max_size=4, unique=True),
    quota=st.decimals(min_value=D("0"), max_value=D("10000000"), places=2),
)
def test_tier_money_is_each_bound_times_the_quota_to_the_cent(bounds, quota):
    from compensation.engine.plans import Component, RateTable, Tier

    edges = [D("0"), *sorted(bounds)]
    tiers = tuple(Tier(low, edges[i + 1] if i + 1 < len(edges) else None, rate=D("0.05"))
                  for i, low in enumerate(edges))
    text = component_text(Component(code="c", name="c", formula=RateTable(tiers=tiers)),
                          window_quota=quota)
    for tier, row in zip(tiers, text.tiers, strict=True):
        low, _, high = row.money_bounds.partition(" \u2013 ")
        if tier.upper is None:
            assert row.money_bounds.endswith(" and above")
            low = row.money_bounds.removesuffix(" and above")
        else:
            assert D(high.replace(",", "")) == cents(tier.upper * quota)
        assert D(low.replace(",", "")) == cents(tier.lower * quota)
