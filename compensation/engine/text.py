"""Vectorised rendering of explanation text: money, counts, percentages and labels.

A million lines each need their figures written out, so numbers are formatted a whole column at
a time on a byte matrix (three digits per table look-up) instead of one f-string per row; the
output matches Python's `f"{cents // 100:,}.{cents % 100:02d}"` exactly (tests hold it to that).
Columns of text are object arrays of Python strings, the form a DataFrame column takes anyway,
so joining pieces is one pass that builds each final string once.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import repeat

import numpy as np

from .exact import SAFE_BOUND, abs_max, half_up_div

STR = object
_NUMPY_TEXT = np.dtypes.StringDType()

# Each three-digit group is one 4-byte word ",ddd"; the cents are one word ".cc" + NUL, and
# numpy's bytes dtype drops trailing NULs, so a row of words reads as the finished number.
_GROUP_WORDS = np.frombuffer(
    b"".join(f",{i:03d}".encode() for i in range(1000)), dtype=np.uint32
)
_CENT_WORDS = np.frombuffer(
    b"".join(f".{i:02d}\0".encode() for i in range(100)), dtype=np.uint32
)
_POW1000 = np.array([1000**g for g in range(7)], dtype=np.uint64)


def _render(values: np.ndarray, with_cents: bool) -> np.ndarray:
    values = np.asarray(values, dtype=np.int64)
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=object)
    negative = values < 0
    magnitude = np.abs(values).astype(np.uint64)
    whole = magnitude // 100 if with_cents else magnitude
    n_groups = max(1, (len(str(int(whole.max()))) + 2) // 3)
    # Words are written row by row of a (word, line) array so every write is contiguous.
    words = np.empty((n_groups + with_cents, n), dtype=np.uint32)
    groups = np.ones(n, dtype=np.int64)
    remaining = whole
    for g in range(n_groups):
        words[n_groups - 1 - g] = _GROUP_WORDS[(remaining % 1000).astype(np.intp)]
        remaining = remaining // 1000
        if g < n_groups - 1:
            groups += remaining > 0
    if with_cents:
        words[n_groups] = _CENT_WORDS[(magnitude % 100).astype(np.intp)]
    lead = (whole // _POW1000[groups - 1]) % 1000
    lead_width = 1 + (lead >= 10) + (lead >= 100)
    start = 4 * (n_groups - groups) + 4 - lead_width
    width = 4 * words.shape[0]
    buf = np.ascontiguousarray(words.T).view(np.uint8).reshape(n, width)
    rows = np.flatnonzero(negative)
    buf[rows, start[rows] - 1] = ord("-")
    text = np.strings.slice(buf.view(f"S{width}").ravel(), start - negative, None)
    return text.astype(_NUMPY_TEXT).astype(object)


def money(values_cents: np.ndarray) -> np.ndarray:
    """Cents as "1,234.56" (a leading "-" when negative)."""
    return _render(values_cents, with_cents=True)


def count(values: np.ndarray) -> np.ndarray:
    """Whole numbers as "1,234"."""
    return _render(values, with_cents=False)


def quantity(values: np.ndarray, measure: str) -> np.ndarray:
    """A measure's basis: money for amount and margin, a plain count for units."""
    return count(values) if measure == "units" else money(values)


def percent(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator as a percentage with two decimals, half-up: display only."""
    num = np.asarray(numerator)
    if abs_max(num) * 10_000 >= SAFE_BOUND:
        num = num.astype(object)
    hundredths = half_up_div(num * 10_000, np.asarray(denominator))
    return add(money(hundredths.astype(np.int64)), "%")


def add(*parts: np.ndarray | str) -> np.ndarray:
    """Concatenate string columns and constants element-wise, building each string once."""
    columns = [p for p in parts if not isinstance(p, str)]
    if not columns:
        return np.asarray("".join(parts), dtype=object)  # type: ignore[arg-type]
    n = len(columns[0])
    pieces = [repeat(p, n) if isinstance(p, str) else p.tolist() for p in parts]
    out = np.empty(n, dtype=object)
    out[:] = ["".join(row) for row in zip(*pieces, strict=True)]
    return out


def choose(mask: np.ndarray, when_true: np.ndarray | str,
           otherwise: np.ndarray | str) -> np.ndarray:
    out = np.empty(len(mask), dtype=object)
    out[:] = when_true
    rows = np.flatnonzero(~np.asarray(mask, dtype=bool))
    out[rows] = otherwise if isinstance(otherwise, str) else np.asarray(otherwise)[rows]
    return out


def blank(n: int) -> np.ndarray:
    return np.full(n, "", dtype=object)



def percent_label(fraction: Decimal) -> str:
    """Decimal("0.125") as "12.5%": exact, no trailing zeros."""
    return f"{_plain(fraction * 100)}%"


def money_label(amount: Decimal) -> str:
    """A Decimal amount with thousands separators and at least two decimals."""
    if amount == amount.quantize(Decimal("0.01")):
        amount = amount.quantize(Decimal("0.01"))
    else:
        amount = amount.normalize()
    return f"{amount:,f}"



def _plain(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text
