"""CRM facts: configurable Stages, Accounts, Deals with their stage history, Leads and Activities.

Every row carries the CRM's `external_id`, unique per tenant, so imports and the API upsert by it.
Money is NUMERIC(14,2) in the deal's or tenant's currency, never a float.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from spm.org.models import Person
from spm.org.names import name_key
from spm.tenancy.history import TenantHistoricalRecords
from spm.tenancy.models import CURRENCY_VALIDATOR, TenantModel

MONEY = {"max_digits": 14, "decimal_places": 2}
NON_NEGATIVE = [MinValueValidator(Decimal("0"))]


class ForecastCategory(models.TextChoices):
    """Salesforce's forecast categories, which most CRMs export under the same names."""

    PIPELINE = "pipeline", "Pipeline"
    BEST_CASE = "best_case", "Best case"
    COMMIT = "commit", "Commit"
    CLOSED = "closed", "Closed"
    OMITTED = "omitted", "Omitted"


class DealStatus(models.TextChoices):
    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class DealType(models.TextChoices):
    NEW = "new", "New business"
    EXPANSION = "expansion", "Expansion"
    RENEWAL = "renewal", "Renewal"


class Segment(models.TextChoices):
    SMB = "smb", "SMB"
    MID_MARKET = "mid_market", "Mid-market"
    ENTERPRISE = "enterprise", "Enterprise"


class LeadStatus(models.TextChoices):
    NEW = "new", "New"
    WORKING = "working", "Working"
    CONVERTED = "converted", "Converted"
    DISQUALIFIED = "disqualified", "Disqualified"


class ActivityKind(models.TextChoices):
    CALL = "call", "Call"
    EMAIL = "email", "Email"
    MEETING = "meeting", "Meeting"
    DEMO = "demo", "Demo"


class Stage(TenantModel):
    """A step of the tenant's sales process. Won and lost stages close a deal."""

    name = models.CharField(max_length=100)
    order = models.PositiveSmallIntegerField(help_text="Position in the funnel, lowest first.")
    default_probability = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="Chance of winning a deal in this stage, in percent (0-100).",
    )
    forecast_category = models.CharField(
        max_length=16, choices=ForecastCategory.choices, default=ForecastCategory.PIPELINE
    )
    is_won = models.BooleanField(default=False)
    is_lost = models.BooleanField(default=False)

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="stage_unique_name"),
            models.CheckConstraint(
                condition=~(Q(is_won=True) & Q(is_lost=True)), name="stage_not_won_and_lost"
            ),
            models.CheckConstraint(
                condition=Q(default_probability__gte=0) & Q(default_probability__lte=100),
                name="stage_probability_percent",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def deal_status(self) -> str:
        if self.is_won:
            return DealStatus.WON
        if self.is_lost:
            return DealStatus.LOST
        return DealStatus.OPEN


def stage_source_key(value: str) -> str:
    """How stage values are compared: 'Closed Won', 'closed-won' and 'closedwon' are one."""
    return name_key(value).replace(" ", "")


class StageMapping(TenantModel):
    """What a stage value in an imported file means here, when it is not a stage's own name.

    HubSpot exports its internal ids ("contractsent"), other CRMs their own stage names; a
    mapping, made on the import preview, by `import_crm --stage-map` or here, is remembered for
    every later file and wins over any built-in guess.
    """

    source_value = models.CharField(
        max_length=100, help_text="The value as the CRM writes it, e.g. contractsent."
    )
    source_key = models.CharField(max_length=100, editable=False)
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="mappings")

    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["source_value"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "source_key"], name="stage_mapping_unique_source"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_value} -> {self.stage}"

    def clean(self) -> None:
        if not stage_source_key(self.source_value or ""):
            raise ValidationError({"source_value": "Give the value as the CRM writes it."})

    def save(self, *args, **kwargs) -> None:
        self.source_key = stage_source_key(self.source_value)
        super().save(*args, **kwargs)


