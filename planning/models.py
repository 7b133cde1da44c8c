"""Sales plans: a fiscal year's bookings target with its segment mix, the capacity assumptions
(ramp schedule, attainment, attrition) and scenarios compared side by side."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from spm.crm.models import Segment
from spm.tenancy.history import TenantHistoricalRecords
from spm.tenancy.models import TenantModel

from .capacity import DEFAULT_RAMP, format_percentages, parse_percentages

MONEY = {"max_digits": 14, "decimal_places": 2}
PERCENT = {"max_digits": 5, "decimal_places": 2}
DEFAULT_RAMP_TEXT = format_percentages([r * 100 for r in DEFAULT_RAMP])


def validate_ramp_text(value: str) -> None:
    try:
        parse_percentages(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


class RampSchedule(TenantModel):
    """How productive a new seller is by month of tenure, e.g. 0 / 25 / 50 / 75 / 100%.

    The month of hire is the first month; after the last step a seller is fully productive.
    Capacity plans use it for hires, and quota plans phase new hires' quotas with it.
    """

    name = models.CharField(max_length=100)
    percent_by_month = models.CharField(
        max_length=300,
        default=DEFAULT_RAMP_TEXT,
        validators=[validate_ramp_text],
        help_text="Percent of full productivity in month 1, 2, 3, ... of tenure, comma "
        "separated, e.g. 0, 25, 50, 75, 100.",
    )
    is_default = models.BooleanField(
        default=False, help_text="Used by plans that do not name a schedule."
    )

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "name"], name="ramp_schedule_unique_name",
                violation_error_message="A ramp schedule with this name exists already.",
            ),
            models.UniqueConstraint(
                fields=["tenant"], condition=Q(is_default=True), name="ramp_schedule_one_default",
                violation_error_message="Another ramp schedule is the default already; untick "
                "it there first.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.percent_by_month})"

    @property
    def ratios(self) -> tuple[Decimal, ...]:
        """The steps as fractions of 1; a schedule stored broken counts as no ramp at all."""
        try:
            return tuple(p / 100 for p in parse_percentages(self.percent_by_month))
        except ValueError:
            return ()


class SalesPlan(TenantModel):
    """A fiscal year's company bookings target and the assumptions capacity is planned with."""

    fiscal_year = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(2000), MaxValueValidator(2200)],
        help_text="Named after the calendar year it ends in.",
    )
    name = models.CharField(max_length=200)
    bookings_target = models.DecimalField(
        **MONEY, validators=[MinValueValidator(Decimal("0"))],
        help_text="Company bookings the year must bring, in the tenant's currency.",
    )
    full_quota = models.DecimalField(
        **MONEY, validators=[MinValueValidator(Decimal("0.01"))],
        help_text="Annual quota of one fully ramped seller.",
    )
    expected_attainment_percent = models.DecimalField(
        **PERCENT, default=Decimal("85"),
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("200"))],
        help_text="Share of quota the average seller is expected to book.",
    )
    attrition_percent = models.DecimalField(
        **PERCENT, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("95"))],
        help_text="Annual seller attrition. Empty: learned from the last year's leavers, or "
        "35% without history.",
    )
    ramp_schedule = models.ForeignKey(
        RampSchedule, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Empty: the tenant's default schedule.",
    )
    max_hires_per_month = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="What recruiting can hire in a month. Empty: no limit."
    )
    notes = models.TextField(blank=True)

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["-fiscal_year"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "fiscal_year"], name="sales_plan_one_a_year",
                violation_error_message="This fiscal year has a sales plan already.",
            ),
            models.CheckConstraint(
                condition=Q(bookings_target__gte=0), name="sales_plan_target_not_negative"
            ),
            models.CheckConstraint(condition=Q(full_quota__gt=0), name="sales_plan_quota_positive"),
        ]

    def __str__(self) -> str:
        return f"FY{self.fiscal_year} · {self.name}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("planning:plan-detail", args=[self.pk])


class SegmentTarget(TenantModel):
    """The planned share of the target for one customer segment. A plan's shares add up to 100."""

    plan = models.ForeignKey(SalesPlan, on_delete=models.CASCADE, related_name="segments")
    segment = models.CharField(max_length=16, choices=Segment.choices)
    share_percent = models.DecimalField(
        **PERCENT, validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]
    )

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["plan", "segment"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "plan", "segment"], name="segment_target_once_per_plan",
                violation_error_message="This segment is in the plan's mix already.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_segment_display()} {self.share_percent}%"


class Scenario(TenantModel):
    """A variant of the plan's assumptions (say conservative or stretch); empty fields inherit."""

    plan = models.ForeignKey(SalesPlan, on_delete=models.CASCADE, related_name="scenarios")
    name = models.CharField(max_length=100)
    order = models.PositiveSmallIntegerField(default=0)
    bookings_target = models.DecimalField(
        **MONEY, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))]
    )
    full_quota = models.DecimalField(
        **MONEY, null=True, blank=True, validators=[MinValueValidator(Decimal("0.01"))]
    )
    expected_attainment_percent = models.DecimalField(
        **PERCENT, null=True, blank=True,
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("200"))],
    )
    attrition_percent = models.DecimalField(
        **PERCENT, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("95"))],
    )
    ramp_schedule = models.ForeignKey(
        RampSchedule, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    max_hires_per_month = models.PositiveSmallIntegerField(null=True, blank=True)

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["plan", "order", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "plan", "name"], name="scenario_unique_name",
                violation_error_message="The plan has a scenario with this name already.",
            ),
        ]

    def __str__(self) -> str:
        return self.name
