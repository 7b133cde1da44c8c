"""How deals become credits: splits, credit rules, exchange rates, cancellations, and the
credits each crediting of a period writes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from spm.crm.models import Deal
from spm.org.models import Period, Person
from spm.tenancy.dating import EffectiveDatedModel
from spm.tenancy.history import TenantHistoricalRecords
from spm.tenancy.models import CURRENCY_VALIDATOR, TenantModel
from territories.models import OwnerRole, Territory

from .common import MONEY

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


class CreditRule(EffectiveDatedModel):
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
        errors: dict[str, str] = self.range_errors()
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
