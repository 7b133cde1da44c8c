"""Rate tables evaluated on integer arrays: tier reached, exact earnings, and explanation terms.

Earnings are integer numerators over 10**exponent (the rates' common decimal scale), so
`earned(x)` is exact for any cumulative basis `x`. Tier lower bounds are per row: fixed amounts,
or attainment bounds turned into basis units by rounding quota × bound UP to a whole unit, which
is the exact "attainment ≥ bound" test for whole-unit bases. Below zero the first tier's rate
applies, so a window whose reversals outweigh its sales earns a negative amount.
"""

from __future__ import annotations

from dataclasses import dataclass

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
        total: np.ndarray | int = 0
        for rate, piece in zip(rates, _slices(x, lowers), strict=True):
            total = total + piece * rate
        return np.asarray(total)
    rate_table = np.array(rates, dtype=object if bound >= SAFE_BOUND else np.int64)
    reached = rate_table[tier_index(x, lowers)]
    if table.method == "retroactive" or len(lowers) == 1:
        return reached * x
    base_end = lowers[1]
    return rates[0] * np.minimum(x, base_end) + reached * np.maximum(x - base_end, 0)


def evaluate(table: CompiledTable, before: np.ndarray, after: np.ndarray,
             lowers: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, Terms, np.ndarray]:
    """earned(before), earned(after), the terms between them, and the tier `after` reaches.

    A graduated table's slices serve both the earnings and the terms, so they are cut once.
    """
    tier_after = tier_index(after, lowers)
    if table.method != "graduated":
        return (earned(table, before, lowers), earned(table, after, lowers),
                terms(table, before, after, lowers), tier_after)
    bound = max(_bound_for(table, after, lowers), _bound_for(table, before, lowers))
    if bound >= SAFE_BOUND:
        before, after = before.astype(object), after.astype(object)
        lowers = [np.asarray(b).astype(object) for b in lowers]
    slices_after = _slices(after, lowers)
    slices_before = _slices(before, lowers)
    earned_after: np.ndarray | int = 0
    earned_before: np.ndarray | int = 0
    for rate, piece_after, piece_before in zip(table.rate_numerators, slices_after,
                                               slices_before, strict=True):
        earned_after = earned_after + piece_after * rate
        earned_before = earned_before + piece_before * rate
    found = Terms(
        quantities=[a - b for a, b in zip(slices_after, slices_before, strict=True)],
        rate_index=[np.full(len(after), t, dtype=np.int64) for t in range(len(lowers))],
    )
    return np.asarray(earned_before), np.asarray(earned_after), found, tier_after


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
                 fallback_rate: np.ndarray, prefix: str = "",
                 result: np.ndarray | None = None) -> np.ndarray:
    """'prefix a × r1 + b × r2 - c × r3 = result', skipping zero terms ('0.00 × r' when all are).

    The prefix and the result text are joined in the same pass, so each line's string is
    built once.
    """
    n = len(fallback_rate)
    label_array = np.array(labels, dtype=object)
    quantities = [np.asarray(q) for q in found.quantities]
    nonzero = [q != 0 for q in quantities]
    terms_per_row = np.sum(nonzero, axis=0) if nonzero else np.zeros(n, dtype=np.int64)
    out = np.empty(n, dtype=object)
    # Most lines have one term: format its quantity once, with its own sign.
    rows = np.flatnonzero(terms_per_row <= 1)
    if len(rows):
        quantity = np.zeros(len(rows), dtype=np.int64)
        rate = fallback_rate[rows]
        for q, rate_index, present in zip(quantities, found.rate_index, nonzero, strict=True):
            chosen = present[rows]
            quantity = np.where(chosen, q[rows], quantity)
            rate = np.where(chosen, rate_index[rows], rate)
        tail = ("" if result is None else " = ", "" if result is None else result[rows])
        out[rows] = text.add(prefix, text.quantity(quantity.astype(np.int64), measure), " × ",
                             label_array[rate], *tail)
    rows = np.flatnonzero(terms_per_row > 1)
    if len(rows):
        tail = ("" if result is None else " = ", "" if result is None else result[rows])
        out[rows] = text.add(prefix, _several_terms(quantities, found.rate_index, rows,
                                                    label_array, measure), *tail)
    return out


def _several_terms(quantities: list[np.ndarray], rate_index: list[np.ndarray],
                   rows: np.ndarray, label_array: np.ndarray, measure: str) -> np.ndarray:
    """The first nonzero term keeps its sign; the others join with ' + ' or ' - '."""
    out = text.blank(len(rows))
    seen = np.zeros(len(rows), dtype=bool)
    for quantity, rates in zip(quantities, rate_index, strict=True):
        q_all = quantity[rows]
        mine = np.flatnonzero(q_all != 0)
        if len(mine) == 0:
            continue
        q = q_all[mine].astype(np.int64)
        first = ~seen[mine]
        sign = np.where(first, np.where(q < 0, "-", ""), np.where(q < 0, " - ", " + "))
        out[mine] = text.add(out[mine], sign.astype(object), text.quantity(np.abs(q), measure),
                             " × ", label_array[rates[rows][mine]])
        seen[mine] = True
    return out
