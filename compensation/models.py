"""Compensation data: plans with immutable published versions built from a component library,
plan assignments, the crediting of deals, and the tables calculation runs write.

Plan rows convert to and from the engine's dataclasses (compensation.engine.plans) without loss;
the engine's validation is the one set of plan rules (see compensation.plan_rows).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q, Subquery

from spm.crm.models import Deal, ImportStatus
from spm.org.models import Period, PeriodKind, PeriodStatus, Person
from spm.tenancy.history import TenantHistoricalRecords
from spm.tenancy.models import CURRENCY_VALIDATOR, Tenant, TenantModel
from territories.models import OwnerRole, Territory

MONEY = {"max_digits": 14, "decimal_places": 2}
# Rates, bounds, multipliers and shares: exact decimals with room for 8.3333% and 1,000,000.00.
EXACT = {"max_digits": 20, "decimal_places": 10}
NON_NEGATIVE = [MinValueValidator(Decimal("0"))]
PERIOD_KEY = RegexValidator(r"^\d{4}-(0[1-9]|1[0-2])$", "Use a month such as 2026-03.")
CODE = RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
                      "Use letters, digits, '-', '_' or '.', starting with a letter or digit.")


# The engine's vocabulary (compensation.engine.plans); tests keep the two lists equal. Kept
# here as plain values so the schema does not depend on the engine's code.
KINDS = ("rate_table", "payout_curve", "milestone_bonus", "mbo", "spiff", "draw")
MEASURES = ("amount", "units", "margin")
CADENCES = ("month", "quarter", "year")
METHODS = ("graduated", "retroactive", "base_plus_overage")
EVALUATIONS = ("cumulative", "per_transaction")
TIER_BASES = ("amount", "attainment")
CAP_SPANS = ("period", "year")
CLAWBACK_METHODS = ("full", "prorated")


def _choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(v, v.replace("_", " ")) for v in values]


class PlanLockedError(ValidationError):
    """A write that would change a published plan version (directly or through a component)."""


# ================================================================================================
# Plans, versions and the component library
# ================================================================================================


class CreditDateField(models.TextChoices):
    CLOSE_DATE = "close_date", "Close date"
    CREATED_DATE = "created_date", "Created (booking) date"


class CompPlan(TenantModel):
    """A compensation plan such as AE-2026. What it pays lives in its versions."""

    code = models.CharField(max_length=64, validators=[CODE],
                            help_text="Short key used in plan documents, e.g. AE-2026.")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    credit_date_field = models.CharField(
        max_length=16, choices=CreditDateField.choices, default=CreditDateField.CLOSE_DATE,
        help_text="Which deal date decides the period a deal is credited in, for deals owned "
                  "by people on this plan.",
    )

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = "comp plan"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="compplan_unique_code"),
        ]

    def __str__(self) -> str:
        return self.code


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class PlanVersion(TenantModel):
    """One version of a plan: a draft until published, then never changed again.

    A published version is in force from `valid_from` (inclusive) to `valid_to` (exclusive, open
    when empty); publishing a successor ends the open version the day the successor starts,
    which is the only change a published version ever takes.
    """

    plan = models.ForeignKey(CompPlan, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=VersionStatus.choices,
                              default=VersionStatus.DRAFT, editable=False)
    valid_from = models.DateField(null=True, blank=True,
                                  help_text="First day in force; needed to publish.")
    valid_to = models.DateField(null=True, blank=True,
                                help_text="Day after the last day in force; empty = open.")
    copied_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", editable=False)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+",
                                     editable=False)
    # The plan document as published: what auditors and calculation runs read back.
    document = models.TextField(blank=True, editable=False)
    fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    notes = models.TextField(blank=True)

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "plan", "number"],
                                    name="planversion_unique_number"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_from__isnull=True)
                | Q(valid_to__gt=F("valid_from")),
                name="planversion_valid_range",
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(valid_from__isnull=False),
                name="planversion_published_has_start",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "plan", "status", "valid_from"])]

    def __str__(self) -> str:
        return f"{self.plan.code} v{self.number}" if self.plan_id else f"v{self.number}"

    @property
    def engine_key(self) -> str:
        """The key of this version in the engine's plan mapping and assignment table."""
        return f"{self.plan.code} v{self.number}"

    @property
    def is_published(self) -> bool:
        return self.status == VersionStatus.PUBLISHED

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> PlanVersion:
        instance = super().from_db(db, field_names, values)
        instance._stored_status = instance.__dict__.get("status")
        return instance

    def stored_status(self) -> str | None:
        """The status in the database (not the one on this object), None for a new row."""
        if self.pk is None:
            return None
        stored = getattr(self, "_stored_status", None)
        if stored is None:
            stored = (PlanVersion.objects.filter(pk=self.pk)
                      .values_list("status", flat=True).first())
        return stored

    def locked_error(self) -> PlanLockedError:
        return PlanLockedError(
            f"{self} is published, and a published plan version never changes. Create a new "
            "version from it, change the draft, and publish that."
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The one change a published version takes: its end, set when a successor starts.
        ending = getattr(self, "_ending", False) and kwargs.get("update_fields") == ["valid_to"]
        if self.stored_status() == VersionStatus.PUBLISHED and not ending:
            raise self.locked_error()
        super().save(*args, **kwargs)
        self._stored_status = self.status

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.stored_status() == VersionStatus.PUBLISHED:
            raise self.locked_error()
        return super().delete(*args, **kwargs)

    def clean(self) -> None:
        if self.valid_to and self.valid_from and self.valid_to <= self.valid_from:
            raise ValidationError({"valid_to": "Must be after valid from."})


class Component(TenantModel):
    """A reusable component of the tenant's library: what a plan pays for one measure.

    Versions use components through PlanVersionComponent, so one component serves several
    plans. A component used by a published version is frozen; a change is a new revision of the
    same code. Which fields apply depends on `kind` (docs/plans.md); the rate table's tiers,
    a curve's points, milestones and caps are rows of their own.
    """

    code = models.CharField(max_length=64, validators=[CODE])
    revision = models.PositiveIntegerField(default=1, editable=False)
    name = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=16, choices=_choices(KINDS))
    measure = models.CharField(max_length=8, choices=_choices(MEASURES), default="amount")
    period = models.CharField(max_length=8, choices=_choices(CADENCES), default="month",
                              help_text="The window attainment is measured over and paid for.")
    ytd_true_up = models.BooleanField(default=False, verbose_name="year-to-date true-up")
    # rate table
    basis = models.CharField(max_length=16, choices=_choices(TIER_BASES), default="attainment",
                             help_text="Tier bounds are attainment (1.0 = 100%) or amounts.")
    method = models.CharField(max_length=20, choices=_choices(METHODS), default="graduated")
    evaluation = models.CharField(max_length=16, choices=_choices(EVALUATIONS),
                                  default="cumulative")
    base_rate = models.DecimalField(**EXACT, null=True, blank=True,
                                    help_text="Rate that tier multipliers scale (0.08 = 8%).")
    # MBO
    mbo_weight = models.DecimalField(**EXACT, null=True, blank=True,
                                     help_text="Share of the target incentive (0.1 = 10%).")
    mbo_max_score = models.DecimalField(**EXACT, null=True, blank=True,
                                        help_text="Highest score paid (1.0 = 100%).")
    # SPIFF
    spiff_per_deal = models.DecimalField(**MONEY, null=True, blank=True)
    spiff_per_unit = models.DecimalField(**EXACT, null=True, blank=True)
    spiff_percent = models.DecimalField(**EXACT, null=True, blank=True,
                                        help_text="Share of the amount (0.02 = 2%).")
    # draw
    draw_recoverable = models.BooleanField(null=True, blank=True)
    draw_amount = models.DecimalField(**MONEY, null=True, blank=True)
    draw_of_target = models.DecimalField(**EXACT, null=True, blank=True)
    draw_max_recovery_per_period = models.DecimalField(**MONEY, null=True, blank=True)
    draw_recovery_start = models.CharField(max_length=7, blank=True, validators=[PERIOD_KEY])
    draw_last_period = models.CharField(max_length=7, blank=True, validators=[PERIOD_KEY])
    # filter: which credits count (empty = any)
    filter_product_lines = models.JSONField(default=list, blank=True)
    filter_deal_types = models.JSONField(default=list, blank=True)
    filter_new_logo = models.BooleanField(null=True, blank=True)
    filter_deal_amount_at_least = models.DecimalField(**MONEY, null=True, blank=True)
    filter_deal_amount_below = models.DecimalField(**MONEY, null=True, blank=True)
    filter_closed_on_or_after = models.DateField(null=True, blank=True)
    filter_closed_before = models.DateField(null=True, blank=True)
    # gate
    gate_min_attainment = models.DecimalField(**EXACT, null=True, blank=True)
    gate_min_deal_amount = models.DecimalField(**MONEY, null=True, blank=True)
    # clawback
    clawback_within_days = models.PositiveIntegerField(null=True, blank=True)
    clawback_method = models.CharField(max_length=16, choices=_choices(CLAWBACK_METHODS),
                                       blank=True)

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["code", "revision"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code", "revision"],
                                    name="component_unique_revision"),
        ]

    def __str__(self) -> str:
        return f"{self.code} r{self.revision}"

    def published_versions(self) -> models.QuerySet[PlanVersion]:
        return PlanVersion.objects.filter(
            status=VersionStatus.PUBLISHED, component_links__component_id=self.pk
        ).select_related("plan").distinct()

    def is_locked(self) -> bool:
        return self.pk is not None and PlanVersionComponent.objects.filter(
            component_id=self.pk, version__status=VersionStatus.PUBLISHED).exists()

    def locked_error(self) -> PlanLockedError:
        used_by = ", ".join(str(v) for v in self.published_versions()[:5])
        return PlanLockedError(
            f"Component {self} is used by published plan version {used_by}, and a published "
            "version never changes. Make a new revision of the component and use it in a "
            "draft version."
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.is_locked():
            raise self.locked_error()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.is_locked():
            raise self.locked_error()
        return super().delete(*args, **kwargs)


class _ComponentPart(TenantModel):
    """A row that belongs to a component; frozen with it."""

    component: models.ForeignKey

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.component_id is not None and self.component.is_locked():
            raise self.component.locked_error()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.component_id is not None and self.component.is_locked():
            raise self.component.locked_error()
        return super().delete(*args, **kwargs)


class ComponentTier(_ComponentPart):
    """A rate-table row: `lower` inclusive, `upper` exclusive (empty on the last, open tier).

    Bounds are attainment (1.0 = 100%) or amounts, as the component's `basis` says. Tiers are
    read in order of `lower`.
    """

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="tiers")
    lower = models.DecimalField(**EXACT, verbose_name="from")
    upper = models.DecimalField(**EXACT, null=True, blank=True, verbose_name="to")
    rate = models.DecimalField(**EXACT, null=True, blank=True,
                               help_text="0.08 = 8% (money per unit for a units measure).")
    multiplier = models.DecimalField(**EXACT, null=True, blank=True,
                                     help_text="Times the component's base rate.")

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["component", "lower", "pk"]
        indexes = [models.Index(fields=["tenant", "component", "lower"])]

    def __str__(self) -> str:
        return f"{self.lower} to {self.upper if self.upper is not None else 'open'}"


