"""Writes for sales planning: plans, their segment mix and scenarios, ramp schedules. Each is
atomic and records who made the change in the model's history."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from spm.crm.models import Segment
from spm.tenancy.actors import acting_user
from spm.tenancy.history import record_author

from .capacity import ZERO
from .models import RampSchedule, SalesPlan, Scenario, SegmentTarget


def _save(obj: Any, actor: Any) -> None:
    if acting_user(actor) is not None:
        record_author(obj, actor)
    obj.full_clean()
    obj.save()


@transaction.atomic
def sales_plan_create(
    *,
    fiscal_year: int,
    name: str,
    bookings_target: Decimal,
    full_quota: Decimal,
    expected_attainment_percent: Decimal = Decimal("85"),
    attrition_percent: Decimal | None = None,
    ramp_schedule: RampSchedule | None = None,
    max_hires_per_month: int | None = None,
    actor: Any = None,
) -> SalesPlan:
    if SalesPlan.objects.filter(fiscal_year=fiscal_year).exists():
        raise ValidationError({"fiscal_year": f"FY{fiscal_year} already has a sales plan."})
    plan = SalesPlan(
        fiscal_year=fiscal_year, name=name, bookings_target=bookings_target,
        full_quota=full_quota, expected_attainment_percent=expected_attainment_percent,
        attrition_percent=attrition_percent, ramp_schedule=ramp_schedule,
        max_hires_per_month=max_hires_per_month,
    )
    _save(plan, actor)
    return plan


def validate_segment_mix(shares: Mapping[str, Decimal]) -> None:
    unknown = set(shares) - set(Segment.values)
    if unknown:
        raise ValidationError(f"Unknown segment(s): {', '.join(sorted(unknown))}.")
    negative = [s for s, v in shares.items() if v < 0]
    if negative:
        raise ValidationError(f"A segment's share cannot be negative ({', '.join(negative)}).")
    total = sum(shares.values(), ZERO)
    if shares and total != 100:
        raise ValidationError(
            f"The segment shares add up to {total}%; they must add up to exactly 100%."
        )


@transaction.atomic
def segment_mix_set(
    *, plan: SalesPlan, shares: Mapping[str, Decimal], actor: Any = None
) -> list[SegmentTarget]:
    """Replace the plan's segment mix; shares are percentages that add up to 100."""
    validate_segment_mix(shares)
    existing = {s.segment: s for s in SegmentTarget.objects.filter(plan=plan)}
    for segment, row in existing.items():
        if segment not in shares:
            if acting_user(actor) is not None:
                record_author(row, actor)
            row.delete()
    rows = []
    for segment, share in shares.items():
        row = existing.get(segment) or SegmentTarget(plan=plan, segment=segment)
        if row.pk is None or row.share_percent != share:
            row.share_percent = share
            _save(row, actor)
        rows.append(row)
    return rows


@transaction.atomic
def scenario_save(*, plan: SalesPlan, name: str, actor: Any = None, **overrides: Any) -> Scenario:
    """Create or change the plan's scenario `name`; fields left out inherit from the plan."""
    scenario = Scenario.objects.filter(plan=plan, name=name).first() or Scenario(
        plan=plan, name=name
    )
    allowed = {"bookings_target", "full_quota", "expected_attainment_percent",
               "attrition_percent", "ramp_schedule", "max_hires_per_month", "order"}
    unknown = set(overrides) - allowed
    if unknown:
        raise ValueError(f"Unknown scenario fields: {sorted(unknown)}")
    for field, value in overrides.items():
        setattr(scenario, field, value)
    _save(scenario, actor)
    return scenario


@transaction.atomic
def ramp_schedule_save(
    *, name: str, percent_by_month: str, is_default: bool = False, actor: Any = None
) -> RampSchedule:
    """Create or change a ramp schedule; making one the default unsets the previous default."""
    schedule = RampSchedule.objects.filter(name=name).first() or RampSchedule(name=name)
    schedule.percent_by_month = percent_by_month
    schedule.is_default = is_default
    if is_default:
        for other in RampSchedule.objects.filter(is_default=True).exclude(pk=schedule.pk):
            other.is_default = False
            _save(other, actor)
    _save(schedule, actor)
    return schedule
