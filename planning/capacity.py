"""Capacity planning maths: how many sellers a bookings target needs, given ramp and attrition,
and a month-by-month hiring plan that closes the gap. Pure Python on Decimal; no Django.

Also the small exact-money helpers the quota allocation shares (splitting cents by weights,
reading a list of percentages), so every split in planning and quotas rounds the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext

MONTHS = 12
#: Industry average of annual seller attrition, used when history cannot tell.
DEFAULT_ATTRITION = Decimal("0.35")
#: Productivity by month of tenure: nothing in the first month, full from the fifth.
DEFAULT_RAMP: tuple[Decimal, ...] = tuple(Decimal(p) for p in ("0", "0.25", "0.5", "0.75", "1"))
CENT = Decimal("0.01")
ZERO = Decimal("0")
ONE = Decimal("1")


# -- exact money helpers -------------------------------------------------------------------------


def to_cents(amount: Decimal) -> int:
    """Money to integer cents, half-up (the rounding rule of DESIGN.md)."""
    return int(Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP) * 100)


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def split_cents(total_cents: int, weights: Sequence[Decimal | int]) -> list[int]:
    """Split `total_cents` in proportion to `weights`; the parts sum to exactly the total.

    Largest remainder: each part gets the floor of its exact share, and the cents left over go
    one each to the largest fractional remainders, earlier positions first on ties, so the same
    input always gives the same split. All-zero weights split equally.
    """
    if total_cents < 0:
        raise ValueError("Cannot split a negative amount.")
    if not weights:
        if total_cents:
            raise ValueError("Cannot split an amount among nobody.")
        return []
    values = [Decimal(w) for w in weights]
    if any(w < 0 for w in values):
        raise ValueError("Weights cannot be negative.")
    weight_sum = sum(values, ZERO)
    if weight_sum == 0:
        values = [ONE] * len(values)
        weight_sum = Decimal(len(values))
    with localcontext() as ctx:
        ctx.prec = 50
        exact = [Decimal(total_cents) * w / weight_sum for w in values]
        floors = [int(e.to_integral_value(rounding=ROUND_FLOOR)) for e in exact]
        remainders = [e - f for e, f in zip(exact, floors, strict=True)]
    left = total_cents - sum(floors)
    order = sorted(range(len(values)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        floors[i] += 1
    return floors


def parse_percentages(
    text: str, *, count: int | None = None, total: Decimal | None = None
) -> tuple[Decimal, ...]:
    """Read "0, 25, 50, 75, 100" into Decimal percentages, with messages a user can act on."""
    parts = [p.strip().rstrip("%").strip() for p in str(text).replace(";", ",").split(",")]
    parts = [p for p in parts if p]
    if not parts:
        raise ValueError("Enter at least one percentage, e.g. 0, 25, 50, 75, 100.")
    values = []
    for position, part in enumerate(parts, start=1):
        try:
            value = Decimal(part)
        except ArithmeticError:
            raise ValueError(f"Entry {position} ({part!r}) is not a number.") from None
        if not value.is_finite() or value < 0 or value > 100:
            raise ValueError(f"Entry {position} ({part}) must be between 0 and 100.")
        values.append(value)
    if count is not None and len(values) != count:
        raise ValueError(f"Enter exactly {count} percentages; got {len(values)}.")
    if total is not None and sum(values, ZERO) != total:
        raise ValueError(f"The percentages must add up to {total}; they add up to "
                         f"{sum(values, ZERO)}.")
    return tuple(values)


def format_percentages(values: Sequence[Decimal]) -> str:
    return ", ".join(f"{Decimal(v).normalize():f}" for v in values)


# -- ramp and attrition --------------------------------------------------------------------------


def ramp_at(ramp: Sequence[Decimal], tenure_month: int) -> Decimal:
    """Productivity (0-1) in the `tenure_month`-th month of tenure (0 = the month of hire).

    After the schedule ends a seller is fully productive.
    """
    if tenure_month < 0:
        return ZERO
    return Decimal(ramp[tenure_month]) if tenure_month < len(ramp) else ONE


def monthly_survival(annual_attrition: Decimal) -> Decimal:
    """The chance a seller employed at the start of a month is still there a month later."""
    if not ZERO <= annual_attrition < ONE:
        raise ValueError("Annual attrition must be at least 0% and below 100%.")
    with localcontext() as ctx:
        ctx.prec = 28
        return (ONE - Decimal(annual_attrition)) ** (ONE / MONTHS)


#: Below this average headcount a year of leavers says too little to plan with.
MIN_HEADCOUNT_TO_LEARN = 5


def learned_attrition(
    *, terminations: int, average_headcount: Decimal, default: Decimal = DEFAULT_ATTRITION
) -> Decimal:
    """Annual attrition from history (terminations ÷ average headcount), capped below 100%.

    With fewer than MIN_HEADCOUNT_TO_LEARN sellers on average, the default applies.
    """
    if average_headcount < MIN_HEADCOUNT_TO_LEARN:
        return default
    rate = (Decimal(terminations) / Decimal(average_headcount)).quantize(Decimal("0.0001"))
    return min(rate, Decimal("0.95"))


# -- the plan ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CapacityInputs:
    """One scenario's assumptions. Ratios (attainment, attrition, ramp) are fractions of 1."""

    target: Decimal
    full_quota: Decimal  # annual quota of a fully ramped seller
    expected_attainment: Decimal
    annual_attrition: Decimal = DEFAULT_ATTRITION
    ramp: tuple[Decimal, ...] = DEFAULT_RAMP
    #: Completed months of tenure of each current seller at the start of the year.
    tenure_months: tuple[int, ...] = ()
    max_hires_per_month: int | None = None

    def __post_init__(self) -> None:
        if self.target < 0:
            raise ValueError("The target cannot be negative.")
        if self.full_quota <= 0:
            raise ValueError("The full quota must be above zero.")
        if self.expected_attainment <= 0:
            raise ValueError("Expected attainment must be above zero.")
        if any(not ZERO <= Decimal(r) <= ONE for r in self.ramp):
            raise ValueError("Ramp steps must be between 0% and 100%.")
        if any(t < 0 for t in self.tenure_months):
            raise ValueError("Tenure cannot be negative.")
        if self.max_hires_per_month is not None and self.max_hires_per_month < 0:
            raise ValueError("The hiring limit cannot be negative.")
        monthly_survival(self.annual_attrition)  # validates the range

    @property
    def productive_rep_year(self) -> Decimal:
        """What one fully ramped seller books in a year: full quota x expected attainment."""
        return self.full_quota * self.expected_attainment


