"""Reads for sales planning: bookings history by year, month and segment, seller attrition and
tenure, and each plan's capacity scenarios side by side. Each in a constant number of queries."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth

from spm.crm.models import Deal, DealStatus, Segment
from spm.org.calendar import add_months, fiscal_year_start
from spm.org.models import Person, SellerRole
from spm.tenancy.context import require_active_tenant

from .capacity import (
    DEFAULT_ATTRITION,
    DEFAULT_RAMP,
    MIN_HEADCOUNT_TO_LEARN,
    ZERO,
    CapacityInputs,
    CapacityPlan,
    learned_attrition,
    plan_capacity,
)
from .models import RampSchedule, SalesPlan, Scenario

MONEY_SUM: DecimalField[Decimal, Decimal] = DecimalField(max_digits=18, decimal_places=2)


def fiscal_year_bounds(fiscal_year: int) -> tuple[datetime.date, datetime.date]:
    """First day and the day after the last day of the active tenant's fiscal year."""
    start = fiscal_year_start(fiscal_year, require_active_tenant().fiscal_year_start_month)
    return start, add_months(start, 12)


def won_deals() -> QuerySet[Deal]:
    return Deal.objects.filter(status=DealStatus.WON)


def bookings_by_fiscal_year(*, fiscal_years: Iterable[int]) -> dict[int, Decimal]:
    """Won deals' amount by fiscal year of their close date (one query)."""
    years = sorted(set(fiscal_years))
    if not years:
        return {}
    bounds = {year: fiscal_year_bounds(year) for year in years}
    sums = won_deals().filter(
        close_date__gte=bounds[years[0]][0], close_date__lt=bounds[years[-1]][1]
    ).aggregate(**{
        f"fy{year}": Coalesce(
            Sum("amount", filter=Q(close_date__gte=start, close_date__lt=end)),
            Value(ZERO), output_field=MONEY_SUM,
        )
        for year, (start, end) in bounds.items()
    })
    return {year: sums[f"fy{year}"] for year in years}


def bookings_by_segment(*, fiscal_year: int) -> dict[str, Decimal]:
    """Won deals' amount by the account's segment in a fiscal year (one query)."""
    start, end = fiscal_year_bounds(fiscal_year)
    rows = (
        won_deals().filter(close_date__gte=start, close_date__lt=end)
        .order_by().values("account__segment").annotate(total=Sum("amount"))
    )
    found = {row["account__segment"]: row["total"] for row in rows}
    return {segment: found.get(segment, ZERO) for segment in Segment.values}


def monthly_bookings(*, fiscal_years: Iterable[int]) -> dict[int, list[Decimal]]:
    """Won deals' amount per fiscal month (12 values, first fiscal month first), per year."""
    years = sorted(set(fiscal_years))
    if not years:
        return {}
    first, _ = fiscal_year_bounds(years[0])
    _, last = fiscal_year_bounds(years[-1])
    rows = (
        won_deals().filter(close_date__gte=first, close_date__lt=last)
        .annotate(month=TruncMonth("close_date")).order_by()
        .values("month").annotate(total=Sum("amount"))
    )
    by_month = {(row["month"].year, row["month"].month): row["total"] for row in rows}
    result = {}
    for year in years:
        start, _ = fiscal_year_bounds(year)
        months = [add_months(start, i) for i in range(12)]
        result[year] = [by_month.get((m.year, m.month), ZERO) for m in months]
    return result


def sellers() -> QuerySet[Person]:
    """People who carry a quota: account executives."""
    return Person.objects.filter(role=SellerRole.REP)


@dataclass(frozen=True)
class AttritionHistory:
    terminations: int
    average_headcount: Decimal
    since: datetime.date
    until: datetime.date

    @property
    def rate(self) -> Decimal | None:
        """The learned rate, or None when there were too few sellers to learn from."""
        if self.average_headcount < MIN_HEADCOUNT_TO_LEARN:
            return None
        return learned_attrition(terminations=self.terminations,
                                 average_headcount=self.average_headcount)


def attrition_history(*, until: datetime.date) -> AttritionHistory:
    """Sellers who left in the 12 months before `until`, over the average headcount of the
    month starts in that window (one query)."""
    since = add_months(until.replace(day=1), -12)
    rows = list(
        sellers().filter(Q(termination_date__isnull=True) | Q(termination_date__gt=since))
        .filter(hire_date__lt=until)
        .values_list("hire_date", "termination_date")
    )
    month_starts = [add_months(since, i) for i in range(12)]
    heads = [
        sum(1 for hired, left in rows
            if (hired is None or hired <= day) and (left is None or left > day))
        for day in month_starts
    ]
    leavers = sum(1 for _, left in rows if left is not None and since <= left < until)
    average = (Decimal(sum(heads)) / 12).quantize(Decimal("0.01"))
    return AttritionHistory(terminations=leavers, average_headcount=average, since=since,
                            until=until)


