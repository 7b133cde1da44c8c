"""Payees' electronic acceptance of the plan versions they are paid on, and the reminders
finance sends to those who have not accepted yet."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from spm.org.models import Person
from spm.tenancy.history import TenantHistoricalRecords
from spm.tenancy.models import TenantModel

from .plans import PlanVersion


class PlanAcceptance(TenantModel):
    """`person` accepted exactly `version` at `accepted_at`, signed in as `accepted_by`.

    Published versions never change, so an acceptance holds for the text the person read; a new
    version needs an acceptance of its own.
    """

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="plan_acceptances")
    version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT,
                                related_name="acceptances")
    # The version's fingerprint when accepted: proof of the exact document, kept with the row.
    fingerprint = models.CharField(max_length=64, blank=True)
    accepted_at = models.DateTimeField()
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["-accepted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "person", "version"], name="planacceptance_once",
                violation_error_message="This plan version has been accepted already.",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "version", "person"])]

    def __str__(self) -> str:
        return f"{self.person} accepted {self.version_id} on {self.accepted_at:%Y-%m-%d}"


class PlanReminder(TenantModel):
    """An in-app notice to `person` that `version` awaits their acceptance (also emailed)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="plan_reminders")
    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="reminders")
    message = models.TextField()
    sent_at = models.DateTimeField()
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    emailed_to = models.EmailField(blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["tenant", "person", "read_at"])]

    def __str__(self) -> str:
        return f"reminder to {self.person} about {self.version_id}"
