"""The sales-plan step of `seed_demo`: a default ramp schedule, this fiscal year's plan (the
quota plan allocates it) and next year's, each with a segment mix and conservative and stretch
scenarios, all derived from the demo's own bookings so the numbers are believable."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from spm.org.calendar import fiscal_year_of

from .capacity import split_cents
from .models import SalesPlan
from .selectors import bookings_by_fiscal_year, bookings_by_segment, seller_tenures
from .services import ramp_schedule_save, sales_plan_create, scenario_save, segment_mix_set

if TYPE_CHECKING:
    from spm.demo.steps import DemoContext

EXPECTED_ATTAINMENT = Decimal("85")
GROWTH = {0: Decimal("1.20"), 1: Decimal("1.35")}  # this year's and next year's over last year's


def _round(amount: Decimal, step: int) -> Decimal:
    return (amount / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step


def build_sales_plans(ctx: DemoContext) -> None:
    """Plans for the current and the next fiscal year, grown from last year's bookings."""
    actor = ctx.users.get("admin")
    today = ctx.spec.as_of
    current = fiscal_year_of(today, ctx.spec.fiscal_year_start_month)
    ramp_schedule_save(name="Standard ramp", percent_by_month="0, 25, 50, 75, 100",
                       is_default=True, actor=actor)
    actuals = bookings_by_fiscal_year(fiscal_years=[current - 1, current])
    base = actuals[current - 1] or actuals[current] or Decimal("1000000")
    sellers = max(len(seller_tenures(fiscal_year=current, today=today)), 1)
    # A full quota that the average seller, at the expected attainment, would have booked.
    full_quota = _round(base / sellers / (EXPECTED_ATTAINMENT / 100), 10_000) or Decimal(10_000)
    mix = bookings_by_segment(fiscal_year=current - 1)
    segments = [s for s, v in mix.items() if v > 0] or ["smb", "mid_market", "enterprise"]
    shares = split_cents(100, [mix.get(s) or 1 for s in segments])
    for offset, growth in GROWTH.items():
        year = current + offset
        plan = sales_plan_create(
            fiscal_year=year,
            name=f"FY{year} growth plan",
            bookings_target=_round(base * growth, 100_000),
            full_quota=full_quota,
            expected_attainment_percent=EXPECTED_ATTAINMENT,
            max_hires_per_month=3,
            actor=actor,
        )
        segment_mix_set(plan=plan, shares={s: Decimal(p) for s, p in zip(
            segments, shares, strict=True)}, actor=actor)
        scenario_save(plan=plan, name="Conservative", order=1,
                      expected_attainment_percent=Decimal("75"), attrition_percent=Decimal("40"),
                      actor=actor)
        scenario_save(plan=plan, name="Stretch", order=2,
                      bookings_target=_round(plan.bookings_target * Decimal("1.15"), 100_000),
                      max_hires_per_month=5, actor=actor)
    ctx.counts["sales plans"] = SalesPlan.objects.count()
