"""Rate tables evaluated on integer arrays: tier reached, exact earnings, and explanation terms.

Earnings are integer numerators over 10**exponent (the rates' common decimal scale), so
`earned(x)` is exact for any cumulative basis `x`. Tier lower bounds are per row: fixed amounts,
or attainment bounds turned into basis units by rounding quota × bound UP to a whole unit, which
is the exact "attainment ≥ bound" test for whole-unit bases. Below zero the first tier's rate
applies, so a window whose reversals outweigh its sales earns a negative amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from . import text
from .exact import SAFE_BOUND, abs_max, ceil_div, decimal_exponent, scaled, widen
from .plans import RateTable, effective_rates


@dataclass(frozen=True)
class CompiledTable:
    method: str
    basis: str
    rate_numerators: tuple[int, ...]  # per tier, in cents per basis unit × 10**exponent
    exponent: int
    amount_bounds: tuple[int, ...]  # lower bounds in basis units (basis "amount")
    attainment_bounds: tuple[int, ...]  # lower bounds × 10**attainment_exponent
    attainment_exponent: int
    rate_labels: tuple[str, ...]

    @property
    def denominator(self) -> int:
        return 10**self.exponent

    @property
    def n_tiers(self) -> int:
        return len(self.rate_numerators)


def compile_table(table: RateTable, measure: str) -> CompiledTable:
    rates = effective_rates(table)
    # Money measures pay a fraction of cents; units pay money per unit, i.e. 100× in cents.
    per_unit_cents = [r * 100 for r in rates] if measure == "units" else rates
    exponent = decimal_exponent(per_unit_cents)
    lowers = [t.lower for t in table.tiers]
    if table.basis == "attainment":
        attainment_exponent = decimal_exponent(lowers)
        attainment_bounds = tuple(scaled(b, attainment_exponent) for b in lowers)
        amount_bounds: tuple[int, ...] = ()
    else:
        attainment_exponent, attainment_bounds = 0, ()
        unit = 0 if measure == "units" else 2
        amount_bounds = tuple(scaled(b, unit) for b in lowers)
    labels = tuple(text.money_label(r) if measure == "units" else text.percent_label(r)
                   for r in rates)
    return CompiledTable(
        method=table.method,
        basis=table.basis,
        rate_numerators=tuple(scaled(r, exponent) for r in per_unit_cents),
        exponent=exponent,
        amount_bounds=amount_bounds,
        attainment_bounds=attainment_bounds,
        attainment_exponent=attainment_exponent,
        rate_labels=labels,
    )


def lower_bounds(table: CompiledTable, quota: np.ndarray | None, n: int) -> list[np.ndarray]:
    """Each tier's lower bound in basis units, per row (quota per row for attainment tiers)."""
    if table.basis == "amount":
        return [np.full(n, b, dtype=np.int64) for b in table.amount_bounds]
    assert quota is not None
    scale = 10**table.attainment_exponent
    big = abs_max(quota) * max(table.attainment_bounds) >= SAFE_BOUND
    q = quota.astype(object) if big else quota
    return [ceil_div(q * b, scale) for b in table.attainment_bounds]


def tier_index(x: np.ndarray, lowers: list[np.ndarray]) -> np.ndarray:
    """0-based tier holding x: the last tier whose lower bound x reaches (tier 0 below zero)."""
    index = np.zeros(len(x), dtype=np.int64)
    for bound in lowers[1:]:
        index += x >= bound
    return index


def _slices(x: np.ndarray, lowers: list[np.ndarray]) -> list[np.ndarray]:
    """How much of x falls in each tier (the first tier also takes anything below zero)."""
    pieces = []
    for t, bound in enumerate(lowers):
        upper = lowers[t + 1] if t + 1 < len(lowers) else None
        if t == 0:
            piece = x if upper is None else np.minimum(x, upper)
        else:
            piece = np.maximum(x - bound, 0)
            if upper is not None:
                piece = np.minimum(piece, upper - bound)
        pieces.append(piece)
    return pieces


