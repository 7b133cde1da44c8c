"""What every component needs: its credits, windows, quotas, targets, gate and caps.

A window is one month, quarter or year of the component's cadence; with a year-to-date true-up
the window's figures (basis, quota, target) run from the start of the fiscal year through it.
A window's quota and target sum the base periods of the window in which the payee holds the
plan; a window pays in its last base period (its pay period).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from . import text
from .calendar import Windows
from .exact import SAFE_BOUND, abs_max, ceil_div, decimal_exponent, half_up_div, scaled, to_int64
from .inputs import MEASURE_COLUMN, Prepared, issue_rows
from .plans import Component

LINE_TYPES = ("credit", "true_up", "curve", "milestone", "mbo", "draw_advance",
              "draw_recovery", "guarantee", "clawback")


@dataclass
class Builder:
    """Collects line batches and issues while a calculation runs."""

    prepared: Prepared
    parts: list[dict[str, Any]] = field(default_factory=list)  # columns, then constants
    rate_labels: dict[str, int] = field(default_factory=dict)
    component_codes: dict[str, int] = field(default_factory=dict)

    def rate_codes(self, labels: tuple[str, ...] | list[str]) -> np.ndarray:
        return np.array([self.rate_labels.setdefault(label, len(self.rate_labels))
                         for label in labels], dtype=np.int64)

    def component_code(self, code: str) -> int:
        return self.component_codes.setdefault(code, len(self.component_codes))

    def issue(self, *args: object, **kwargs: object) -> None:
        self.prepared.issues.append(issue_rows(*args, **kwargs))  # type: ignore[arg-type]

    def add_lines(self, ctx: ComponentContext, lines: dict[str, np.ndarray]) -> None:
        if len(lines["payee"]) == 0:
            return
        part: dict[str, Any] = dict(lines)
        part["plan"] = ctx.plan
        part["order"] = ctx.order
        part["component"] = ctx.code
        part["kind"] = ctx.component.kind
        part["measure"] = ctx.component.measure
        part["cadence"] = ctx.component.period
        self.parts.append(part)


def group_starts(group: np.ndarray) -> np.ndarray:
    """Index of the first row of each row's group (rows of a group are consecutive)."""
    n = len(group)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    is_start = np.ones(n, dtype=bool)
    is_start[1:] = group[1:] != group[:-1]
    return np.maximum.accumulate(np.where(is_start, np.arange(n), 0))


