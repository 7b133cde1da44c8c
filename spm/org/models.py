"""Person (anyone who can be credited or manage), Team (a tree), effective-dated team membership,
and Period (a fiscal month, quarter or year of the tenant's calendar)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from spm.tenancy.dating import EffectiveDatedModel, validate_no_overlap
from spm.tenancy.history import TenantHistoricalRecords
from spm.tenancy.models import CURRENCY_VALIDATOR, TenantModel


class SellerRole(models.TextChoices):
    REP = "rep", "Account executive"
    MANAGER = "manager", "Manager"
    SDR = "sdr", "SDR / BDR"
    OVERLAY = "overlay", "Overlay specialist"
    OTHER = "other", "Other"


class Person(TenantModel):
    employee_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    email = models.EmailField()
    title = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=16, choices=SellerRole.choices, default=SellerRole.REP)
    hire_date = models.DateField(null=True, blank=True)
    termination_date = models.DateField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The login that sees this person's own pages.",
    )
    payout_currency = models.CharField(max_length=3, blank=True, validators=[CURRENCY_VALIDATOR])

    history = TenantHistoricalRecords(excluded_fields=["user"])

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "employee_id"], name="person_employee_id"),
            models.UniqueConstraint(
                fields=["tenant", "user"],
                condition=Q(user__isnull=False),
                name="person_one_per_user",
            ),
            models.CheckConstraint(
                condition=Q(termination_date__isnull=True)
                | Q(hire_date__isnull=True)
                | Q(termination_date__gte=F("hire_date")),
                name="person_terminated_after_hire",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "name"])]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.hire_date and self.termination_date and self.termination_date < self.hire_date:
            raise ValidationError({"termination_date": "Cannot be before the hire date."})


class TitleRoleRule(TenantModel):
    """Gives imported people whose job title contains `title_contains` the seller `role`.

    A roster carries titles ("Regional Sales Manager"), not seller roles; these rules, tried
    lowest `priority` first, say which role a title means. The built-in rules of
    spm.org.titles apply after the tenant's own.
    """

    title_contains = models.CharField(
        max_length=100,
        help_text="Whole words the title contains, e.g. 'account manager'. Case, accents and "
        "punctuation are ignored.",
    )
    role = models.CharField(max_length=16, choices=SellerRole.choices)
    priority = models.PositiveIntegerField(
        default=100, help_text="Rules are tried lowest first; the first match wins."
    )

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["priority", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "title_contains"], name="title_role_rule_unique_words"
            ),
        ]

    def __str__(self) -> str:
        return f"'{self.title_contains}' -> {self.get_role_display()}"

    def clean(self) -> None:
        from .names import name_key

        if not name_key(self.title_contains or ""):
            raise ValidationError({"title_contains": "Give at least one word (letters or digits)."})


class Team(TenantModel):
    """A node of the sales organisation. `path` ("/1/4/9/") makes subtree reads one query."""

    name = models.CharField(max_length=200)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    manager = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_teams"
    )
    path = models.CharField(max_length=512, editable=False, default="")

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "parent", "name"], name="team_unique_name"),
        ]
        indexes = [models.Index(fields=["tenant", "path"])]

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return max(self.path.count("/") - 2, 0)

    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]


class TeamMembership(EffectiveDatedModel):
    """Person in team from valid_from (inclusive) to valid_to (exclusive, null = open)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="team_memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["person", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="team_membership_valid_range",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "team", "valid_from"]),
            # "Which team was this person in on that day" (manager chain, crediting rollups).
            models.Index(fields=["tenant", "person", "valid_from"]),
        ]

    def __str__(self) -> str:
        return f"{self.person} in {self.team} from {self.valid_from}"

    def clean(self) -> None:
        self.clean_range()
        if self.person_id:
            validate_no_overlap(
                self, TeamMembership.objects.filter(person_id=self.person_id)
                .select_related("team"),
                message=lambda other, span: (
                    "This person is already in a team for part of these dates: in "
                    f"{other.team} {span}."),
            )


class PeriodKind(models.TextChoices):
    MONTH = "month", "Month"
    QUARTER = "quarter", "Quarter"
    YEAR = "year", "Year"


class PeriodStatus(models.TextChoices):
    OPEN = "open", "Open"
    LOCKED = "locked", "Locked"


class Period(TenantModel):
    """A fiscal month, quarter or year: start inclusive, end exclusive.

    Generated from the tenant's fiscal-year start month by `periods_generate`; a fiscal year is
    named after the calendar year it ends in (Feb start: FY2027 = Feb 2026 to Jan 2027). Finance
    locks a period once it has been paid, so later calculations cannot rewrite it.
    """

    kind = models.CharField(max_length=8, choices=PeriodKind.choices)
    fiscal_year = models.PositiveSmallIntegerField()
    number = models.PositiveSmallIntegerField(help_text="1-based within the fiscal year.")
    start_date = models.DateField(help_text="First day, inclusive.")
    end_date = models.DateField(help_text="Day after the last day (exclusive).")
    label = models.CharField(max_length=40)
    status = models.CharField(
        max_length=8, choices=PeriodStatus.choices, default=PeriodStatus.OPEN
    )

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["start_date", "-end_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "fiscal_year", "number"], name="period_unique_number"
            ),
            models.UniqueConstraint(
                fields=["tenant", "kind", "start_date"], name="period_unique_start"
            ),
            models.CheckConstraint(
                condition=Q(end_date__gt=F("start_date")), name="period_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "kind", "end_date"])]

    def __str__(self) -> str:
        return self.label

    @property
    def is_locked(self) -> bool:
        return self.status == PeriodStatus.LOCKED

    @property
    def last_day(self) -> datetime.date:
        return self.end_date - datetime.timedelta(days=1)

    def contains(self, day: datetime.date) -> bool:
        return self.start_date <= day < self.end_date