def _bound_for(table: CompiledTable, x: np.ndarray, lowers: list[np.ndarray]) -> int:
    largest = max(abs_max(x), *(abs_max(np.asarray(b)) for b in lowers))
    return 2 * largest * max(1, sum(abs(r) for r in table.rate_numerators))


def earned(table: CompiledTable, x: np.ndarray, lowers: list[np.ndarray]) -> np.ndarray:
    """Exact earnings at cumulative basis x, as numerators over table.denominator."""
    bound = _bound_for(table, x, lowers)
    x = widen(x, bound)
    if bound >= SAFE_BOUND:
        lowers = [np.asarray(b).astype(object) for b in lowers]
    rates = table.rate_numerators
    if table.method == "graduated":
        total = 0
        for rate, piece in zip(rates, _slices(x, lowers), strict=True):
            total = total + piece * rate
        return np.asarray(total)
    rate_table = np.array(rates, dtype=object if bound >= SAFE_BOUND else np.int64)
    reached = rate_table[tier_index(x, lowers)]
    if table.method == "retroactive" or len(lowers) == 1:
        return reached * x
    base_end = lowers[1]
    return rates[0] * np.minimum(x, base_end) + reached * np.maximum(x - base_end, 0)


@dataclass
class Terms:
    """Up to a few `quantity × rate` terms per row whose sum is the row's exact earnings."""

    quantities: list[np.ndarray]
    rate_index: list[np.ndarray]


def terms(table: CompiledTable, before: np.ndarray, after: np.ndarray,
          lowers: list[np.ndarray]) -> Terms:
    """The terms that explain earned(after) - earned(before)."""
    tier_after = tier_index(after, lowers)
    if table.method == "graduated":
        slices_after = _slices(after, lowers)
        slices_before = _slices(before, lowers)
        return Terms(
            quantities=[a - b for a, b in zip(slices_after, slices_before, strict=True)],
            rate_index=[np.full(len(after), t, dtype=np.int64) for t in range(len(lowers))],
        )
    tier_before = tier_index(before, lowers)
    same = tier_before == tier_after
    if table.method == "retroactive" or len(lowers) == 1:
        if table.method != "retroactive":  # one tier: every method is a flat rate
            return Terms([after - before], [np.zeros(len(after), dtype=np.int64)])
        return Terms(
            quantities=[np.where(same, after - before, after), np.where(same, 0, -before)],
            rate_index=[tier_after, tier_before],
        )
    base_end = lowers[1]
    over_after = np.maximum(after - base_end, 0)
    over_before = np.maximum(before - base_end, 0)
    return Terms(
        quantities=[
            np.minimum(after, base_end) - np.minimum(before, base_end),
            np.where(same, over_after - over_before, over_after),
            np.where(same, 0, -over_before),
        ],
        rate_index=[np.zeros(len(after), dtype=np.int64), tier_after, tier_before],
    )


def render_terms(found: Terms, labels: tuple[str, ...], measure: str,
                 fallback_rate: np.ndarray) -> np.ndarray:
    """'a × r1 + b × r2 - c × r3', skipping zero terms ('0.00 × r' when every term is zero)."""
    n = len(fallback_rate)
    out = text.blank(n)
    seen = np.zeros(n, dtype=bool)
    label_array = np.array(labels, dtype=text.STR)
    for quantity, rate_index in zip(found.quantities, found.rate_index, strict=True):
        quantity = np.asarray(quantity)
        rows = np.flatnonzero(quantity != 0)
        if len(rows) == 0:
            continue
        q = quantity[rows].astype(np.int64)
        first = ~seen[rows]
        sign = np.where(first, np.where(q < 0, "-", ""), np.where(q < 0, " - ", " + "))
        piece = text.add(sign.astype(text.STR), text.quantity(np.abs(q), measure), " × ",
                         label_array[rate_index[rows]])
        out[rows] = text.add(out[rows], piece)
        seen[rows] = True
    empty = np.flatnonzero(~seen)
    if len(empty):
        zero = "0" if measure == "units" else "0.00"
        out[empty] = text.add(f"{zero} × ", label_array[fallback_rate[empty]])
    return out


def rate_label_of(value: Decimal, measure: str) -> str:
    return text.money_label(value) if measure == "units" else text.percent_label(value)
