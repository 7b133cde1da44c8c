"""Fiscal-calendar maths, checked by examples and against a month-walking reference."""

from __future__ import annotations

import datetime
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spm.org import calendar
from spm.org.calendar import (
    fiscal_period,
    fiscal_year_of,
    fiscal_year_start,
    iter_periods,
    next_period,
    period_containing,
    periods_of_fiscal_year,
    previous_period,
)

pytestmark = pytest.mark.smoke

D = datetime.date
days = st.dates(min_value=D(1901, 1, 1), max_value=D(2200, 12, 31))
start_months = st.integers(min_value=1, max_value=12)
kinds = st.sampled_from(["month", "quarter", "year"])


def reference_fiscal_year(day: datetime.date, start_month: int) -> int:
    """Walk back to the first of the start month, then 12 months on: the year of the last day."""
    cursor = D(day.year, day.month, 1)
    while cursor.month != start_month:
        cursor = D(cursor.year - (cursor.month == 1), (cursor.month - 2) % 12 + 1, 1)
    last_month = D(cursor.year + (cursor.month + 11 > 12), (cursor.month + 10) % 12 + 1, 1)
    return last_month.year


def test_a_february_fiscal_year_is_named_after_the_january_it_ends_in():
    fy = fiscal_period("year", 2027, 1, start_month=2)
    assert (fy.start, fy.end) == (D(2026, 2, 1), D(2027, 2, 1))
    assert fy.label == "FY2027"
    assert fiscal_year_of(D(2026, 1, 31), 2) == 2026
    assert fiscal_year_of(D(2026, 2, 1), 2) == 2027
    assert fiscal_year_of(D(2027, 1, 31), 2) == 2027


def test_february_start_quarters_and_months_have_their_labels():
    q1 = period_containing(D(2026, 4, 15), "quarter", 2)
    assert (q1.fiscal_year, q1.number, q1.start, q1.end) == (2027, 1, D(2026, 2, 1), D(2026, 5, 1))
    assert q1.label == "FY2027 Q1"
    march = period_containing(D(2026, 4, 15), "month", 2)
    assert march.label == "FY2027 M03 (Apr 2026)"
    q4 = period_containing(D(2027, 1, 10), "quarter", 2)
    assert (q4.number, q4.start, q4.end) == (4, D(2026, 11, 1), D(2027, 2, 1))


def test_a_january_fiscal_year_is_the_calendar_year():
    assert fiscal_year_start(2026, 1) == D(2026, 1, 1)
    assert period_containing(D(2026, 12, 31), "quarter", 1).label == "FY2026 Q4"
    assert period_containing(D(2027, 1, 1), "quarter", 1).label == "FY2027 Q1"


def test_next_and_previous_cross_the_fiscal_year_boundary():
    last_month = period_containing(D(2027, 1, 20), "month", 2)
    first_month = next_period(last_month, 2)
    assert (first_month.fiscal_year, first_month.number) == (2028, 1)
    assert first_month.start == D(2027, 2, 1)
    assert previous_period(first_month, 2) == last_month
    q4 = period_containing(D(2026, 12, 31), "quarter", 1)
    assert next_period(q4, 1).label == "FY2027 Q1"
    assert previous_period(period_containing(D(2026, 1, 1), "year", 1), 1).label == "FY2025"


def test_leap_day_falls_in_february_and_the_month_ends_on_the_first_of_march():
    month = period_containing(D(2024, 2, 29), "month", 1)
    assert (month.start, month.end) == (D(2024, 2, 1), D(2024, 3, 1))
    # With a March start, February 2024 is the twelfth month of FY2024 (Mar 2023 - Feb 2024).
    twelfth = period_containing(D(2024, 2, 29), "month", 3)
    assert (twelfth.fiscal_year, twelfth.number) == (2024, 12)
    assert (twelfth.end - twelfth.start).days == 29
    assert (period_containing(D(2023, 2, 28), "month", 3).end - D(2023, 2, 1)).days == 28


def test_a_fiscal_year_lists_itself_four_quarters_and_twelve_months():
    spans = periods_of_fiscal_year(2027, 2)
    assert [s.kind for s in spans] == ["year"] + ["quarter"] * 4 + ["month"] * 12
    assert [s.label for s in spans[1:5]] == [f"FY2027 Q{n}" for n in range(1, 5)]
    assert spans[5].label == "FY2027 M01 (Feb 2026)"
    assert spans[-1].label == "FY2027 M12 (Jan 2027)"


def test_iter_periods_runs_from_the_first_dates_period_to_the_last_dates():
    months = list(iter_periods("month", D(2025, 11, 30), D(2026, 2, 1), 1))
    assert [m.start for m in months] == [D(2025, 11, 1), D(2025, 12, 1), D(2026, 1, 1),
                                         D(2026, 2, 1)]


@pytest.mark.parametrize("start_month", [0, 13, -1])
def test_a_start_month_outside_1_to_12_is_refused(start_month):
    with pytest.raises(ValueError, match="month 1 to 12"):
        fiscal_year_of(D(2026, 1, 1), start_month)


def test_an_unknown_kind_or_number_is_refused():
    with pytest.raises(ValueError, match="Unknown period kind"):
        period_containing(D(2026, 1, 1), "week", 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="4 quarter"):
        fiscal_period("quarter", 2026, 5, 1)


@given(day=days, start_month=start_months)
def test_fiscal_year_matches_the_month_walking_reference(day, start_month):
    assert fiscal_year_of(day, start_month) == reference_fiscal_year(day, start_month)


@given(day=days, start_month=start_months, kind=kinds)
def test_the_period_of_a_date_contains_it_and_has_the_kinds_length(day, start_month, kind):
    period = period_containing(day, kind, start_month)
    assert period.contains(day)
    assert (period.start.day, period.end.day) == (1, 1)
    months = (period.end.year - period.start.year) * 12 + period.end.month - period.start.month
    assert months == calendar.MONTHS_IN[kind]
    # The fiscal year is named after the calendar year its last day is in.
    year = period_containing(day, "year", start_month)
    assert year.fiscal_year == (year.end - datetime.timedelta(days=1)).year
    assert period.fiscal_year == year.fiscal_year


@given(day=days, start_month=start_months, kind=kinds)
def test_next_and_previous_are_adjacent_and_inverse(day, start_month, kind):
    period = period_containing(day, kind, start_month)
    following = next_period(period, start_month)
    assert following.start == period.end
    assert previous_period(following, start_month) == period
    assert next_period(previous_period(period, start_month), start_month) == period


@given(fiscal_year=st.integers(min_value=1902, max_value=2199), start_month=start_months)
def test_quarters_and_months_tile_the_fiscal_year_without_gaps(fiscal_year, start_month):
    spans = periods_of_fiscal_year(fiscal_year, start_month)
    year, quarters, months = spans[0], spans[1:5], spans[5:]
    for parts in (quarters, months):
        assert (parts[0].start, parts[-1].end) == (year.start, year.end)
        assert all(a.end == b.start for a, b in itertools.pairwise(parts))
        assert [p.number for p in parts] == list(range(1, len(parts) + 1))
