"""Seasonality and ramp phasing: learned weights, exact monthly cents, partial months."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.capacity import DEFAULT_RAMP
from quotas.seasonality import (
    capacity_factor,
    employed_shares,
    flat_weights,
    learn_weights,
    month_factors,
    phase,
    rephase_remaining,
)

pytestmark = pytest.mark.smoke

MONTH_STARTS = [datetime.date(2025, m, 1) for m in range(1, 13)]
weights_strategy = st.lists(
    st.integers(min_value=0, max_value=3000).map(lambda bp: Decimal(bp) / 100),
    min_size=12, max_size=12,
).filter(lambda ws: sum(ws) > 0)


def test_flat_weights_add_up_to_exactly_one_hundred():
    weights = flat_weights()

    assert sum(weights) == 100
    assert weights[:5] == (Decimal("8.34"),) * 4 + (Decimal("8.33"),)


def test_learned_weights_follow_the_months_that_book_most():
    quiet = [Decimal(100)] * 11 + [Decimal(900)]  # a December rush
    busier = [Decimal(200)] * 11 + [Decimal(1800)]

    weights = learn_weights([quiet, busier])

    assert sum(weights) == 100
    assert weights[11] == Decimal("45.00")
    assert weights[0] == Decimal("5.00")


def test_each_year_counts_the_same_whatever_its_size():
    january_year = [Decimal(1000)] + [Decimal(0)] * 11
    tiny_december_year = [Decimal(0)] * 11 + [Decimal(1)]

    weights = learn_weights([january_year, tiny_december_year])

    assert weights[0] == weights[11] == Decimal(50)


def test_without_history_weights_are_flat():
    assert learn_weights([]) == flat_weights()
    assert learn_weights([[Decimal(0)] * 12]) == flat_weights()


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10**11), weights_strategy)
def test_phased_months_add_up_to_exactly_the_annual_quota(annual_cents, weights):
    months = phase(annual_cents, weights)

    assert sum(months) == annual_cents
    total = sum(weights)
    for cents, weight in zip(months, weights, strict=True):
        assert abs(cents - Decimal(annual_cents) * weight / total) < 1


def test_phasing_is_deterministic_and_gives_rounding_cents_to_early_months():
    assert phase(100, flat_weights()) == [9, 9, 9, 9, 8, 8, 8, 8, 8, 8, 8, 8]
    assert phase(100, flat_weights()) == phase(100, flat_weights())


def test_a_new_hire_ramps_from_their_month_of_hire():
    factors = month_factors(month_starts=MONTH_STARTS, hire_date=datetime.date(2025, 4, 1),
                            termination_date=None, ramp=DEFAULT_RAMP)

    assert factors[:3] == (0, 0, 0)
    assert factors[3:8] == (Decimal(0), Decimal("0.25"), Decimal("0.5"), Decimal("0.75"),
                            Decimal(1))
    assert factors[11] == 1


def test_part_months_count_by_days_employed():
    factors = month_factors(month_starts=MONTH_STARTS, hire_date=datetime.date(2020, 1, 1),
                            termination_date=datetime.date(2025, 6, 16), ramp=DEFAULT_RAMP)

    assert factors[4] == 1
    assert factors[5] == Decimal(15) / Decimal(30)
    assert factors[6:] == (0,) * 6


def test_a_ramping_quota_is_phased_by_season_times_ramp():
    factors = month_factors(month_starts=MONTH_STARTS, hire_date=datetime.date(2025, 10, 1),
                            termination_date=None, ramp=DEFAULT_RAMP)

    months = phase(75_000_00, flat_weights(), factors)

    assert months[:10] == [0] * 10
    assert months[10] == 25_000_00  # a quarter of the ramped share, by equal month weights
    assert months[11] == 50_000_00


def test_capacity_factor_is_the_share_of_a_full_year_carried():
    factors = month_factors(month_starts=MONTH_STARTS, hire_date=datetime.date(2025, 7, 1),
                            termination_date=None, ramp=())

    assert capacity_factor([Decimal(1)] * 12, factors) == Decimal("0.5")


def test_a_manual_quota_for_a_zero_ramp_month_still_lands_in_employed_months():
    hired = {"month_starts": MONTH_STARTS, "hire_date": datetime.date(2025, 12, 1),
             "termination_date": None}
    factors = month_factors(**hired, ramp=DEFAULT_RAMP)
    employed = employed_shares(**hired)

    assert phase(1_000, flat_weights(), factors, employed) == [0] * 11 + [1_000]


def test_someone_not_employed_in_the_year_cannot_be_given_a_quota():
    factors = (Decimal(0),) * 12

    with pytest.raises(ValueError, match="not employed"):
        phase(1_000, flat_weights(), factors)
    assert phase(0, flat_weights(), factors) == [0] * 12


def test_a_mid_year_change_keeps_closed_months_and_rephases_the_rest():
    kept = [1_000] * 6 + [None] * 6

    months = rephase_remaining(18_000, kept, flat_weights())

    assert months[:6] == [1_000] * 6
    assert sum(months[6:]) == 12_000
    assert sum(months) == 18_000


def test_a_cut_below_what_closed_months_carried_leaves_the_open_months_empty():
    months = rephase_remaining(3_000, [1_000] * 6 + [None] * 6, flat_weights())

    assert months == [1_000] * 6 + [0] * 6


def test_a_leaver_keeps_their_closed_months_and_the_open_ones_stay_empty():
    employed = (Decimal(1),) * 5 + (Decimal(0),) * 7  # left at the end of May

    months = rephase_remaining(10_000, [1_000] * 6 + [None] * 6, flat_weights(),
                               employed, employed)

    assert months == [1_000] * 6 + [0] * 6


def test_a_changed_quota_for_someone_never_employed_in_the_year_is_refused():
    nobody = (Decimal(0),) * 12

    with pytest.raises(ValueError, match="not employed"):
        rephase_remaining(10_000, [None] * 12, flat_weights(), nobody, nobody)
