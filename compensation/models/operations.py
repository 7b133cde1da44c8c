"""Operations on pay after a run: reason codes for adjustments, holds on lines or periods,
the thread of a dispute, finance's dispute target, and in-app notifications."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from spm.org.models import Period, Person
from spm.tenancy.history import TenantHistoricalRecords
from spm.tenancy.models import TenantModel

from .pay import Dispute
from .runs import LineItem


class AdjustmentReason(TenantModel):
    """A reason an adjustment may give (SPIFF, correction, guarantee …), edited by the tenant."""

    code = models.SlugField(max_length=40, help_text="Short code, e.g. spiff or correction.")
    label = models.CharField(max_length=120, help_text="Shown on the statement with the amount.")
    is_active = models.BooleanField(default=True,
                                    help_text="Inactive codes stay on old adjustments only.")

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["label", "code"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="adjustmentreason_code_once",
                                    violation_error_message="This reason code exists already."),
        ]

    def __str__(self) -> str:
        return self.label


class Hold(TenantModel):
    """Pay held back: one statement line, or (no line) everything of a payee's period.

    Held amounts stay on the statement, marked, and are left out of what is payable until
    released; the payroll export reads them through `compensation.holds.held_amounts`.
    """

    payee = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="+")
    # No database constraint, as on Dispute.line_item: runs delete lines in bulk.
    line_item = models.ForeignKey(LineItem, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", db_constraint=False)
    # A run replaces its lines, so a line's hold also keeps what identifies the line in the
    # next run: its component, deal and type.
    component = models.ForeignKey("compensation.Component", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    deal = models.ForeignKey("crm.Deal", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", db_index=False)
    line_type = models.CharField(max_length=16, blank=True)
    reason = models.CharField(max_length=500)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    released_at = models.DateTimeField(null=True, blank=True)
    release_note = models.CharField(max_length=500, blank=True)

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["tenant", "period", "payee"], name="hold_by_period")]

    def __str__(self) -> str:
        what = f"line {self.line_item_id}" if self.line_item_id else "the whole period"
        return f"Hold on {self.payee} {self.period}: {what}"

    @property
    def is_active(self) -> bool:
        return self.released_at is None


class DisputeMessage(TenantModel):
    """One message of a dispute's thread; status changes write one too, so the thread is the
    dispute's whole story."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    status_to = models.CharField(max_length=16, blank=True,
                                 help_text="The status the dispute moved to with this message.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.author} on {self.dispute_id}"


class DisputePolicy(TenantModel):
    """The tenant's target for answering a dispute; one row per tenant."""

    target_days = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1)],
        help_text="Days within which a dispute should be resolved or rejected.")

    history = TenantHistoricalRecords()

    class Meta:
        verbose_name_plural = "dispute policies"
        constraints = [models.UniqueConstraint(fields=["tenant"], name="disputepolicy_once")]

    def __str__(self) -> str:
        return f"Disputes answered within {self.target_days} days"


class Notification(TenantModel):
    """Something a user should see in the app: a dispute opened, answered, an adjustment to
    approve."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="+")
    message = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["tenant", "recipient", "read_at"],
                                name="notification_unread")]

    def __str__(self) -> str:
        return self.message


__all__ = ["AdjustmentReason", "DisputeMessage", "DisputePolicy", "Hold", "Notification"]