class ComponentCurvePoint(_ComponentPart):
    """A point of a payout curve: at `attainment`, pay the share `payout` of target incentive."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE,
                                  related_name="curve_points")
    attainment = models.DecimalField(**EXACT)
    payout = models.DecimalField(**EXACT)

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["component", "attainment", "pk"]

    def __str__(self) -> str:
        return f"{self.attainment} → {self.payout}"


class ComponentMilestone(_ComponentPart):
    """A bonus paid once attainment reaches `attainment`: a fixed amount or a share of target."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE,
                                  related_name="milestones")
    attainment = models.DecimalField(**EXACT)
    amount = models.DecimalField(**MONEY, null=True, blank=True)
    of_target = models.DecimalField(**EXACT, null=True, blank=True)

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["component", "attainment", "pk"]

    def __str__(self) -> str:
        return f"at {self.attainment}"


class ComponentCap(_ComponentPart):
    """A cap on what the component pays per period or per year (read in creation order)."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="caps")
    per = models.CharField(max_length=8, choices=_choices(CAP_SPANS))
    amount = models.DecimalField(**MONEY, null=True, blank=True)
    target_multiple = models.DecimalField(**EXACT, null=True, blank=True)

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["component", "pk"]

    def __str__(self) -> str:
        return f"cap per {self.per}"


class PlanVersionComponent(TenantModel):
    """A component used by a plan version, at a position in its ordered list."""

    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE,
                                related_name="component_links")
    component = models.ForeignKey(Component, on_delete=models.PROTECT, related_name="links")
    position = models.PositiveSmallIntegerField(default=0)

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["version", "position", "pk"]
        verbose_name = "plan version component"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "version", "component"],
                                    name="versioncomponent_once"),
        ]
        indexes = [models.Index(fields=["tenant", "component"])]

    def __str__(self) -> str:
        return f"{self.version_id}#{self.position}: {self.component_id}"

    def _check_version(self) -> None:
        if self.version_id is not None and self.version.stored_status() == VersionStatus.PUBLISHED:
            raise self.version.locked_error()

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._check_version()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self._check_version()
        return super().delete(*args, **kwargs)


# ================================================================================================
# Assignments
# ================================================================================================


class PlanAssignment(TenantModel):
    """A person on a plan from valid_from (inclusive) to valid_to (exclusive, open when empty).

    The version paid is the one in force on each day. A person holds one plan at a time;
    `target_incentive` is the yearly variable pay at 100% attainment, in the tenant currency.
    """

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="plan_assignments")
    plan = models.ForeignKey(CompPlan, on_delete=models.PROTECT, related_name="assignments")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    target_incentive = models.DecimalField(
        **MONEY, default=Decimal("0.00"), validators=NON_NEGATIVE,
        help_text="Yearly target incentive (variable pay at 100% attainment), tenant currency.",
    )
    notes = models.CharField(max_length=500, blank=True)

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["person", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="planassignment_valid_range",
            ),
            models.CheckConstraint(condition=Q(target_incentive__gte=0),
                                   name="planassignment_target_not_negative"),
        ]
        indexes = [
            models.Index(fields=["tenant", "person", "valid_from"]),
            models.Index(fields=["tenant", "plan", "valid_from"]),
        ]

    def __str__(self) -> str:
        return f"{self.person} on {self.plan} from {self.valid_from}"

    def clean(self) -> None:
        if self.valid_to and self.valid_from and self.valid_to <= self.valid_from:
            raise ValidationError({"valid_to": "Must be after valid from."})
        if self.target_incentive is not None and self.target_incentive < 0:
            raise ValidationError({"target_incentive": "Cannot be negative."})
        if self.person_id and self.valid_from:
            clash = PlanAssignment.objects.filter(person_id=self.person_id).exclude(pk=self.pk)
            clash = clash.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=self.valid_from))
            if self.valid_to:
                clash = clash.filter(valid_from__lt=self.valid_to)
            other = clash.select_related("plan").order_by("valid_from").first()
            if other is not None:
                until = f"until {other.valid_to}" if other.valid_to else "with no end date"
                raise ValidationError({"valid_from": (
                    f"{self.person} is already on {other.plan} from {other.valid_from} {until}; "
                    "a person holds one plan at a time. End that assignment first."
                )})


class AssignmentPeriod(TenantModel):
    """An assignment's share of one fiscal month under one plan version, kept for the engine.

    `days` of the month's `period_days` are covered, so the engine prorates the month's target
    and caps by days/period_days. Rebuilt by the assignment and publishing services.
    """

    assignment = models.ForeignKey(PlanAssignment, on_delete=models.CASCADE,
                                   related_name="period_shares")
    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="+")
    valid_from = models.DateField()
    valid_to = models.DateField()
    days = models.PositiveSmallIntegerField()
    period_days = models.PositiveSmallIntegerField()
    target_incentive = models.DecimalField(
        **MONEY, help_text="The month's share of the yearly target, before proration.")

    class Meta:
        ordering = ["assignment", "valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "assignment", "period", "version"],
                                    name="assignmentperiod_once"),
            models.CheckConstraint(condition=Q(days__lte=F("period_days")) & Q(days__gt=0),
                                   name="assignmentperiod_days_within"),
        ]
        indexes = [models.Index(fields=["tenant", "period"])]

    def __str__(self) -> str:
        return f"{self.assignment_id} in {self.period_id}: {self.days}/{self.period_days}"

    @property
    def proration(self) -> str:
        return f"{self.days}/{self.period_days}"


class AssignmentImport(TenantModel):
    """One uploaded file of plan assignments: previewed first, then applied whole or not at all.

    The file is kept until it is applied, so applying re-reads and re-checks what was previewed
    instead of trusting anything the browser sends back. Statuses are the CRM import's.
    """

    file_name = models.CharField(max_length=255)
    sheet = models.CharField(max_length=100, blank=True,
                             help_text="The sheet read from a workbook.")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=ImportStatus.choices,
                              default=ImportStatus.PREVIEWED)
    content = models.BinaryField(default=b"", editable=False)
    row_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    ended_count = models.PositiveIntegerField(
        default=0, help_text="Earlier assignments ended by a new one.")
    changed_count = models.PositiveIntegerField(
        default=0, help_text="Assignments whose end the file changed.")
    unchanged_count = models.PositiveIntegerField(default=0)
    error_report = models.JSONField(
        default=list, blank=True, help_text="Every problem found: row, column, reason, value.")
    notices = models.JSONField(default=list, blank=True)
    preview = models.JSONField(default=dict, blank=True,
                               help_text="Each row's outcome (the first rows) and the counts.")
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["tenant", "created_at"],
                                name="assignmentimport_by_created")]

    def __str__(self) -> str:
        return f"Plan assignments from {self.file_name}"


# ================================================================================================
# MBO scores
# ================================================================================================

# A typo guard, not a business rule: a score of 1,000% or more almost surely meant 100 or less.
# What is paid is still capped by the component's maximum score.
MBO_SCORE_LIMIT = Decimal("1000")


def window_label(period: Period) -> str:
    """The engine's name of the window `period` is (compensation.engine.calendar): a month is
    the calendar month it covers ("2026-03"), a quarter "FY2026-Q1" and a year "FY2026"."""
    if period.kind == PeriodKind.MONTH:
        return f"{period.start_date.year:04d}-{period.start_date.month:02d}"
    if period.kind == PeriodKind.QUARTER:
        return f"FY{period.fiscal_year}-Q{period.number}"
    return f"FY{period.fiscal_year}"


class MboScoreLockedError(ValidationError):
    """A change to a score whose window has been paid and locked."""


class MboScore(TenantModel):
    """A manager's score of one payee's MBO component for one window, which the engine pays as
    target incentive × weight × score (docs/plans.md, "MBO bonus").

    The window is a Period of the component's cadence rather than the engine's label as text:
    it cannot name a window outside the tenant's calendar, it follows a fiscal year that does
    not start in January, and it carries the period's lock. The label is derived from it.
    The engine knows a component by its code, so a payee has one score per code and window
    whichever revision of the component it was entered against.
    """

    payee = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    component = models.ForeignKey(Component, on_delete=models.PROTECT, related_name="+",
                                  help_text="An MBO component.")
    period = models.ForeignKey(
        Period, on_delete=models.PROTECT, related_name="+", verbose_name="window",
        help_text="The month, quarter or year scored, as the component's period says.")
    score_pct = models.DecimalField(
        max_digits=6, decimal_places=2, verbose_name="score (%)",
        validators=[MinValueValidator(Decimal("0"), "A score cannot be negative."),
                    MaxValueValidator(MBO_SCORE_LIMIT, "A score above 1000%% is surely a "
                                                       "typo: 85 means 85%%.")],
        help_text="85 means 85%. Paid up to the component's maximum score.")
    comment = models.TextField(blank=True,
                               help_text="Why this score, for the payee and whoever audits it.")
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+", editable=False)
    entered_at = models.DateTimeField(auto_now=True)

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["period", "payee", "component"]
        verbose_name = "MBO score"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "payee", "component", "period"],
                name="mboscore_once_per_window",
                violation_error_message="This payee already has a score for this component "
                                        "and window; change that score instead."),
            models.CheckConstraint(
                condition=Q(score_pct__gte=0) & Q(score_pct__lte=MBO_SCORE_LIMIT),
                name="mboscore_score_range"),
        ]
        # The engine reads a fiscal year's scores at a time; the page a period's.
        indexes = [models.Index(fields=["tenant", "period", "payee"], name="mboscore_by_period")]

    def __str__(self) -> str:
        return f"{self.payee_id} {self.component_id} {self.period_id}: {self.score_pct}%"

    @property
    def window(self) -> str:
        return window_label(self.period)

    def _stored_period_id(self) -> int | None:
        if self.pk is None:
            return None
        return MboScore.objects.filter(pk=self.pk).values_list("period_id", flat=True).first()

    def locked_period(self) -> Period | None:
        """The locked period that makes this score final, if any: its window (as stored and as
        about to be saved) or the month that window pays in, its last, which a run no longer
        rewrites once locked."""
        ids = {i for i in (self.period_id, self._stored_period_id()) if i is not None}
        if not ids:
            return None
        pay_months = Period.objects.filter(pk__in=ids).values("end_date")
        return (Period.objects.filter(status=PeriodStatus.LOCKED)
                .filter(Q(pk__in=ids) | Q(kind=PeriodKind.MONTH,
                                          end_date__in=Subquery(pay_months)))
                .order_by("start_date").first())

    @staticmethod
    def locked_error(locked: Period) -> MboScoreLockedError:
        return MboScoreLockedError(
            f"{locked} is locked: its pay is final, so this score can no longer change. "
            "Finance can reopen the period if it must.")

    def clean(self) -> None:
        errors: dict[str, str] = {}
        component = self.component if self.component_id else None
        period = self.period if self.period_id else None
        if component is not None and component.kind != "mbo":
            errors["component"] = (f"{component} is a {component.get_kind_display()} "
                                   "component; scores are entered for MBO components only.")
        elif component is not None and period is not None and period.kind != component.period:
            errors["period"] = (f"{component.code} is scored per {component.period}: choose "
                                f"a {component.period}, not {period} (a {period.kind}).")
        if period is not None and "period" not in errors:
            locked = self.locked_period()
            if locked is not None:
                errors["period"] = self.locked_error(locked).messages[0]
        if errors:
            raise ValidationError(errors)
        if component is not None and self.payee_id and period is not None:
            # Another revision of the same code: the engine would see two scores for one
            # window. (The same component is the unique constraint's to refuse.)
            other = (MboScore.objects.filter(payee_id=self.payee_id, period_id=self.period_id,
                                             component__code=component.code)
                     .exclude(pk=self.pk).exclude(component_id=component.pk)
                     .select_related("component").first())
            if other is not None:
                raise ValidationError(
                    f"This payee already has a {component.code} score for {period}, entered "
                    f"against {other.component}; change that score instead.")

    def save(self, *args: Any, **kwargs: Any) -> None:
        locked = self.locked_period()
        if locked is not None:
            raise self.locked_error(locked)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        locked = self.locked_period()
        if locked is not None:
            raise self.locked_error(locked)
        return super().delete(*args, **kwargs)


# ================================================================================================
# Crediting configuration
# ================================================================================================


class DealSplitSet(TenantModel):
    """How a deal's credit is split. A deal with a split set is credited by its splits only,
    and they must add up to exactly 100%."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=500, blank=True,
                              help_text="Why the deal is split, for whoever audits the pay.")

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["-pk"]
        verbose_name = "deal split"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "deal"], name="dealsplitset_once"),
        ]

    def __str__(self) -> str:
        return f"Splits of {self.deal}"


