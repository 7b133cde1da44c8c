"""Territory tree, effective-dated ownership, assignment rules, effective-dated account assignment,
the audited changes that write assignments, and balancing proposals with their moves."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from spm.crm.models import Account, Segment
from spm.org.models import Person
from spm.tenancy.dating import EffectiveDatedModel, validate_no_overlap
from spm.tenancy.history import TenantHistoricalRecords
from spm.tenancy.models import TenantModel

from .matching import RuleCriteria, invalid_countries, invalid_postal_prefixes, split_values


class TerritoryLevel(models.TextChoices):
    REGION = "region", "Region"
    AREA = "area", "Area"
    TERRITORY = "territory", "Territory"


class Territory(TenantModel):
    """A node of the territory tree. `path` ("/1/4/9/") makes subtree reads one query."""

    name = models.CharField(max_length=200)
    level = models.CharField(
        max_length=16, choices=TerritoryLevel.choices, default=TerritoryLevel.TERRITORY
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=512, editable=False, default="")

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "territories"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "parent", "name"], name="territory_unique_name"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "path"])]

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return max(self.path.count("/") - 2, 0)

    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]


class OwnerRole(models.TextChoices):
    PRIMARY = "primary", "Owner"
    OVERLAY = "overlay", "Overlay"


class TerritoryOwner(EffectiveDatedModel):
    """Person owns a territory in a role from valid_from (inclusive) to valid_to (exclusive).

    One person per territory and role at a time; a person may own several territories.
    """

    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="owners")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="territory_owners")
    role = models.CharField(max_length=16, choices=OwnerRole.choices, default=OwnerRole.PRIMARY)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["territory", "role", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="territory_owner_valid_range",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "territory", "valid_from"]),
            models.Index(fields=["tenant", "person", "valid_from"]),
        ]

    def __str__(self) -> str:
        return f"{self.person} owns {self.territory} from {self.valid_from}"

    def clean(self) -> None:
        self.clean_range()
        if self.territory_id:
            validate_no_overlap(
                self,
                TerritoryOwner.objects.filter(territory_id=self.territory_id, role=self.role)
                .select_related("person"),
                message=lambda other, span: (
                    f"{other.person} already holds the {other.get_role_display().lower()} "
                    f"role of this territory {span}; end that ownership first or choose "
                    "dates that do not overlap."
                ),
            )


class AssignmentRule(TenantModel):
    """Accounts meeting every criterion go to `territory`. Lower `priority` is tried first."""

    name = models.CharField(max_length=200)
    priority = models.PositiveIntegerField(
        help_text="Rules are tried lowest first; the first match wins."
    )
    territory = models.ForeignKey(
        Territory, on_delete=models.PROTECT, related_name="assignment_rules"
    )
    countries = models.CharField(
        max_length=500, blank=True, help_text="ISO codes, comma separated, e.g. US, CA."
    )
    regions = models.CharField(
        max_length=1000, blank=True, help_text="States or provinces, comma separated."
    )
    postal_prefixes = models.CharField(
        max_length=1000, blank=True,
        help_text="Postal code beginnings, comma separated, e.g. 94, 95.",
    )
    industries = models.CharField(max_length=1000, blank=True, help_text="Comma separated.")
    segments = models.CharField(
        max_length=100, blank=True,
        help_text=f"Comma separated: {', '.join(Segment.values)}.",
    )
    min_employees = models.PositiveIntegerField(null=True, blank=True)
    max_employees = models.PositiveIntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["priority", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "priority"], name="rule_unique_priority"),
            models.CheckConstraint(
                condition=Q(min_employees__isnull=True) | Q(max_employees__isnull=True)
                | Q(max_employees__gte=F("min_employees")),
                name="rule_employee_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.priority}. {self.name}"

    def criteria(self) -> RuleCriteria:
        return RuleCriteria(
            rule_id=self.pk or 0,
            territory_id=self.territory_id or 0,
            countries=tuple(c.upper() for c in split_values(self.countries)),
            regions=tuple(split_values(self.regions)),
            postal_prefixes=tuple(split_values(self.postal_prefixes)),
            industries=tuple(split_values(self.industries)),
            segments=tuple(split_values(self.segments)),
            min_employees=self.min_employees,
            max_employees=self.max_employees,
        )

    def clean(self) -> None:
        errors: dict[str, str] = {}
        bad = invalid_countries(split_values(self.countries))
        if bad:
            errors["countries"] = (
                f"Not two-letter country codes: {', '.join(bad)}. Use ISO codes such as US, DE."
            )
        bad = invalid_postal_prefixes(split_values(self.postal_prefixes))
        if bad:
            errors["postal_prefixes"] = (
                f"Not postal code beginnings: {', '.join(bad)}. Use letters, digits, spaces or "
                "hyphens, up to 10 characters each, separated by commas."
            )
        bad = [s for s in split_values(self.segments) if s not in Segment.values]
        if bad:
            errors["segments"] = (
                f"Unknown segments: {', '.join(bad)}. Choose from {', '.join(Segment.values)}."
            )
        if (
            self.min_employees is not None
            and self.max_employees is not None
            and self.max_employees < self.min_employees
        ):
            errors["max_employees"] = "Must be at least the minimum number of employees."
        if not errors and self.criteria().is_empty:
            errors["__all__"] = (
                "A rule needs at least one criterion (country, region, postal prefix, industry, "
                "segment or employee range); without one it would take every account."
            )
        if errors:
            raise ValidationError(errors)


class ChangeKind(models.TextChoices):
    RULES = "rules", "Assignment rules applied"
    BALANCING = "balancing", "Balancing proposal accepted"
    MANUAL = "manual", "Manual assignment"


class AssignmentChange(TenantModel):
    """One atomic change of account assignments: who made it, when, from which date, and what."""

    kind = models.CharField(max_length=16, choices=ChangeKind.choices)
    effective_date = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    moved_count = models.PositiveIntegerField(
        default=0, help_text="Accounts whose territory changed."
    )
    summary = models.JSONField(
        default=list, blank=True, help_text="Moves counted per from and to territory."
    )
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["tenant", "created_at"], name="assignchange_by_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.effective_date} ({self.moved_count} moved)"


class AccountAssignment(EffectiveDatedModel):
    """Account in territory from valid_from (inclusive) to valid_to (exclusive, null = open).

    Never two at once for one account: a partial unique index allows one open row, and on
    PostgreSQL an exclusion constraint (migration 0002) forbids any overlap of closed rows too.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="assignments")
    territory = models.ForeignKey(
        Territory, on_delete=models.PROTECT, related_name="account_assignments"
    )
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    opened_by = models.ForeignKey(
        AssignmentChange, null=True, blank=True, on_delete=models.PROTECT, related_name="opened"
    )
    closed_by = models.ForeignKey(
        AssignmentChange, null=True, blank=True, on_delete=models.PROTECT, related_name="closed"
    )

    class Meta:
        ordering = ["account", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="account_assignment_valid_range",
            ),
            models.UniqueConstraint(
                fields=["tenant", "account"],
                condition=Q(valid_to__isnull=True),
                name="account_assignment_one_open",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "account", "valid_from"], name="assign_by_account"),
            models.Index(fields=["tenant", "territory", "valid_from"], name="assign_by_territory"),
        ]

    def __str__(self) -> str:
        return f"{self.account} in {self.territory} from {self.valid_from}"

    def clean(self) -> None:
        self.clean_range()
        if self.account_id:
            validate_no_overlap(
                self,
                AccountAssignment.objects.filter(account_id=self.account_id)
                .select_related("territory"),
                message=lambda other, span: (
                    f"This account is already in {other.territory} {span}; an account can be "
                    "in one territory at a time."
                ),
            )


class ProposalStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class BalancingProposal(TenantModel):
    """Reassignments the balancer suggests, with balance figures before and after, to accept
    (applied through an AssignmentChange) or reject."""

    scope = models.ForeignKey(
        Territory, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="Balance the leaf territories under this one; empty means every leaf.",
    )
    effective_date = models.DateField()
    tolerance_pct = models.DecimalField(max_digits=5, decimal_places=2)
    count_tolerance_pct = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True,
        help_text="Tolerance on account counts (workload); empty means counts are not balanced.",
    )
    status = models.CharField(
        max_length=16, choices=ProposalStatus.choices, default=ProposalStatus.PROPOSED
    )
    method = models.CharField(max_length=100, blank=True)
    solver_status = models.CharField(max_length=50, blank=True)
    lower_bound = models.PositiveIntegerField(
        null=True, blank=True, help_text="No proposal can move fewer accounts than this."
    )
    figures = models.JSONField(default=dict, blank=True)
    elapsed_seconds = models.FloatField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    change = models.ForeignKey(
        AssignmentChange, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Balancing proposal {self.pk} from {self.effective_date} ({self.status})"


class BalancingMove(TenantModel):
    proposal = models.ForeignKey(
        BalancingProposal, on_delete=models.CASCADE, related_name="moves"
    )
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    from_territory = models.ForeignKey(
        Territory, on_delete=models.CASCADE, related_name="+"
    )
    to_territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="+")
    potential = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    class Meta:
        ordering = ["proposal", "from_territory", "-potential"]
        indexes = [models.Index(fields=["tenant", "proposal"], name="balmove_by_proposal")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.from_territory_id} -> {self.to_territory_id}"
