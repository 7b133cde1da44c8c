"""Capacity maths against a per-seller reference: reps needed, ramp, attrition, hiring plan."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.capacity import (
    DEFAULT_RAMP,
    CapacityInputs,
    monthly_survival,
    parse_percentages,
    plan_capacity,
    ramp_at,
    split_cents,
)

pytestmark = pytest.mark.smoke


def reference_capacity(inputs: CapacityInputs, hires: tuple[int, ...]) -> Decimal:
    """One seller at a time, one month at a time: the oracle for plan_capacity."""
    survival = monthly_survival(inputs.annual_attrition)
    per_month = inputs.full_quota * inputs.expected_attainment / 12
    total = Decimal(0)
    sellers = [(tenure, 0) for tenure in inputs.tenure_months]
    sellers += [(0, month) for month, n in enumerate(hires) for _ in range(n)]
    for tenure, start in sellers:
        for month in range(start, 12):
            months_on = month - start
            total += ramp_at(inputs.ramp, tenure + months_on) * survival**months_on * per_month
    return total


money = st.integers(min_value=0, max_value=50_000_000).map(lambda c: Decimal(c) / 100)
ratios = st.integers(min_value=0, max_value=100).map(lambda p: Decimal(p) / 100)
scenario = st.builds(
    CapacityInputs,
    target=money,
    full_quota=st.integers(min_value=10_000, max_value=2_000_000).map(Decimal),
    expected_attainment=st.integers(min_value=30, max_value=130).map(lambda p: Decimal(p) / 100),
    annual_attrition=st.integers(min_value=0, max_value=80).map(lambda p: Decimal(p) / 100),
    ramp=st.lists(ratios, min_size=0, max_size=8).map(tuple),
    tenure_months=st.lists(st.integers(min_value=0, max_value=40), max_size=30).map(tuple),
    max_hires_per_month=st.one_of(st.none(), st.integers(min_value=0, max_value=6)),
)


@settings(max_examples=150, deadline=None)
@given(scenario)
def test_capacity_matches_the_per_seller_reference(inputs):
    plan = plan_capacity(inputs)

    assert abs(plan.existing_capacity - reference_capacity(inputs, (0,) * 12)) <= Decimal("0.01")
    assert abs(plan.capacity - reference_capacity(inputs, plan.hires)) <= Decimal("0.01")


@settings(max_examples=150, deadline=None)
@given(scenario)
def test_the_hiring_plan_reaches_the_target_or_names_what_is_left(inputs):
    plan = plan_capacity(inputs)

    assert plan.residual_gap == max(inputs.target - plan.capacity, 0)
    if inputs.max_hires_per_month is None and any(r > 0 for r in inputs.ramp[:1] or [1]):
        # Unlimited hiring from the first month with a productive first month always suffices.
        assert plan.residual_gap == 0


@settings(max_examples=150, deadline=None)
@given(scenario)
def test_the_hiring_plan_hires_no_one_more_than_needed(inputs):
    plan = plan_capacity(inputs)

    if plan.total_hires == 0:
        return
    last = max(m for m, n in enumerate(plan.hires) if n)
    fewer = list(plan.hires)
    fewer[last] -= 1
    assert reference_capacity(inputs, tuple(fewer)) < inputs.target


@settings(max_examples=150, deadline=None)
@given(scenario)
def test_month_capacities_add_up_to_the_year_exactly(inputs):
    plan = plan_capacity(inputs)

    assert sum(m.capacity for m in plan.months) == plan.capacity
    assert all(m.hires <= (inputs.max_hires_per_month or 10**9) for m in plan.months)


@settings(max_examples=80, deadline=None)
@given(scenario, st.integers(min_value=1, max_value=15).map(lambda p: Decimal(p) / 100))
def test_more_attrition_never_raises_capacity(inputs, extra):
    worse = CapacityInputs(**{**inputs.__dict__,
                              "annual_attrition": min(inputs.annual_attrition + extra,
                                                      Decimal("0.99"))})

    assert plan_capacity(worse).existing_capacity <= plan_capacity(inputs).existing_capacity


def test_reps_needed_is_target_over_quota_times_attainment():
    inputs = CapacityInputs(target=Decimal("10000000"), full_quota=Decimal("800000"),
                            expected_attainment=Decimal("0.8"))

    plan = plan_capacity(inputs)

    assert plan.reps_needed_exact == Decimal("15.63")
    assert plan.reps_needed == 16


def test_without_ramp_or_attrition_a_team_delivers_quota_times_attainment():
    inputs = CapacityInputs(target=Decimal("1000000"), full_quota=Decimal("100000"),
                            expected_attainment=Decimal("0.8"), annual_attrition=Decimal(0),
                            ramp=(), tenure_months=(12,) * 10)

    plan = plan_capacity(inputs)

    assert plan.existing_capacity == Decimal("800000.00")
    assert plan.gap == Decimal("200000.00")
    assert plan.gap_heads == 3  # 200,000 ÷ 80,000 = 2.5 sellers
    assert plan.hires == (3,) + (0,) * 11
    assert plan.capacity == Decimal("1040000.00")


def test_new_hires_ramp_so_the_plan_needs_more_heads_than_the_gap():
    inputs = CapacityInputs(target=Decimal("1000000"), full_quota=Decimal("100000"),
                            expected_attainment=Decimal("0.8"), annual_attrition=Decimal(0),
                            tenure_months=(12,) * 10)

    plan = plan_capacity(inputs)

    # A hire in month 1 delivers 0 + .25 + .5 + .75 + 8 full months = 9.5 of 12 months.
    assert plan.total_hires == 4
    assert plan.hires[0] == 4


def test_attrition_shrinks_the_team_month_by_month():
    inputs = CapacityInputs(target=Decimal(0), full_quota=Decimal("120000"),
                            expected_attainment=Decimal(1), annual_attrition=Decimal("0.35"),
                            ramp=(), tenure_months=(24,) * 100)

    plan = plan_capacity(inputs)

    assert plan.months[0].headcount == Decimal("100.0")
    assert plan.ending_headcount == Decimal("65.0")
    assert [m.headcount for m in plan.months] == sorted((m.headcount for m in plan.months),
                                                        reverse=True)


def test_a_hiring_limit_spreads_hires_and_may_leave_a_gap():
    inputs = CapacityInputs(target=Decimal("3000000"), full_quota=Decimal("100000"),
                            expected_attainment=Decimal(1), annual_attrition=Decimal(0),
                            tenure_months=(), max_hires_per_month=2)

    plan = plan_capacity(inputs)

    assert plan.hires[:4] == (2, 2, 2, 2)
    assert plan.residual_gap > 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "at least one"),
        ("0, 25, x", "Entry 3"),
        ("0, 150", "between 0 and 100"),
        ("-5", "between 0 and 100"),
    ],
)
def test_percentage_lists_name_the_bad_entry(text, message):
    with pytest.raises(ValueError, match=message):
        parse_percentages(text)


def test_percentage_lists_may_have_to_add_up():
    assert parse_percentages("50%, 50") == (Decimal(50), Decimal(50))
    with pytest.raises(ValueError, match="add up to 100"):
        parse_percentages("50, 40", total=Decimal(100))


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=0, max_value=10**12),
    st.lists(st.integers(min_value=0, max_value=10**6).map(Decimal), min_size=1, max_size=40),
)
def test_split_cents_adds_up_exactly_and_stays_within_a_cent_of_fair(total, weights):
    parts = split_cents(total, weights)

    assert sum(parts) == total
    weight_sum = sum(weights) or len(weights)
    fair = [Decimal(total) * (w if sum(weights) else 1) / weight_sum for w in weights]
    assert all(abs(p - f) < 1 for p, f in zip(parts, fair, strict=True))


def test_split_cents_gives_leftover_cents_to_earlier_parts_on_ties():
    assert split_cents(100, [1, 1, 1]) == [34, 33, 33]
    assert split_cents(2, [1, 1, 1]) == [1, 1, 0]


def test_default_ramp_is_the_usual_five_month_schedule():
    assert [ramp_at(DEFAULT_RAMP, t) for t in range(7)] == [
        Decimal(0), Decimal("0.25"), Decimal("0.5"), Decimal("0.75"), Decimal(1), 1, 1]
