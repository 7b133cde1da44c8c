"""Fiscal-calendar date maths: fiscal years, quarters and months from a start month. No Django.

A fiscal year is named after the calendar year it ENDS in. With a February start, FY2027 runs
from 1 February 2026 to 31 January 2027; with a January start, FY2027 is calendar 2027. Every
span is half-open: `start` inclusive, `end` exclusive, so consecutive periods share a boundary.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

PeriodKind = Literal["month", "quarter", "year"]
KINDS: tuple[PeriodKind, ...] = ("year", "quarter", "month")
MONTHS_IN: dict[str, int] = {"month": 1, "quarter": 3, "year": 12}
COUNT_IN_YEAR: dict[str, int] = {"month": 12, "quarter": 4, "year": 1}


@dataclass(frozen=True, order=True)
class FiscalPeriod:
    """One fiscal month, quarter or year. `number` counts from 1 within the fiscal year."""

    start: datetime.date
    end: datetime.date
    kind: PeriodKind
    fiscal_year: int
    number: int

    @property
    def label(self) -> str:
        if self.kind == "year":
            return f"FY{self.fiscal_year}"
        if self.kind == "quarter":
            return f"FY{self.fiscal_year} Q{self.number}"
        return f"FY{self.fiscal_year} M{self.number:02d} ({self.start:%b %Y})"

    def contains(self, day: datetime.date) -> bool:
        return self.start <= day < self.end


def _check_start_month(start_month: int) -> None:
    if not 1 <= start_month <= 12:
        raise ValueError(f"A fiscal year starts in month 1 to 12, not {start_month}.")


def _check_kind(kind: str) -> None:
    if kind not in MONTHS_IN:
        raise ValueError(f"Unknown period kind {kind!r}; use one of {', '.join(KINDS)}.")


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The first of the month `months` after `day`'s month (day-of-month is dropped)."""
    index = day.year * 12 + (day.month - 1) + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def fiscal_year_of(day: datetime.date, start_month: int) -> int:
    """The fiscal year containing `day`, named after the calendar year it ends in."""
    _check_start_month(start_month)
    if start_month == 1:
        return day.year
    return day.year + 1 if day.month >= start_month else day.year


def fiscal_year_start(fiscal_year: int, start_month: int) -> datetime.date:
    _check_start_month(start_month)
    year = fiscal_year if start_month == 1 else fiscal_year - 1
    return datetime.date(year, start_month, 1)


def fiscal_period(
    kind: PeriodKind, fiscal_year: int, number: int, start_month: int
) -> FiscalPeriod:
    """The `number`-th period of `kind` in `fiscal_year` (Q1..Q4, M01..M12, the year itself)."""
    _check_kind(kind)
    if not 1 <= number <= COUNT_IN_YEAR[kind]:
        raise ValueError(f"A fiscal year has {COUNT_IN_YEAR[kind]} {kind}(s); got {number}.")
    length = MONTHS_IN[kind]
    start = add_months(fiscal_year_start(fiscal_year, start_month), (number - 1) * length)
    return FiscalPeriod(
        start=start,
        end=add_months(start, length),
        kind=kind,
        fiscal_year=fiscal_year,
        number=number,
    )


def period_containing(day: datetime.date, kind: PeriodKind, start_month: int) -> FiscalPeriod:
    """The fiscal period of `kind` that `day` falls in."""
    _check_kind(kind)
    fiscal_year = fiscal_year_of(day, start_month)
    months_in = (day.month - start_month) % 12
    return fiscal_period(kind, fiscal_year, months_in // MONTHS_IN[kind] + 1, start_month)


def next_period(period: FiscalPeriod, start_month: int) -> FiscalPeriod:
    return period_containing(period.end, period.kind, start_month)


def previous_period(period: FiscalPeriod, start_month: int) -> FiscalPeriod:
    return period_containing(period.start - datetime.timedelta(days=1), period.kind, start_month)


def periods_of_fiscal_year(fiscal_year: int, start_month: int) -> list[FiscalPeriod]:
    """The year, its four quarters and twelve months, in that order."""
    return [
        fiscal_period(kind, fiscal_year, number, start_month)
        for kind in KINDS
        for number in range(1, COUNT_IN_YEAR[kind] + 1)
    ]


def fiscal_years_between(first: datetime.date, last: datetime.date, start_month: int) -> range:
    """Every fiscal year touching the dates from `first` to `last` (both inclusive)."""
    if last < first:
        raise ValueError("The last date comes before the first.")
    return range(fiscal_year_of(first, start_month), fiscal_year_of(last, start_month) + 1)


def iter_periods(
    kind: PeriodKind, first: datetime.date, last: datetime.date, start_month: int
) -> Iterator[FiscalPeriod]:
    """Consecutive periods of `kind`, from the one holding `first` to the one holding `last`."""
    period = period_containing(first, kind, start_month)
    while period.start <= last:
        yield period
        period = next_period(period, start_month)