@dataclass(frozen=True)
class MonthPlan:
    month: int  # 1-based month of the fiscal year
    hires: int
    headcount: Decimal  # expected sellers on board during the month (after its hires)
    leavers: Decimal  # expected to leave during the month
    productive_heads: Decimal  # headcount weighted by ramp: fully ramped equivalents
    capacity: Decimal  # expected bookings of the month


@dataclass(frozen=True)
class CapacityPlan:
    inputs: CapacityInputs
    reps_needed_exact: Decimal  # target ÷ (full quota x expected attainment)
    reps_needed: int  # the same, rounded up to whole sellers
    current_heads: int
    existing_capacity: Decimal  # what today's sellers book in the year, after ramp and attrition
    gap: Decimal  # target - existing capacity, when short
    gap_heads: int  # the gap in fully ramped sellers
    capacity: Decimal  # with the hiring plan
    residual_gap: Decimal  # what the hiring plan still leaves uncovered
    ending_headcount: Decimal
    months: tuple[MonthPlan, ...] = field(default_factory=tuple)

    @property
    def hires(self) -> tuple[int, ...]:
        return tuple(m.hires for m in self.months)

    @property
    def total_hires(self) -> int:
        return sum(self.hires)

    @property
    def surplus(self) -> Decimal:
        return max(self.capacity - self.inputs.target, ZERO)


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_CEILING))


def plan_capacity(inputs: CapacityInputs) -> CapacityPlan:
    """Capacity of today's sellers and the earliest hiring plan that reaches the target.

    Units: a "head-month" is one fully ramped seller for one month, worth full quota x
    attainment ÷ 12. A seller in tenure month t delivers ramp(t) head-months, weighted by the
    chance of still being there (monthly survival to the power of months since the start or
    hire). Hires are made as early as the hiring limit allows, each month hiring just enough
    whole sellers to cover what is still missing; a hire's first month counts at ramp(0).
    """
    with localcontext() as ctx:
        ctx.prec = 40
        ctx.rounding = ROUND_HALF_UP
        survival = monthly_survival(inputs.annual_attrition)
        survive = [survival**m for m in range(MONTHS)]
        per_head_month = inputs.productive_rep_year / MONTHS
        need = inputs.target / per_head_month  # in head-months

        by_tenure = Counter(inputs.tenure_months)
        # Productive head-months and heads, by month, of the sellers on board at the start.
        productive = [
            sum((n * ramp_at(inputs.ramp, t + m) * survive[m] for t, n in by_tenure.items()), ZERO)
            for m in range(MONTHS)
        ]
        heads = [len(inputs.tenure_months) * survive[m] for m in range(MONTHS)]
        existing = sum(productive, ZERO)

        # What one seller hired at the start of month h delivers by year end, in head-months.
        hire_value = [
            sum((ramp_at(inputs.ramp, m - h) * survive[m - h] for m in range(h, MONTHS)), ZERO)
            for h in range(MONTHS)
        ]
        hires = [0] * MONTHS
        covered = existing
        for h in range(MONTHS):
            if covered >= need or hire_value[h] == 0:
                continue
            wanted = _ceil((need - covered) / hire_value[h])
            if inputs.max_hires_per_month is not None:
                wanted = min(wanted, inputs.max_hires_per_month)
            if wanted <= 0:
                continue
            hires[h] = wanted
            covered += wanted * hire_value[h]
            for m in range(h, MONTHS):
                productive[m] += wanted * ramp_at(inputs.ramp, m - h) * survive[m - h]
                heads[m] += wanted * survive[m - h]

        existing_capacity = from_cents(to_cents(existing * per_head_month))
        total = sum(productive, ZERO)
        capacity_cents = to_cents(total * per_head_month)
        month_cents = split_cents(capacity_cents, productive)
        months = tuple(
            MonthPlan(
                month=m + 1,
                hires=hires[m],
                headcount=heads[m].quantize(Decimal("0.1")),
                leavers=(heads[m] * (ONE - survival)).quantize(Decimal("0.1")),
                productive_heads=productive[m].quantize(Decimal("0.1")),
                capacity=from_cents(month_cents[m]),
            )
            for m in range(MONTHS)
        )
        reps_exact = inputs.target / inputs.productive_rep_year
        gap = max(inputs.target - existing_capacity, ZERO)
        capacity = from_cents(capacity_cents)
        return CapacityPlan(
            inputs=inputs,
            reps_needed_exact=reps_exact.quantize(Decimal("0.01")),
            reps_needed=_ceil(reps_exact),
            current_heads=len(inputs.tenure_months),
            existing_capacity=existing_capacity,
            gap=gap,
            gap_heads=_ceil(gap / inputs.productive_rep_year),
            capacity=capacity,
            residual_gap=max(inputs.target - capacity, ZERO),
            ending_headcount=(heads[-1] * survival).quantize(Decimal("0.1")),
            months=months,
        )