class DealSplit(TenantModel):
    """One person's share of a split deal."""

    split_set = models.ForeignKey(DealSplitSet, on_delete=models.CASCADE, related_name="splits")
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="+", editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    percent = models.DecimalField(
        max_digits=5, decimal_places=2,
        help_text="Share of the deal in percent, e.g. 60.00; a deal's splits add up to 100.",
    )

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["split_set", "-percent", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "deal", "person"],
                                    name="dealsplit_once_per_person"),
            models.CheckConstraint(condition=Q(percent__gt=0) & Q(percent__lte=100),
                                   name="dealsplit_percent_range"),
        ]
        indexes = [models.Index(fields=["tenant", "deal"])]

    def __str__(self) -> str:
        return f"{self.person} {self.percent}%"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The deal is the split set's, always: crediting reads splits by deal.
        self.deal_id = self.split_set.deal_id
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.percent is not None and not Decimal(0) < self.percent <= Decimal(100):
            raise ValidationError({"percent": "A split is more than 0% and at most 100%."})


class CreditTarget(models.TextChoices):
    PERSON = "person", "A named person"
    TERRITORY_OWNER = "territory_owner", "The territory's owner in a role"
    LEAD_OWNER = "lead_owner", "Whoever owned the lead the deal came from"


class CreditRule(TenantModel):
    """An extra, full credit for matching won deals: overlay and specialist credit by product
    line or territory, or sourcing credit to the owner of the lead the deal converted from.

    Rules are tried in `priority` order; a person is credited at most once per deal.
    """

    name = models.CharField(max_length=200)
    priority = models.PositiveIntegerField(default=100, help_text="Lower runs first.")
    is_active = models.BooleanField(default=True)
    product_line = models.CharField(max_length=100, blank=True,
                                    help_text="Only deals of this product line (empty = any).")
    territory = models.ForeignKey(
        Territory, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Only deals whose account is in this territory or below on the credit date.",
    )
    target = models.CharField(max_length=16, choices=CreditTarget.choices,
                              default=CreditTarget.PERSON)
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", help_text="Who is credited (target person).")
    owner_role = models.CharField(max_length=16, choices=OwnerRole.choices,
                                  default=OwnerRole.OVERLAY,
                                  help_text="Which owner of the territory is credited.")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["priority", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="creditrule_valid_range",
            ),
            models.CheckConstraint(
                condition=~Q(target="person") | Q(person__isnull=False),
                name="creditrule_person_target_has_person",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.valid_to and self.valid_from and self.valid_to <= self.valid_from:
            errors["valid_to"] = "Must be after valid from."
        if self.target == CreditTarget.PERSON and self.person_id is None:
            errors["person"] = "Name the person this rule credits."
        if self.target != CreditTarget.PERSON and self.person_id is not None:
            errors["person"] = "Only a rule that credits a named person names one."
        if (self.target == CreditTarget.TERRITORY_OWNER and self.territory_id is None
                and not self.product_line):
            errors["territory"] = ("A territory-owner rule needs a territory or a product "
                                   "line, or it would credit every territory's owner.")
        if errors:
            raise ValidationError(errors)


class ExchangeRate(TenantModel):
    """How many units of the tenant currency one unit of `currency` is worth from `valid_from`
    (until the next rate of the same currency)."""

    currency = models.CharField(max_length=3, validators=[CURRENCY_VALIDATOR])
    valid_from = models.DateField()
    rate = models.DecimalField(max_digits=18, decimal_places=8)

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["currency", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "currency", "valid_from"],
                                    name="exchangerate_once_per_day"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchangerate_positive"),
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate} from {self.valid_from}"

    def clean(self) -> None:
        if self.rate is not None and self.rate <= 0:
            raise ValidationError({"rate": "A rate is more than zero."})


