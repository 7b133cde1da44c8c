"""Who is on which plan when (with the monthly shares the engine reads), assignment
imports, and the MBO scores managers enter."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q, Subquery

from spm.crm.models import ImportStatus
from spm.org.models import Period, PeriodKind, PeriodStatus, Person
from spm.tenancy.dating import EffectiveDatedModel, validate_no_overlap
from spm.tenancy.history import TenantHistoricalRecords
from spm.tenancy.models import TenantModel

from .common import MONEY, NON_NEGATIVE
from .plans import Component, CompPlan, PlanVersion

# ================================================================================================
# Assignments
# ================================================================================================


class PlanAssignment(EffectiveDatedModel):
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
        self.clean_range()
        if self.target_incentive is not None and self.target_incentive < 0:
            raise ValidationError({"target_incentive": "Cannot be negative."})
        if self.person_id:
            validate_no_overlap(
                self, PlanAssignment.objects.filter(person_id=self.person_id)
                .select_related("plan"),
                message=lambda other, span: (
                    f"{self.person} is already on {other.plan} {span}; a person holds one "
                    "plan at a time. End that assignment first."),
            )


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
