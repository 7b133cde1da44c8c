"""Quota plans, their allocation tree, effective-dated monthly quotas per person, and the
acknowledgements of quota letters."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from planning.capacity import parse_percentages
from planning.models import RampSchedule, SalesPlan
from spm.org.models import Period, PeriodKind, Person, Team
from spm.tenancy.dating import EffectiveDatedModel, validate_no_overlap
from spm.tenancy.history import TenantHistoricalRecords
from spm.tenancy.models import TenantModel

MONEY = {"max_digits": 14, "decimal_places": 2}


class AllocationMethod(models.TextChoices):
    TERRITORY = "territory", "Territory potential"
    HISTORICAL = "historical", "Historical share"
    EQUAL = "equal", "Equal"
    MANUAL = "manual", "Manual"


class QuotaPlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


def validate_seasonality(value: str) -> None:
    if not value.strip():
        return
    try:
        parse_percentages(value, count=12, total=Decimal(100))
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


class QuotaPlan(TenantModel):
    """A fiscal year's quota plan: the target allocated top-down and phased into months.

    Allocation fills its tree (QuotaAllocation); applying it writes every person's monthly
    Quota rows. Reps see their letter once the plan is published.
    """

    fiscal_year = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(2000), MaxValueValidator(2200)]
    )
    name = models.CharField(max_length=200)
    sales_plan = models.ForeignKey(
        SalesPlan, null=True, blank=True, on_delete=models.SET_NULL, related_name="quota_plans",
        help_text="Where the target comes from, if a sales plan exists for the year.",
    )
    target = models.DecimalField(
        **MONEY, validators=[MinValueValidator(Decimal("0"))],
        help_text="The company bookings target to allocate.",
    )
    over_assignment_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("100"),
        validators=[MinValueValidator(Decimal("100")), MaxValueValidator(Decimal("200"))],
        help_text="People's quotas add up to this share of their team's quota, e.g. 110.",
    )
    method = models.CharField(
        max_length=16, choices=AllocationMethod.choices, default=AllocationMethod.HISTORICAL,
        help_text="How a quota is split among the teams and people below it.",
    )
    seasonality_percent = models.CharField(
        max_length=300, blank=True, validators=[validate_seasonality],
        help_text="Twelve month weights in percent adding up to 100, first fiscal month first. "
        "Empty: flat.",
    )
    ramp_schedule = models.ForeignKey(
        RampSchedule, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="New hires' quotas follow it. Empty: the tenant's default schedule.",
    )
    org_as_of = models.DateField(
        null=True, blank=True,
        help_text="The day whose teams the plan follows. Empty: the first day of the year.",
    )
    status = models.CharField(
        max_length=16, choices=QuotaPlanStatus.choices, default=QuotaPlanStatus.DRAFT,
        editable=False,
    )
    applied_at = models.DateTimeField(null=True, blank=True, editable=False)

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["-fiscal_year"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "fiscal_year"], name="quota_plan_one_a_year",
                violation_error_message="This fiscal year has a quota plan already.",
            ),
            models.CheckConstraint(condition=Q(target__gte=0), name="quota_plan_target_positive"),
            models.CheckConstraint(
                condition=Q(over_assignment_percent__gte=100)
                & Q(over_assignment_percent__lte=200),
                name="quota_plan_over_assignment_range",
            ),
        ]

    def __str__(self) -> str:
        return f"FY{self.fiscal_year} · {self.name}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("quotas:workspace", args=[self.pk])

    @property
    def factor(self) -> Decimal:
        return self.over_assignment_percent / 100

    @property
    def is_published(self) -> bool:
        return self.status == QuotaPlanStatus.PUBLISHED


class QuotaAllocation(TenantModel):
    """One node of a plan's allocation tree: the company (no team, no person), a team, or a
    person. `is_override` pins a manual amount that re-allocation keeps, with its reason."""

    plan = models.ForeignKey(QuotaPlan, on_delete=models.CASCADE, related_name="allocations")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    amount = models.DecimalField(**MONEY, default=Decimal("0"))
    weight = models.DecimalField(
        max_digits=20, decimal_places=6, default=Decimal("0"),
        help_text="People: the weight the method gave them (times their capacity).",
    )
    capacity = models.DecimalField(
        max_digits=9, decimal_places=6, default=Decimal("0"),
        help_text="People: the share of a full, fully ramped year they carry.",
    )
    is_override = models.BooleanField(default=False)
    override_reason = models.CharField(max_length=500, blank=True)
    note = models.CharField(max_length=300, blank=True)
    position = models.PositiveIntegerField(default=0, help_text="Tree order within the plan.")

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "plan", "team"], condition=Q(team__isnull=False),
                name="allocation_team_once_per_plan",
            ),
            models.UniqueConstraint(
                fields=["tenant", "plan", "person"], condition=Q(person__isnull=False),
                name="allocation_person_once_per_plan",
            ),
            models.CheckConstraint(
                condition=Q(team__isnull=True) | Q(person__isnull=True),
                name="allocation_team_or_person",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="allocation_not_negative",
                violation_error_message="A quota cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(is_override=False) | ~Q(override_reason=""),
                name="allocation_override_has_reason",
                violation_error_message="Say why this amount is set by hand.",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "plan", "position"])]

    def __str__(self) -> str:
        return self.label

    @property
    def kind(self) -> str:
        if self.person_id:
            return "person"
        return "team" if self.team_id else "root"

    @property
    def key(self) -> str:
        if self.person_id:
            return f"person:{self.person_id}"
        return f"team:{self.team_id}" if self.team_id else "root"

    @property
    def label(self) -> str:
        if self.person_id:
            return self.person.name
        return self.team.name if self.team_id else "Company"

    def clean(self) -> None:
        if self.amount is not None and self.amount < 0:
            raise ValidationError({"amount": "A quota cannot be negative."})
        if self.is_override and not self.override_reason.strip():
            raise ValidationError({"override_reason": "Say why this amount is set by hand."})


class Quota(EffectiveDatedModel):
    """A person's quota for one fiscal month, valid from `valid_from` (inclusive) to `valid_to`
    (exclusive, open when empty). A change closes the old row and opens a new one, so the
    quota in force on any day can be read back. Quarter and year quotas are sums of months, so
    they always add up."""

    plan = models.ForeignKey(QuotaPlan, on_delete=models.PROTECT, related_name="quotas")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="quotas")
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="quotas")
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0"))])
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["person", "period", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "person", "period", "valid_from"], name="quota_unique_version",
                violation_error_message="This person has a quota for this month starting that "
                "day already.",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="quota_not_negative",
                violation_error_message="A quota cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="quota_valid_range",
                violation_error_message="Valid to must be after valid from.",
            ),
        ]
        indexes = [
            # The attainment selector: every quota of a range of months, valid on a day.
            models.Index(fields=["tenant", "period", "person"], name="quota_by_period_person"),
            models.Index(fields=["tenant", "person", "period"], name="quota_by_person_period"),
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.period} · {self.amount}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.amount is None:
            errors["amount"] = "Enter the quota amount."
        elif self.amount < 0:
            errors["amount"] = "A quota cannot be negative."
        errors.update(self.range_errors())
        if self.period_id and self.period.kind != PeriodKind.MONTH:
            errors["period"] = "Quotas are set per month; quarters and years add them up."
        if self.plan_id and self.period_id and self.plan.fiscal_year != self.period.fiscal_year:
            errors["period"] = f"The month is not in the plan's FY{self.plan.fiscal_year}."
        if errors:
            raise ValidationError(errors)
        if self.person_id and self.period_id:
            validate_no_overlap(
                self, Quota.objects.filter(person_id=self.person_id, period_id=self.period_id),
                message=lambda other, span: (
                    f"{self.person} already has a quota for {self.period} {span}; the dates "
                    "overlap. Close that one first."),
            )


class QuotaAcknowledgement(TenantModel):
    """A person's acknowledgement of their quota letter: the annual amount they saw, and when."""

    plan = models.ForeignKey(
        QuotaPlan, on_delete=models.CASCADE, related_name="acknowledgements"
    )
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    annual_amount = models.DecimalField(**MONEY)
    acknowledged_at = models.DateTimeField()
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-acknowledged_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "plan", "person", "annual_amount"],
                name="acknowledgement_once_per_amount",
                violation_error_message="This quota has been acknowledged already.",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "plan", "person", "acknowledged_at"])]

    def __str__(self) -> str:
        return f"{self.person} acknowledged {self.annual_amount} on {self.acknowledged_at:%Y-%m-%d}"
