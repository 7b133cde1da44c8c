"""A period's pay cycle: calculated, reviewed, approved (by one or two people), paid through a
payroll export, then locked; every transition kept with who, when and why."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from spm.org.models import Period, Person
from spm.tenancy.models import TenantModel

from .common import MONEY


class PayCycleStatus(models.TextChoices):
    OPEN = "open", "Open"
    CALCULATED = "calculated", "Calculated"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    PAID = "paid", "Paid"


#: Statuses in which a recompute must not change the period (locked is Period.status).
FROZEN_STATUSES = (PayCycleStatus.APPROVED, PayCycleStatus.PAID)


class PaySettings(TenantModel):
    """A tenant's pay-cycle rules: above what amount a payee's pay needs a second approver."""

    second_approval_above = models.DecimalField(
        **MONEY, null=True, blank=True,
        help_text="A payee's amount above this needs a second approver who is not the first; "
                  "empty: one approval is enough.")

    class Meta:
        verbose_name_plural = "pay settings"
        constraints = [models.UniqueConstraint(fields=["tenant"], name="paysettings_once")]

    def __str__(self) -> str:
        return f"Pay settings (second approval above {self.second_approval_above})"


class PayCycle(TenantModel):
    """Where a period's pay stands. Locking is the period's own status (spm.org)."""

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=PayCycleStatus.choices,
                              default=PayCycleStatus.OPEN)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "period"],
                                               name="paycycle_once_per_period")]

    def __str__(self) -> str:
        return f"Pay cycle of {self.period} ({self.get_status_display()})"

    @property
    def is_frozen(self) -> bool:
        return self.status in FROZEN_STATUSES


class PayeeApproval(TenantModel):
    """A payee's amount for a cycle as approved, and by whom (twice above the threshold)."""

    cycle = models.ForeignKey(PayCycle, on_delete=models.CASCADE, related_name="approvals")
    payee = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    needs_second = models.BooleanField(default=False)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    approved_at = models.DateTimeField()
    second_approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                           on_delete=models.PROTECT, related_name="+")
    second_approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["payee__name", "pk"]
        constraints = [models.UniqueConstraint(fields=["tenant", "cycle", "payee"],
                                               name="payeeapproval_once")]

    def __str__(self) -> str:
        return f"{self.payee} {self.amount} approved"

    @property
    def complete(self) -> bool:
        return not self.needs_second or self.second_approved_by_id is not None


class PayCycleTransition(TenantModel):
    """One step of a cycle (or of one payee in it): from, to, who, when and why."""

    cycle = models.ForeignKey(PayCycle, on_delete=models.CASCADE, related_name="transitions")
    payee = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    action = models.CharField(max_length=32)
    from_status = models.CharField(max_length=16)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.action}: {self.from_status} -> {self.to_status}"


class PayrollLayout(TenantModel):
    """The tenant's payroll file: which columns, in which order, from a fixed vocabulary."""

    columns = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="payrolllayout_once")]

    def __str__(self) -> str:
        return "Payroll layout: " + ", ".join(self.columns)


class PayrollExport(TenantModel):
    """The exact file a period's payroll export gave, kept so it is the same file forever."""

    cycle = models.ForeignKey(PayCycle, on_delete=models.PROTECT, related_name="exports")
    file_format = models.CharField(max_length=8)
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    summary = models.BinaryField(help_text="The general-ledger summary (CSV).")
    summary_sha256 = models.CharField(max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["tenant", "cycle", "file_format"],
                                               name="payrollexport_once_per_format")]

    def __str__(self) -> str:
        return f"{self.file_format} export of {self.cycle.period_id} ({self.sha256[:12]})"


class PayeePayroll(TenantModel):
    """How payroll knows a payee: their payroll code and cost centre, for the payroll file."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="+")
    payroll_code = models.CharField(max_length=64, blank=True)
    cost_centre = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name_plural = "payee payroll codes"

    def __str__(self) -> str:
        return f"{self.person}: {self.payroll_code} / {self.cost_centre}"
