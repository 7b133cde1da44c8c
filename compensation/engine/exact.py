"""Exact integer arithmetic for the engine: decimal scaling, half-up division, overflow guard.

Every money figure is an integer count of cents and every rate a Decimal turned into an integer
numerator over a power of ten, so products are exact. Arrays stay int64 while the largest
intermediate provably fits; beyond that they switch to Python integers (object arrays), which
are slower but never wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction

import numpy as np

SAFE_BOUND = 2**62  # headroom so 2 * value still fits in int64 inside half_up_div


def decimal_exponent(values: Iterable[Decimal]) -> int:
    """The smallest e ≥ 0 such that every value × 10**e is a whole number."""
    exponent = 0
    for value in values:
        normal = value.normalize()
        digits = -int(normal.as_tuple().exponent)  # finite: the exponent is an int
        exponent = max(exponent, digits)
    return exponent


def scaled(value: Decimal, exponent: int) -> int:
    """value × 10**exponent, which the caller guarantees is whole."""
    result = value.scaleb(exponent)
    if result != result.to_integral_value():
        raise ValueError(f"{value} has more than {exponent} decimals")
    return int(result)


def widen(values: np.ndarray, bound: int) -> np.ndarray:
    """`values` as Python integers when intermediates may reach `bound`, else as int64."""
    if bound >= SAFE_BOUND:
        return values.astype(object)
    return values


def abs_max(values: np.ndarray) -> int:
    if len(values) == 0:
        return 0
    return int(max(abs(int(values.max())), abs(int(values.min()))))


def half_up_div(num: np.ndarray, den: int | np.ndarray) -> np.ndarray:
    """num / den rounded to the nearest integer, halves away from zero (ROUND_HALF_UP); den > 0."""
    magnitude = (2 * abs(num) + den) // (2 * den)
    return np.where(num < 0, -magnitude, magnitude)



def ceil_div(num: np.ndarray, den: int | np.ndarray) -> np.ndarray:
    return -((-num) // den)


def to_int64(values: np.ndarray) -> np.ndarray:
    """Back to int64 once a result is known to fit (rounded cents always do)."""
    return np.asarray(values).astype(np.int64, copy=False)


def exact_fraction(value: object) -> Fraction:
    """An exact fraction from an int, Decimal, Fraction or a string such as "15/31" or "0.5".

    Floats are refused: 0.1 has no exact binary value, and money maths must not guess.
    """
    if isinstance(value, bool):
        raise TypeError("a yes/no value is not a number")
    if isinstance(value, int | Fraction):
        return Fraction(value)
    if isinstance(value, np.integer):
        return Fraction(int(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a finite number")
        return Fraction(value)
    if isinstance(value, str):
        text = value.strip()
        if "/" in text:
            return Fraction(text)
        decimal = Decimal(text)
        if not decimal.is_finite():
            raise ValueError(f"{value!r} is not a finite number")
        return Fraction(decimal)
    raise TypeError(f"{value!r} ({type(value).__name__}) is not an exact number; use an int, "
                    f"Decimal, Fraction or a string such as '15/31'")