class Account(TenantModel):
    external_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    industry = models.CharField(max_length=100, blank=True)
    segment = models.CharField(max_length=16, choices=Segment.choices, default=Segment.SMB)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 code.")
    region = models.CharField(max_length=100, blank=True, help_text="State, province or area.")
    postal_code = models.CharField(max_length=20, blank=True)
    employees = models.PositiveIntegerField(null=True, blank=True)
    annual_revenue = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True, validators=NON_NEGATIVE
    )
    potential = models.DecimalField(
        **MONEY,
        null=True,
        blank=True,
        validators=NON_NEGATIVE,
        help_text="What the account could buy from us in a year (territory balancing input).",
    )
    # The CRM's account owner, as the CRM says today. Territories (effective-dated) stay what
    # crediting and attainment follow; this is what people recognise the account by.
    owner = models.ForeignKey(
        "org.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The account's owner in the CRM. Crediting follows deal owners and "
        "territories, not this.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "external_id"], name="account_external_id"),
        ]
        indexes = [
            models.Index(fields=["tenant", "name"]),
            models.Index(fields=["tenant", "country", "region", "postal_code"]),
        ]

    def __str__(self) -> str:
        return self.name


class Deal(TenantModel):
    """An opportunity. `status` mirrors the stage (won / lost / open) so it can be indexed."""

    external_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255, blank=True)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="deals")
    owner = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="deals")
    amount = models.DecimalField(**MONEY, validators=NON_NEGATIVE)
    currency = models.CharField(max_length=3, validators=[CURRENCY_VALIDATOR])
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="deals")
    forecast_category = models.CharField(max_length=16, choices=ForecastCategory.choices)
    status = models.CharField(max_length=8, choices=DealStatus.choices, editable=False)
    created_date = models.DateField()
    close_date = models.DateField(help_text="Actual close date, or the expected one while open.")
    product_line = models.CharField(max_length=100, blank=True)
    deal_type = models.CharField(max_length=16, choices=DealType.choices, default=DealType.NEW)
    units = models.PositiveIntegerField(default=1)
    lost_reason = models.CharField(max_length=255, blank=True)
    margin = models.DecimalField(
        **MONEY, null=True, blank=True, help_text="Gross margin in the deal's currency, if known."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-close_date", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "external_id"], name="deal_external_id"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="deal_amount_not_negative"),
        ]
        indexes = [
            # Bookings by owner and period: won deals of a person, by close date.
            models.Index(
                fields=["tenant", "owner", "close_date"],
                condition=Q(status="won"),
                name="deal_won_by_owner_close",
            ),
            # Pipeline by stage: open deals per stage, bounded by expected close date.
            models.Index(
                fields=["tenant", "stage", "close_date"],
                condition=Q(status="open"),
                name="deal_open_by_stage_close",
            ),
            models.Index(fields=["tenant", "close_date"], name="deal_by_close_date"),
            models.Index(fields=["tenant", "owner", "status"], name="deal_by_owner_status"),
        ]

    def __str__(self) -> str:
        return self.name or self.external_id