class CancellationKind(models.TextChoices):
    CANCELLED = "cancelled", "Cancelled"
    CHURNED = "churned", "Churned"


class DealCancellation(TenantModel):
    """A won deal that was cancelled or churned: crediting posts its reversal in the period of
    `cancel_date`, and the engine claws back what the plan says."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="+")
    cancel_date = models.DateField()
    kind = models.CharField(max_length=16, choices=CancellationKind.choices,
                            default=CancellationKind.CANCELLED)
    reason = models.CharField(max_length=500, blank=True)

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["-cancel_date"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "deal"], name="dealcancellation_once"),
        ]
        indexes = [models.Index(fields=["tenant", "cancel_date"])]

    def __str__(self) -> str:
        return f"{self.deal} {self.kind} on {self.cancel_date}"


# ================================================================================================
# Credits
# ================================================================================================


class CreditRole(models.TextChoices):
    OWNER = "owner", "Owner"
    SPLIT = "split", "Split"
    OVERLAY = "overlay", "Overlay / specialist"
    SOURCE = "source", "Sourced"
    MANAGER = "manager", "Manager roll-up"


class CreditKind(models.TextChoices):
    CREDIT = "credit", "Credit"
    REVERSAL = "reversal", "Reversal"


class CreditBuild(TenantModel):
    """One crediting of a period: who ran it, when, and every problem it found."""

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="+")
    built_at = models.DateTimeField()
    built_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    deal_count = models.PositiveIntegerField(default=0)
    credit_count = models.PositiveIntegerField(default=0)
    issue_count = models.PositiveIntegerField(default=0)
    issues = models.JSONField(default=list, blank=True,
                              help_text="Deals not credited and why (missing rate, bad splits).")

    class Meta:
        ordering = ["-built_at", "-pk"]
        indexes = [models.Index(fields=["tenant", "period", "built_at"])]

    def __str__(self) -> str:
        return f"Credits of {self.period} built {self.built_at:%Y-%m-%d %H:%M}"


class Credit(TenantModel):
    """A payee's credit for a deal in a period: the input of the calculation engine.

    Money is in the tenant currency (converted at the rate in force on the credit date when
    the deal is in another currency). A reversal is negative and posted in the period the deal
    was cancelled; the engine reads reversals as clawback events, not as credits.
    """

    # A month holds hundreds of thousands of credits, rewritten whole: the composite indexes
    # below serve the reads, so the foreign keys carry no index of their own.
    build = models.ForeignKey(CreditBuild, on_delete=models.CASCADE, related_name="credits",
                              db_index=False)
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="+",
                               db_index=False)
    payee = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+",
                              db_index=False)
    deal = models.ForeignKey(Deal, on_delete=models.PROTECT, related_name="+", db_index=False)
    kind = models.CharField(max_length=8, choices=CreditKind.choices, default=CreditKind.CREDIT)
    role = models.CharField(max_length=8, choices=CreditRole.choices)
    amount = models.DecimalField(**MONEY)
    units = models.IntegerField(default=0)
    margin = models.DecimalField(**MONEY, null=True, blank=True)
    credit_date = models.DateField()
    split_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal(100))
    currency = models.CharField(max_length=3, help_text="The deal's currency.")
    exchange_rate = models.DecimalField(max_digits=18, decimal_places=8, null=True, blank=True)
    rule = models.ForeignKey(CreditRule, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", db_index=False)
    rolled_up_from = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+", db_index=False,
                                       help_text="For a manager credit: whose credit it is.")
    reverses_date = models.DateField(null=True, blank=True,
                                     help_text="For a reversal: the credit date it reverses.")
    rule_ref = models.CharField(max_length=200, help_text="Why this payee is credited.")

    class Meta:
        ordering = ["period", "payee", "credit_date", "pk"]
        indexes = [
            models.Index(fields=["tenant", "period", "payee"], name="credit_by_period_payee"),
            models.Index(fields=["tenant", "deal"], name="credit_by_deal"),
        ]

    def __str__(self) -> str:
        return f"{self.payee_id} {self.role} {self.amount} for {self.deal_id}"


# ================================================================================================
# Calculation results (written by calculation runs)
# ================================================================================================


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    # Results written, but some money may be missing: an issue of severity "error" (a credit no
    # plan covers, a deal with no exchange rate, ...) was found by the engine or by crediting.
    SUCCEEDED_WITH_ERRORS = "succeeded_with_errors", "Succeeded with errors"
    FAILED = "failed", "Failed"
    SUPERSEDED = "superseded", "Superseded"


class RunScope(models.TextChoices):
    FULL = "full", "Every payee"
    PAYEES = "payees", "Payees a change touched"


#: The statuses of runs whose results were written (and stand until a later run replaces them).
RESULT_STATUSES = (RunStatus.SUCCEEDED, RunStatus.SUCCEEDED_WITH_ERRORS)


class CalculationRun(TenantModel):
    """One calculation of a period (and the months inside it): who asked, when, on what inputs.

    A successful run replaces the line items and payee-period results of the periods it covers;
    `inputs_fingerprint` identifies the credits, quotas, assignments and plan versions it read.
    """

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=24, choices=RunStatus.choices,
                              default=RunStatus.QUEUED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    inputs_fingerprint = models.CharField(max_length=64, blank=True)
    inputs = models.JSONField(default=dict, blank=True,
                              help_text="Plan versions, credit build and row counts read.")
    line_count = models.PositiveIntegerField(default=0)
    total_amount = models.DecimalField(**MONEY, default=Decimal("0.00"))
    issues = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    # A change recomputes only the payees it touched (their ids are in `inputs`); the nightly
    # and the Recalculate button recompute everyone and are the authority.
    scope = models.CharField(max_length=8, choices=RunScope.choices, default=RunScope.FULL)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["tenant", "period", "status", "requested_at"])]

    def __str__(self) -> str:
        return f"Run {self.pk} of {self.period} ({self.status})"

    @property
    def has_results(self) -> bool:
        return self.status in RESULT_STATUSES

    def issue_count(self, severity: str) -> int:
        """Issues of `severity` the run found, its months' crediting included, all of them
        (`issues` keeps the first MAX_ISSUES_KEPT). Runs from before the counts were recorded
        count the issues they kept."""
        counts = self.inputs.get("issue_counts") if isinstance(self.inputs, dict) else None
        if isinstance(counts, dict):
            return int(counts.get(severity, 0))
        return sum(1 for issue in self.issues if issue.get("severity") == severity)

    @property
    def error_count(self) -> int:
        return self.issue_count("error")

    @property
    def warning_count(self) -> int:
        return self.issue_count("warning")


class RecomputeRequest(TenantModel):
    """A change waiting to reach the statements: a deal, a payee, or everything.

    Written in the transaction of the change itself, so a change that rolls back (an import's
    preview) asks for nothing, and one that commits cannot be lost if the broker is down: the
    next recompute finds it. The recompute deletes the rows it applied.
    """

    # Plain ids, not foreign keys: a deleted deal still needs its old credits taken away.
    deal_id = models.BigIntegerField(null=True, blank=True)
    payee_id = models.BigIntegerField(null=True, blank=True)
    everything = models.BooleanField(default=False)
    reason = models.CharField(max_length=64, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "id"])]

    def __str__(self) -> str:
        what = ("everything" if self.everything else
                f"deal {self.deal_id}" if self.deal_id else f"payee {self.payee_id}")
        return f"Recompute {what} ({self.reason})"


class LineItem(TenantModel):
    """One line of a payee's earnings: a component applied to a credit or a window.

    The structured terms are the columns (basis, cumulative, quota, attainment, tier, rate,
    amount, rounding carry, capped) and `explanation_text` their rendering by the engine, e.g.
    "graduated: 100,000.00 x 8% + 20,000.00 x 12% = 10,400.00".
    """

    # Line items are derived rows, written a million at a time by calculation runs from inputs
    # the run has just read and checked, inside the run's transaction. None of their links is a
    # database constraint: PostgreSQL checks each constraint of each new row at COMMIT (about
    # 5 s per link per million lines), and every index costs about a second more per million.
    # The tenant is still enforced by row-level security (WITH CHECK), and Django still applies
    # CASCADE and PROTECT when someone deletes a tenant, run, payee, period, plan or deal. The
    # one index serves statements, the only reader of lines in bulk.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", editable=False,
                               db_constraint=False, db_index=False)
    run = models.ForeignKey(CalculationRun, on_delete=models.CASCADE, related_name="lines",
                            db_constraint=False, db_index=False)
    payee = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+",
                              db_constraint=False, db_index=False)  # see lineitem_by_payee_period
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="+",
                               db_constraint=False, db_index=False)
    window = models.CharField(max_length=16, help_text="The month, quarter or year measured.")
    plan_version = models.ForeignKey(PlanVersion, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     db_constraint=False, db_index=False)
    component = models.ForeignKey(Component, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", db_constraint=False, db_index=False)
    kind = models.CharField(max_length=16, blank=True)
    line_type = models.CharField(max_length=16)
    # No database constraint: crediting rewrites a month's credits and clears this link first,
    # and a constraint would make PostgreSQL look for referencing lines once per deleted credit.
    credit = models.ForeignKey(Credit, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+", db_index=False, db_constraint=False)
    deal = models.ForeignKey(Deal, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", db_index=False, db_constraint=False)
    measure = models.CharField(max_length=8, blank=True)
    basis = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal("0.00"))
    cumulative = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    quota = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    attainment = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    tier = models.PositiveSmallIntegerField(null=True, blank=True)
    rate = models.CharField(max_length=40, blank=True)
    amount = models.DecimalField(**MONEY)
    rounding_carry = models.DecimalField(**MONEY, default=Decimal("0.00"))
    capped = models.DecimalField(**MONEY, default=Decimal("0.00"))
    explanation_text = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "payee", "period", "pk"]
        indexes = [
            models.Index(fields=["tenant", "payee", "period"], name="lineitem_by_payee_period"),
        ]

    def __str__(self) -> str:
        return f"{self.payee_id} {self.period_id} {self.amount}"


class PayeePeriodResult(TenantModel):
    """A payee's totals for a period in one run; `total` is exactly the sum of its lines."""

    # Derived rows written with the lines, by the same run: like LineItem, no link is a database
    # constraint (five deferred checks per row cost ~1.5 s at COMMIT for 120,000 results).
    # Row-level security still checks the tenant; Django applies CASCADE and PROTECT.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", editable=False,
                               db_constraint=False, db_index=False)
    run = models.ForeignKey(CalculationRun, on_delete=models.CASCADE, related_name="results",
                            db_constraint=False, db_index=False)
    payee = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+",
                              db_constraint=False, db_index=False)
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="+",
                               db_constraint=False)
    plan_version = models.ForeignKey(PlanVersion, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     db_constraint=False, db_index=False)
    credited = models.DecimalField(**MONEY, default=Decimal("0.00"))
    quota = models.DecimalField(**MONEY, null=True, blank=True)
    attainment = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    target_incentive = models.DecimalField(**MONEY, null=True, blank=True)
    earnings = models.DecimalField(**MONEY, default=Decimal("0.00"))
    clawbacks = models.DecimalField(**MONEY, default=Decimal("0.00"))
    adjustments = models.DecimalField(**MONEY, default=Decimal("0.00"))
    draw = models.DecimalField(**MONEY, default=Decimal("0.00"))
    total = models.DecimalField(**MONEY, default=Decimal("0.00"))
    line_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["period", "payee"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "run", "payee", "period"],
                                    name="payeeperiodresult_once"),
        ]
        indexes = [models.Index(fields=["tenant", "payee", "period"],
                                name="result_by_payee_period")]

    def __str__(self) -> str:
        return f"{self.payee_id} {self.period_id}: {self.total}"


