"""What happens to pay after a run: adjustments, draw balances, disputes and payouts."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from spm.crm.models import Deal
from spm.org.models import Period, Person
from spm.tenancy.history import TenantHistoricalRecords
from spm.tenancy.models import CURRENCY_VALIDATOR, TenantModel

from .common import MONEY
from .plans import Component
from .runs import CalculationRun, LineItem


class AdjustmentStatus(models.TextChoices):
    PENDING = "pending", "Pending approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class Adjustment(TenantModel):
    """A manual amount added to (or taken from) a payee's period, with its reason."""

    payee = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(**MONEY)
    # The text the statement shows (the reason code's label and the comment): the engine copies
    # it onto the adjustment's line.
    reason = models.CharField(max_length=500)
    reason_code = models.ForeignKey("compensation.AdjustmentReason", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(blank=True)
    # A recurring adjustment is one row per month, all pointing at the first: each month is
    # approved, shown and held like any other, and stopping the series is rejecting the rest.
    series = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="repeats")
    deal = models.ForeignKey(Deal, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", db_index=False)
    status = models.CharField(max_length=16, choices=AdjustmentStatus.choices,
                              default=AdjustmentStatus.PENDING)
    rejection_reason = models.CharField(max_length=500, blank=True)
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
    adjustment = models.ForeignKey(Adjustment, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+",
                                   help_text="The adjustment that resolved it, if any.")

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
