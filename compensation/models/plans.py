"""Comp plans, their immutable published versions, and the component library they use."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from spm.tenancy.dating import EffectiveDatedModel
from spm.tenancy.history import TenantHistoricalRecords
from spm.tenancy.models import TenantModel

from .common import (
    CADENCES,
    CAP_SPANS,
    CLAWBACK_METHODS,
    CODE,
    EVALUATIONS,
    EXACT,
    KINDS,
    MEASURES,
    METHODS,
    MONEY,
    PERIOD_KEY,
    TIER_BASES,
    _choices,
)


class PlanLockedError(ValidationError):
    """A write that would change a published plan version (directly or through a component)."""


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


class PlanVersion(EffectiveDatedModel):
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

    @property
    def last_day(self) -> datetime.date | None:
        """The last day in force (valid_to is the day after), for people to read."""
        return None if self.valid_to is None else self.valid_to - datetime.timedelta(days=1)

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
        # Overlaps are checked among published versions only, when one is published.
        self.clean_range()


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
        def plain(value: Any) -> str:
            text = format(value.normalize(), "f") if value is not None else "open"
            return text.rstrip("0").rstrip(".") if "." in text else text
        return f"{plain(self.lower)} to {plain(self.upper)}"


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