def seller_tenures(*, fiscal_year: int, today: datetime.date) -> tuple[int, ...]:
    """Months of tenure, at the start of the year, of each seller on board then.

    For a year still ahead, today's sellers are projected to its start (no leavers assumed
    before it; attrition starts counting from the first month).
    """
    start, _ = fiscal_year_bounds(fiscal_year)
    on = min(today, start)
    rows = (
        sellers().filter(Q(hire_date__isnull=True) | Q(hire_date__lte=on))
        .filter(Q(termination_date__isnull=True) | Q(termination_date__gt=on))
        .values_list("hire_date", flat=True)
    )
    tenures = []
    for hired in rows:
        if hired is None:
            tenures.append(120)  # unknown hire date: long since ramped
        else:
            tenures.append(max((start.year - hired.year) * 12 + start.month - hired.month, 0))
    return tuple(sorted(tenures))


def default_ramp_schedule() -> RampSchedule | None:
    return RampSchedule.objects.filter(is_default=True).first()


def ramp_ratios(schedule: RampSchedule | None) -> tuple[Decimal, ...]:
    """A schedule's steps; without one, the tenant's default; without that, 0/25/50/75/100."""
    if schedule is None:
        schedule = default_ramp_schedule()
    return schedule.ratios if schedule is not None else DEFAULT_RAMP


# -- the plan page -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioResult:
    name: str
    result: CapacityPlan
    attrition_source: str  # "set", "learned" or "default"
    scenario: Scenario | None = None


@dataclass(frozen=True)
class SegmentRow:
    segment: str
    label: str
    share_percent: Decimal | None  # planned
    target: Decimal | None
    last_year: Decimal
    last_year_percent: Decimal | None


@dataclass(frozen=True)
class PlanOverview:
    plan: SalesPlan
    last_year: int
    last_year_actual: Decimal
    growth_percent: Decimal | None
    segments: list[SegmentRow]
    segment_share_total: Decimal
    attrition: AttritionHistory
    scenarios: list[ScenarioResult]


def _percent(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    return (part / whole * 100).quantize(Decimal("0.1"))


def plan_overview(*, plan: SalesPlan, today: datetime.date) -> PlanOverview:
    """Target against last year's actuals, segment mix, and the capacity of every scenario."""
    last_year = plan.fiscal_year - 1
    actual = bookings_by_fiscal_year(fiscal_years=[last_year])[last_year]
    growth = None if not actual else ((plan.bookings_target / actual - 1) * 100).quantize(
        Decimal("0.1"))
    by_segment = bookings_by_segment(fiscal_year=last_year)
    planned = {s.segment: s.share_percent for s in plan.segments.all()}
    segments = [
        SegmentRow(
            segment=value, label=label, share_percent=planned.get(value),
            target=(plan.bookings_target * planned[value] / 100).quantize(Decimal("0.01"))
            if value in planned else None,
            last_year=by_segment[value],
            last_year_percent=_percent(by_segment[value], actual),
        )
        for value, label in Segment.choices
    ]
    start, _ = fiscal_year_bounds(plan.fiscal_year)
    attrition = attrition_history(until=min(today, start))
    tenures = seller_tenures(fiscal_year=plan.fiscal_year, today=today)
    default_ramp = ramp_ratios(None)
    schedules = {s.pk: s for s in RampSchedule.objects.all()}

    def run(name: str, source: SalesPlan | Scenario, scenario: Scenario | None) -> ScenarioResult:
        def pick(field: str):
            value = getattr(source, field)
            return getattr(plan, field) if value is None else value

        attrition_percent = pick("attrition_percent")
        if attrition_percent is not None:
            rate, origin = attrition_percent / 100, "set"
        elif attrition.rate is not None:
            rate, origin = attrition.rate, "learned"
        else:
            rate, origin = DEFAULT_ATTRITION, "default"
        schedule_id = source.ramp_schedule_id or plan.ramp_schedule_id
        ramp = schedules[schedule_id].ratios if schedule_id in schedules else default_ramp
        inputs = CapacityInputs(
            target=pick("bookings_target"),
            full_quota=pick("full_quota"),
            expected_attainment=pick("expected_attainment_percent") / 100,
            annual_attrition=rate,
            ramp=ramp,
            tenure_months=tenures,
            max_hires_per_month=pick("max_hires_per_month"),
        )
        return ScenarioResult(name=name, result=plan_capacity(inputs),
                              attrition_source=origin, scenario=scenario)

    scenarios = [run("Plan", plan, None)]
    scenarios += [run(s.name, s, s) for s in plan.scenarios.all()]
    return PlanOverview(
        plan=plan,
        last_year=last_year,
        last_year_actual=actual,
        growth_percent=growth,
        segments=segments,
        segment_share_total=sum(planned.values(), ZERO),
        attrition=attrition,
        scenarios=scenarios,
    )


def sales_plans() -> QuerySet[SalesPlan]:
    return SalesPlan.objects.order_by("-fiscal_year")


def sales_plan_by_pk(pk: int) -> SalesPlan | None:
    """One plan with its ramp schedule, or None when it is missing (or another tenant's)."""
    return SalesPlan.objects.filter(pk=pk).select_related("ramp_schedule").first()
