"""Seasonality and ramp phasing: learn month weights from history and phase an annual quota into
months whose cents add up to exactly the annual amount. Pure Python; no Django.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal, localcontext

from planning.capacity import ONE, ZERO, ramp_at, split_cents

MONTHS = 12
#: Weights are percentages with two decimals, stored as basis points while they are computed.
BASIS_POINTS = 10_000


def flat_weights() -> tuple[Decimal, ...]:
    """Twelve equal percentages summing to exactly 100 (8.34 four times, then 8.33)."""
    return tuple(Decimal(bp) / 100 for bp in split_cents(BASIS_POINTS, [ONE] * MONTHS))


def learn_weights(history: Sequence[Sequence[Decimal]]) -> tuple[Decimal, ...]:
    """Month percentages from past fiscal years' bookings by fiscal month (12 per year).

    Each year with bookings contributes its month shares; the shares are averaged so a big year
    does not outweigh a small one, then rounded to percentages that add up to exactly 100.
    Without history the weights are flat.
    """
    shares = [ZERO] * MONTHS
    years = 0
    with localcontext() as ctx:
        ctx.prec = 40
        for year in history:
            if len(year) != MONTHS:
                raise ValueError("Each year of history needs 12 monthly totals.")
            total = sum((Decimal(v) for v in year), ZERO)
            if total <= 0:
                continue
            if any(Decimal(v) < 0 for v in year):
                raise ValueError("Monthly bookings cannot be negative.")
            shares = [s + Decimal(v) / total for s, v in zip(shares, year, strict=True)]
            years += 1
    if not years:
        return flat_weights()
    return tuple(Decimal(bp) / 100 for bp in split_cents(BASIS_POINTS, shares))


def employed_shares(
    *,
    month_starts: Sequence[datetime.date],
    hire_date: datetime.date | None,
    termination_date: datetime.date | None,
) -> tuple[Decimal, ...]:
    """The part of each month a person is employed (hire date inclusive, termination date
    exclusive, like every validity range here)."""
    shares = []
    for start in month_starts:
        end = _next_month(start)
        first = max(start, hire_date) if hire_date else start
        last = min(end, termination_date) if termination_date else end
        days = (last - first).days
        shares.append(Decimal(days) / Decimal((end - start).days) if days > 0 else ZERO)
    return tuple(shares)


def month_factors(
    *,
    month_starts: Sequence[datetime.date],
    hire_date: datetime.date | None,
    termination_date: datetime.date | None,
    ramp: Sequence[Decimal],
) -> tuple[Decimal, ...]:
    """How much of a full month's quota a person carries in each month (0 to 1).

    The part of the month they are employed times their ramp in that month of tenure, counted
    from the month of hire. Without a hire date a person is taken as fully ramped.
    """
    shares = employed_shares(month_starts=month_starts, hire_date=hire_date,
                             termination_date=termination_date)
    factors = []
    for start, share in zip(month_starts, shares, strict=True):
        tenure = (
            (start.year - hire_date.year) * 12 + start.month - hire_date.month
            if hire_date
            else len(ramp)
        )
        factors.append(share * ramp_at(ramp, tenure) if share else ZERO)
    return tuple(factors)


def capacity_factor(weights: Sequence[Decimal], factors: Sequence[Decimal]) -> Decimal:
    """The share of a full, fully ramped year a person carries, under the month weights."""
    total = sum((Decimal(w) for w in weights), ZERO)
    if total == 0:
        return ZERO
    carried = sum((Decimal(w) * f for w, f in zip(weights, factors, strict=True)), ZERO)
    return (carried / total).quantize(Decimal("0.000001"))


def phase(
    annual_cents: int,
    weights: Sequence[Decimal],
    factors: Sequence[Decimal] | None = None,
    employed: Sequence[Decimal] | None = None,
) -> list[int]:
    """An annual quota in cents as monthly cents, by season weights times per-month factors.

    The months add up to exactly the annual amount. Where the factors leave no month to carry it
    (say a manual quota for someone whose ramp is still at zero), the months the person is
    `employed` carry it by season alone; with no such month it cannot be phased at all.
    """
    if len(weights) != MONTHS:
        raise ValueError("Seasonality needs 12 month weights.")
    factors = tuple(factors) if factors is not None else (ONE,) * MONTHS
    combined = [Decimal(w) * f for w, f in zip(weights, factors, strict=True)]
    if annual_cents and not any(combined):
        combined = _fallback(weights, employed if employed is not None else factors)
    return split_cents(annual_cents, combined)


def _fallback(weights: Sequence[Decimal], employed: Sequence[Decimal]) -> list[Decimal]:
    if not any(e > 0 for e in employed):
        raise ValueError("The person is not employed in any month of the year.")
    by_season = [Decimal(w) if e > 0 else ZERO for w, e in zip(weights, employed, strict=True)]
    return by_season if any(by_season) else [ONE if e > 0 else ZERO for e in employed]


def rephase_remaining(
    annual_cents: int,
    kept_cents: Sequence[int | None],
    weights: Sequence[Decimal],
    factors: Sequence[Decimal] | None = None,
    employed: Sequence[Decimal] | None = None,
) -> list[int]:
    """A changed annual quota, keeping the months already closed (`kept_cents` not None).

    The closed months keep what they carried; the rest of the new annual amount is phased over
    the open months. If the closed months already carry more than the new amount, or the person
    is employed in none of the open months, the open months get nothing and the year ends away
    from the annual amount; the caller reports that.
    """
    factors = tuple(factors) if factors is not None else (ONE,) * MONTHS
    kept_total = sum(k for k in kept_cents if k is not None)
    remaining = max(annual_cents - kept_total, 0)
    open_months = [i for i, k in enumerate(kept_cents) if k is None]
    if not open_months:
        return [int(k or 0) for k in kept_cents]
    open_weights = [Decimal(weights[i]) for i in open_months]
    open_factors = [factors[i] for i in open_months]
    combined = [w * f for w, f in zip(open_weights, open_factors, strict=True)]
    if remaining and not any(combined):
        whole_year = tuple(employed) if employed is not None else factors
        if not any(e > 0 for e in whole_year):
            raise ValueError("The person is not employed in any month of the year.")
        open_employed = [whole_year[i] for i in open_months]
        if not any(e > 0 for e in open_employed):
            # They have left: the open months carry nothing and the caller reports the rest.
            return [int(k) if k is not None else 0 for k in kept_cents]
        combined = _fallback(open_weights, open_employed)
    parts = iter(split_cents(remaining, combined))
    return [int(k) if k is not None else next(parts) for k in kept_cents]


def _next_month(day: datetime.date) -> datetime.date:
    return datetime.date(day.year + day.month // 12, day.month % 12 + 1, 1)