class DealStageHistory(TenantModel):
    """One stage change of a deal; the first row of a deal has no `from_stage`.

    The raw material of funnel conversion and velocity. Written only by the deal services.
    """

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_history")
    # The busiest table of all (several rows per deal), so it carries only the indexes its reads
    # need: a deal's history by deal_id, the funnel by (tenant, to_stage, changed_at). Stages are
    # a handful of rows that are never deleted in bulk, so their reverse lookups may scan. The
    # stage links have no database constraint either: PostgreSQL checks a foreign key row by
    # row, which for two links to a seven-row table doubled the cost of writing history. They
    # stay sound because only the deal services write this table, with stages they have just
    # read from the tenant, and on_delete=PROTECT keeps a used stage from being deleted.
    from_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        db_index=False, db_constraint=False,
    )
    to_stage = models.ForeignKey(
        Stage, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", db_index=False,
    )

    class Meta:
        ordering = ["deal", "changed_at", "pk"]
        verbose_name_plural = "deal stage history"
        indexes = [
            models.Index(fields=["tenant", "to_stage", "changed_at"], name="stagehist_by_stage"),
            # Imports and syncs change stages with no user; index only the rows that have one.
            models.Index(
                fields=["changed_by"], condition=Q(changed_by__isnull=False),
                name="stagehist_changed_by",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_id} -> {self.to_stage_id} at {self.changed_at}"


class Lead(TenantModel):
    external_id = models.CharField(max_length=64)
    source = models.CharField(max_length=64, blank=True, help_text="e.g. inbound, event, partner.")
    status = models.CharField(max_length=16, choices=LeadStatus.choices, default=LeadStatus.NEW)
    owner = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="leads"
    )
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads",
        db_index=False,
    )
    converted_deal = models.ForeignKey(
        Deal, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads",
        db_index=False, help_text="The deal this lead became, if it converted.",
    )
    created_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    converted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "external_id"], name="lead_external_id"),
            models.CheckConstraint(
                condition=Q(first_response_at__isnull=True)
                | Q(first_response_at__gte=F("created_at")),
                name="lead_response_after_creation",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "owner", "created_at"], name="lead_by_owner_created"),
            # Most leads have no account or deal: partial indexes keep the reverse lookups fast
            # at a fraction of the write cost.
            models.Index(
                fields=["account"], condition=Q(account__isnull=False), name="lead_account"
            ),
            models.Index(
                fields=["converted_deal"], condition=Q(converted_deal__isnull=False),
                name="lead_converted_deal",
            ),
        ]

    def __str__(self) -> str:
        return self.external_id


class Activity(TenantModel):
    external_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=ActivityKind.choices)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="activities")
    deal = models.ForeignKey(
        Deal, null=True, blank=True, on_delete=models.CASCADE, related_name="activities",
        db_index=False,
    )
    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="activities",
        db_index=False,
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]
        verbose_name_plural = "activities"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "external_id"], name="activity_external_id"),
        ]
        indexes = [
            models.Index(fields=["tenant", "person", "at"], name="activity_by_person_at"),
            # An activity belongs to a deal or to a lead, rarely both: index each only where set.
            models.Index(fields=["deal"], condition=Q(deal__isnull=False), name="activity_deal"),
            models.Index(fields=["lead"], condition=Q(lead__isnull=False), name="activity_lead"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.person_id} at {self.at}"


class ImportKind(models.TextChoices):
    PEOPLE = "people", "People"
    ACCOUNTS = "accounts", "Accounts"
    DEALS = "deals", "Deals"
    LEADS = "leads", "Leads"
    ACTIVITIES = "activities", "Activities"


class ImportStatus(models.TextChoices):
    PREVIEWED = "previewed", "Previewed"
    APPLYING = "applying", "Applying"  # confirmed; a worker is writing it
    APPLIED = "applied", "Applied"
    FAILED = "failed", "Failed"


class ImportBatch(TenantModel):
    """One uploaded file: previewed first, then applied whole or not at all.

    The file is kept here until it is applied, so applying re-reads and re-checks what was
    previewed instead of trusting anything the browser sends back.
    """

    kind = models.CharField(max_length=16, choices=ImportKind.choices)
    file_name = models.CharField(max_length=255)
    sheet = models.CharField(
        max_length=100, blank=True, help_text="The sheet read from a workbook."
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        max_length=16, choices=ImportStatus.choices, default=ImportStatus.PREVIEWED
    )
    content = models.BinaryField(default=b"", editable=False)
    row_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    error_report = models.JSONField(
        default=list, blank=True, help_text="Every problem found: row, column, reason, value."
    )
    notices = models.JSONField(default=list, blank=True)
    preview = models.JSONField(default=dict, blank=True)
    options = models.JSONField(
        default=dict, blank=True,
        help_text="Choices made on upload (create missing accounts, team changes from), kept so "
        "applying checks the file exactly as it was previewed.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "import batches"
        indexes = [models.Index(fields=["tenant", "created_at"], name="importbatch_by_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.file_name}"
