"""The period calendar the engine counts in: base periods in order, with their quarter and year.

A base period is a fiscal month keyed "YYYY-MM" (the calendar month it covers); quarters are
"FY2027-Q1" and years "FY2027", a fiscal year being named after the calendar year it ends in, as
in spm.org. Callers with their own keys build a Calendar from explicit tuples.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

_MONTH_KEY = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Windows:
    """The windows of one cadence: labels, the window of each base period, and its year."""

    labels: tuple[str, ...]
    of_period: np.ndarray  # window index of each base period
    year: np.ndarray  # year index of each window
    last_period: np.ndarray  # base period index that closes each window (its pay period)
    first_period: np.ndarray
    size: np.ndarray  # number of base periods in each window


@dataclass(frozen=True)
class Calendar:
    periods: tuple[str, ...]
    quarters: tuple[str, ...]
    years: tuple[str, ...]

    def __post_init__(self) -> None:
        if not (len(self.periods) == len(self.quarters) == len(self.years)):
            raise ValueError("A calendar needs a quarter and a year for every period.")
        if len(set(self.periods)) != len(self.periods):
            raise ValueError("A calendar lists each period once.")
        for labels, what in ((self.quarters, "quarter"), (self.years, "year")):
            closed: set[str] = set()
            for previous, label in zip((None, *labels), labels, strict=False):
                if label != previous:
                    if label in closed:
                        raise ValueError(f"The periods of {what} {label} are not consecutive.")
                    if previous is not None:
                        closed.add(previous)
        years_of_quarter: dict[str, set[str]] = {}
        for quarter, year in zip(self.quarters, self.years, strict=True):
            years_of_quarter.setdefault(quarter, set()).add(year)
        for quarter, years in years_of_quarter.items():
            if len(years) > 1:
                raise ValueError(f"Quarter {quarter} spans two years ({', '.join(sorted(years))}).")

    @classmethod
    def fiscal(cls, first_year: int, last_year: int, start_month: int = 1) -> Calendar:
        """Every month of fiscal years `first_year`..`last_year` for a fiscal-year start month."""
        if not 1 <= start_month <= 12:
            raise ValueError(f"A fiscal year starts in month 1 to 12, not {start_month}.")
        periods, quarters, years = [], [], []
        for fiscal_year in range(first_year, last_year + 1):
            start_index = (fiscal_year if start_month == 1 else fiscal_year - 1) * 12 + (
                start_month - 1
            )
            for number in range(12):
                index = start_index + number
                periods.append(f"{index // 12:04d}-{index % 12 + 1:02d}")
                quarters.append(f"FY{fiscal_year}-Q{number // 3 + 1}")
                years.append(f"FY{fiscal_year}")
        return cls(tuple(periods), tuple(quarters), tuple(years))

    @classmethod
    def covering(cls, keys: Iterable[str], start_month: int = 1) -> Calendar:
        """The fiscal years that hold every "YYYY-MM" key given."""
        fiscal_years = set()
        bad = []
        for key in keys:
            match = _MONTH_KEY.match(str(key))
            if not match or not 1 <= int(match.group(2)) <= 12:
                bad.append(str(key))
                continue
            year, month = int(match.group(1)), int(match.group(2))
            fiscal_years.add(year if start_month == 1 or month < start_month else year + 1)
        if bad:
            shown = ", ".join(sorted(set(bad))[:5])
            raise ValueError(f"Period keys must look like 2026-03 unless a calendar is given; "
                             f"got {shown}.")
        if not fiscal_years:
            fiscal_years = {1970}
        return cls.fiscal(min(fiscal_years), max(fiscal_years), start_month)

    @cached_property
    def position(self) -> dict[str, int]:
        return {key: i for i, key in enumerate(self.periods)}

    def index_of(self, keys: object) -> np.ndarray:
        """Base-period index of each key, -1 for a key the calendar does not know.

        Takes an array or a Series; a categorical Series is looked up by its categories only.
        """
        codes, uniques = _factorize(keys)
        lookup = np.array([self.position.get(str(u), -1) for u in uniques] + [-1],
                          dtype=np.int64)
        return lookup[codes]

    def windows(self, cadence: str) -> Windows:
        return self._windows[cadence]

    @cached_property
    def _windows(self) -> dict[str, Windows]:
        _, year_of_period = _runs(self.years)
        out = {}
        for cadence, labels_per_period in (("month", self.periods),
                                           ("quarter", self.quarters),
                                           ("year", self.years)):
            labels, of_period = _runs(labels_per_period)
            n = len(labels)
            last = np.zeros(n, dtype=np.int64)
            first = np.full(n, len(self.periods), dtype=np.int64)
            np.maximum.at(last, of_period, np.arange(len(of_period)))
            np.minimum.at(first, of_period, np.arange(len(of_period)))
            out[cadence] = Windows(
                labels=labels,
                of_period=of_period,
                year=year_of_period[first] if n else np.zeros(0, dtype=np.int64),
                last_period=last,
                first_period=first,
                size=np.bincount(of_period, minlength=n).astype(np.int64),
            )
        return out


def _runs(labels: tuple[str, ...]) -> tuple[tuple[str, ...], np.ndarray]:
    """Distinct labels in order of appearance, and the index of each entry's label."""
    order: dict[str, int] = {}
    index = np.empty(len(labels), dtype=np.int64)
    for i, label in enumerate(labels):
        index[i] = order.setdefault(label, len(order))
    return tuple(order), index


def _factorize(values: object) -> tuple[np.ndarray, list[object]]:
    import pandas as pd

    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(dtype=np.int64), list(values.cat.categories)
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    return codes.astype(np.int64), list(uniques)