class AdjustmentStatus(models.TextChoices):
    PENDING = "pending", "Pending approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class Adjustment(TenantModel):
    """A manual amount added to (or taken from) a payee's period, with its reason."""

    payee = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(**MONEY)
    reason = models.CharField(max_length=500)
    deal = models.ForeignKey(Deal, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", db_index=False)
    status = models.CharField(max_length=16, choices=AdjustmentStatus.choices,
                              default=AdjustmentStatus.PENDING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["tenant", "payee", "period"])]

    def __str__(self) -> str:
        return f"{self.payee} {self.amount} in {self.period}"


class DrawBalance(TenantModel):
    """What a payee still owes on a recoverable draw at the end of a period."""

    payee = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    component = models.ForeignKey(Component, on_delete=models.PROTECT, related_name="+")
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="+")
    run = models.ForeignKey(CalculationRun, null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="+")
    balance = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["payee", "period"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "payee", "component", "period"],
                                    name="drawbalance_once"),
        ]

    def __str__(self) -> str:
        return f"{self.payee} owes {self.balance} after {self.period}"


class DisputeStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_REVIEW = "in_review", "In review"
    RESOLVED = "resolved", "Resolved"
    REJECTED = "rejected", "Rejected"


class Dispute(TenantModel):
    """A payee's question about a period's pay, a line or a deal, and its answer."""

    payee = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="+")
    # No database constraint: a calculation run deletes a million lines, and PostgreSQL would
    # look for a referencing dispute once per deleted line at COMMIT (about 5 s). The run
    # detaches disputes from the lines it replaces first; Django applies SET_NULL elsewhere.
    line_item = models.ForeignKey(LineItem, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", db_constraint=False)
    deal = models.ForeignKey(Deal, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", db_index=False)
    subject = models.CharField(max_length=200)
    description = models.TextField()
    amount_claimed = models.DecimalField(**MONEY, null=True, blank=True)
    status = models.CharField(max_length=16, choices=DisputeStatus.choices,
                              default=DisputeStatus.OPEN)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    raised_at = models.DateTimeField(auto_now_add=True)
    resolution = models.TextField(blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["-raised_at", "-pk"]
        indexes = [models.Index(fields=["tenant", "payee", "status"])]

    def __str__(self) -> str:
        return self.subject


class PayoutStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    EXPORTED = "exported", "Exported to payroll"
    PAID = "paid", "Paid"


class Payout(TenantModel):
    """What a payee is paid for a period, from a run's result, through approval to payroll."""

    payee = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="+")
    run = models.ForeignKey(CalculationRun, on_delete=models.PROTECT, related_name="payouts")
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3, validators=[CURRENCY_VALIDATOR])
    status = models.CharField(max_length=16, choices=PayoutStatus.choices,
                              default=PayoutStatus.PENDING)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    exported_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    reference = models.CharField(max_length=100, blank=True,
                                 help_text="Payroll batch or payment reference.")

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["period", "payee"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "payee", "period", "run"],
                                    name="payout_once_per_run"),
        ]
        indexes = [models.Index(fields=["tenant", "period", "status"])]

    def __str__(self) -> str:
        return f"{self.payee} {self.amount} {self.currency} for {self.period}"
