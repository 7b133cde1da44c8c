"""Calculation runs, the changes waiting for one, and the lines and totals a run writes."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from spm.crm.models import Deal
from spm.org.models import Period, Person
from spm.tenancy.models import Tenant, TenantModel

from .common import MONEY
from .crediting import Credit
from .plans import Component, PlanVersion


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