def running_total(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Cumulative sum of values restarting at every new group (inclusive of the row)."""
    if len(values) == 0:
        return values.copy()
    total = np.cumsum(values)
    starts = group_starts(group)
    return total - (total - values)[starts]


def capped_lines(amounts: np.ndarray, group: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """Lines after a cap on their running total: each pays min(total, cap) - the previous one."""
    if len(amounts) == 0:
        return amounts.copy()
    limited = np.minimum(running_total(amounts, group), cap)
    previous = np.roll(limited, 1)
    previous[group_starts(group) == np.arange(len(limited))] = 0
    return limited - previous


@dataclass
class ComponentContext:
    builder: Builder
    plan: int
    order: int  # position of the component in its plan
    component: Component
    code: int  # global component code
    windows: Windows

    @property
    def prepared(self) -> Prepared:
        return self.builder.prepared

    @property
    def ytd(self) -> bool:
        return self.component.ytd_true_up

    @property
    def n_windows(self) -> int:
        return len(self.windows.labels)

    # ---- dense (payee, window) tables -------------------------------------------------------
    def per_window(self, table: np.ndarray) -> np.ndarray:
        """Sum a (payee, base period) table into (payee, window)."""
        if table.shape[1] == 0:
            return np.zeros((table.shape[0], 0), dtype=table.dtype)
        return np.add.reduceat(table, self.windows.first_period, axis=1)

    def to_date(self, table: np.ndarray) -> np.ndarray:
        """(payee, window) sums made year-to-date when the component trues up."""
        if not self.ytd or table.shape[1] == 0:
            return table
        running = np.cumsum(table, axis=1)
        year = self.windows.year
        first_of_year = np.r_[0, np.flatnonzero(year[1:] != year[:-1]) + 1]
        year_start = first_of_year[year - year[0]]
        before = np.where(year_start > 0, running[:, np.maximum(year_start - 1, 0)], 0)
        return running - before

    @property
    def active(self) -> np.ndarray:
        """(payee, window): the payee holds the plan in some base period of the window."""
        assigned = self.prepared.assigned[self.plan].astype(np.int64)
        return self.per_window(assigned) > 0

    def quota(self) -> np.ndarray | None:
        """(payee, window) quota in measure units, year to date when truing up."""
        tables = self.prepared.quota.get(self.component.measure)
        if tables is None:
            return None
        values = np.where(self.prepared.assigned[self.plan], tables[0], 0)
        return self.to_date(self.per_window(values))

    def target(self) -> np.ndarray:
        return self.to_date(self.per_window(self.prepared.target_cents[self.plan]))

    # ---- credits ----------------------------------------------------------------------------
    def credit_rows(self) -> np.ndarray:
        p = self.prepared
        mask = p.plan == self.plan
        f = self.component.filter
        if f is not None:
            cols = p.columns
            if f.product_lines:
                mask &= np.isin(cols["product_line"], np.array(f.product_lines, dtype=object))
            if f.deal_types:
                mask &= np.isin(cols["deal_type"], np.array(f.deal_types, dtype=object))
            if f.new_logo is not None:
                mask &= cols["is_new_logo"] == f.new_logo
            if f.deal_amount_at_least is not None:
                mask &= cols["deal_amount_cents"] >= scaled(f.deal_amount_at_least, 2)
            if f.deal_amount_below is not None:
                mask &= cols["deal_amount_cents"] < scaled(f.deal_amount_below, 2)
            if f.closed_on_or_after is not None:
                mask &= cols["close_day"] >= _day(f.closed_on_or_after)
            if f.closed_before is not None:
                mask &= cols["close_day"] < _day(f.closed_before)
        return np.flatnonzero(mask)

    def basis(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The measure of each credit, and whether it clears the minimum deal size."""
        column = self.prepared.columns[MEASURE_COLUMN[self.component.measure]]
        values = column[rows]
        gate = self.component.gate
        if gate is None or gate.min_deal_amount is None:
            return values, np.ones(len(rows), dtype=bool)
        deal = self.prepared.columns["deal_amount_cents"][rows]
        return values, deal >= scaled(gate.min_deal_amount, 2)

    def window_basis(self, rows: np.ndarray, counted: np.ndarray) -> np.ndarray:
        """(payee, window) total of the counted basis, year to date when truing up."""
        p = self.prepared
        table = np.zeros(p.n_payees * self.n_windows, dtype=np.int64)
        flat = p.payee[rows] * self.n_windows + self.windows.of_period[p.period[rows]]
        if len(rows):
            starts = np.r_[0, np.flatnonzero(flat[1:] != flat[:-1]) + 1]
            table[flat[starts]] = np.add.reduceat(counted, starts)
        return self.to_date(table.reshape(p.n_payees, self.n_windows))

    # ---- gate and caps -----------------------------------------------------------------------
    def gate_passes(self, basis: np.ndarray, quota: np.ndarray | None) -> np.ndarray:
        """Whether each (payee, window) clears the minimum attainment (True with no gate)."""
        gate = self.component.gate
        if gate is None or gate.min_attainment is None:
            return np.ones(basis.shape, dtype=bool)
        assert quota is not None
        threshold = _attainment_bound(quota, gate.min_attainment)
        return (quota > 0) & (basis >= threshold)

    def gate_label(self) -> str:
        gate = self.component.gate
        assert gate is not None
        assert gate.min_attainment is not None
        return text.percent_label(gate.min_attainment)

    def cap_tables(self, per: str) -> np.ndarray | None:
        """The tightest cap of a span, per (payee, window) or per (payee, window's year)."""
        caps = [c for c in self.component.caps if c.per == per]
        if not caps:
            return None
        p = self.prepared
        if per == "period":
            target = self.per_window(p.target_cents[self.plan])
        else:
            year_windows = p.calendar.windows("year")
            by_year = np.add.reduceat(p.target_cents[self.plan], year_windows.first_period,
                                      axis=1) if p.n_periods else np.zeros((p.n_payees, 0))
            target = by_year[:, self.windows.year]
        limit = None
        for cap in caps:
            if cap.amount is not None:
                value = np.full(target.shape, scaled(cap.amount, 2), dtype=np.int64)
            else:
                value = _times(target, cap.target_multiple or Decimal(0))
            limit = value if limit is None else np.minimum(limit, value)
        return limit

    def apply_caps(self, lines: dict[str, np.ndarray], order_group: np.ndarray) -> None:
        """Cap the batch's `amount` in place: per window, then per year, in line order.

        `lines` must be sorted in pay order within each payee; `order_group` is the window
        index of each line. Fills `capped_period`/`capped_year` with what each cap held back.
        """
        amount = lines["amount"]
        payee = lines["payee"]
        period_cap = self.cap_tables("period")
        after_period = amount
        if period_cap is not None:
            group = payee * self.n_windows + order_group
            after_period = capped_lines(amount, group, period_cap[payee, order_group])
        year_cap = self.cap_tables("year")
        final = after_period
        if year_cap is not None:
            group = payee * (int(self.windows.year.max(initial=0)) + 1) + \
                self.windows.year[order_group]
            final = capped_lines(after_period, group, year_cap[payee, order_group])
        lines["capped_period"] = amount - after_period
        lines["capped_year"] = after_period - final
        lines["amount"] = final
        lines["period_cap"] = period_cap[payee, order_group] if period_cap is not None \
            else np.zeros(len(amount), dtype=np.int64)
        lines["year_cap"] = year_cap[payee, order_group] if year_cap is not None \
            else np.zeros(len(amount), dtype=np.int64)

    def no_quota_issue(self, payee: np.ndarray, window: np.ndarray, why: str) -> None:
        if len(payee) == 0:
            return
        labels = np.array(self.windows.labels, dtype=object)[window]
        message = np.array([f"no quota for {label}: {why}" for label in labels], dtype=object)
        self.builder.issue("warning", "no_quota", message, payee=payee,
                           period=self.windows.last_period[window], plan=self.plan,
                           component=self.component.code)


def cap_suffix(lines: dict[str, np.ndarray]) -> None:
    """Append '; capped at X for the period: paid Y' (and the yearly cap) where a cap bit."""
    out = lines["explanation"]
    amount_after_period = lines["amount"] + lines["capped_year"]
    for key, cap_key, words, paid in (
        ("capped_period", "period_cap", " for the period: paid ", amount_after_period),
        ("capped_year", "year_cap", " for the year: paid ", lines["amount"]),
    ):
        rows = np.flatnonzero(lines[key] != 0)
        if len(rows):
            out[rows] = text.add(out[rows], "; capped at ", text.money(lines[cap_key][rows]),
                                 words, text.money(paid[rows]))


def _times(cents: np.ndarray, multiple: Decimal) -> np.ndarray:
    exponent = decimal_exponent([multiple])
    numerator = scaled(multiple, exponent)
    values = cents.astype(object) if abs_max(cents) * max(1, numerator) >= SAFE_BOUND else cents
    return to_int64(half_up_div(values * numerator, 10**exponent))


def _attainment_bound(quota: np.ndarray, fraction: Decimal) -> np.ndarray:
    """Smallest whole basis whose attainment reaches `fraction` of quota: ceil(quota × f)."""
    exponent = decimal_exponent([fraction])
    numerator = scaled(fraction, exponent)
    values = quota.astype(object) if abs_max(quota) * max(1, numerator) >= SAFE_BOUND else quota
    return ceil_div(values * numerator, 10**exponent)


def _day(value: datetime.date | str) -> int:
    return int(np.datetime64(value, "D").astype(np.int64))
