"""What the API reads and writes: one read serializer and one upsert row serializer per kind.

Rows refer to other records the way a CRM knows them — accounts, deals and leads by external id,
people by employee id, stages by name — and the read side shows the same keys (beside the ids),
so what comes out of a GET can be sent back. Money is a decimal string, never a float.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.validators import RegexValidator
from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from spm.crm.models import (
    Account,
    Activity,
    ActivityKind,
    Deal,
    DealStageHistory,
    DealType,
    ForecastCategory,
    Lead,
    LeadStatus,
    Segment,
    Stage,
)
from spm.org.models import Person, SellerRole

MAX_ROWS = 1000
CURRENCY = RegexValidator(r"^[A-Z]{3}$", "Use a three-letter ISO 4217 code, e.g. USD.")
MAX_INT = 2_147_483_647


# -- read ------------------------------------------------------------------------------------------


class PersonSerializer(serializers.ModelSerializer):
    class Meta:
        model = Person
        fields = [
            "id", "employee_id", "name", "email", "title", "role", "hire_date",
            "termination_date", "payout_currency",
        ]


class AccountSerializer(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = [
            "id", "external_id", "name", "industry", "segment", "country", "region",
            "postal_code", "employees", "annual_revenue", "potential",
        ]


class DealSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="account.external_id", read_only=True)
    owner = serializers.CharField(source="owner.employee_id", read_only=True)
    stage = serializers.CharField(source="stage.name", read_only=True)

    class Meta:
        model = Deal
        fields = [
            "id", "external_id", "name", "account_id", "account", "owner_id", "owner",
            "stage_id", "stage", "amount", "currency", "forecast_category", "status",
            "created_date", "close_date", "product_line", "deal_type", "units", "lost_reason",
            "margin", "updated_at",
        ]


class StageChangeSerializer(serializers.ModelSerializer):
    from_stage = serializers.CharField(source="from_stage.name", read_only=True, allow_null=True)
    to_stage = serializers.CharField(source="to_stage.name", read_only=True)

    class Meta:
        model = DealStageHistory
        fields = ["from_stage", "to_stage", "changed_at"]


class DealDetailSerializer(DealSerializer):
    stage_history = StageChangeSerializer(many=True, read_only=True)

    class Meta(DealSerializer.Meta):
        fields = [*DealSerializer.Meta.fields, "stage_history"]


class LeadSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.employee_id", read_only=True, allow_null=True)
    account = serializers.CharField(source="account.external_id", read_only=True, allow_null=True)
    converted_deal = serializers.CharField(
        source="converted_deal.external_id", read_only=True, allow_null=True
    )

    class Meta:
        model = Lead
        fields = [
            "id", "external_id", "source", "status", "owner_id", "owner", "account_id", "account",
            "converted_deal_id", "converted_deal", "created_at", "first_response_at",
            "converted_at",
        ]


class ActivitySerializer(serializers.ModelSerializer):
    person = serializers.CharField(source="person.employee_id", read_only=True)
    deal = serializers.CharField(source="deal.external_id", read_only=True, allow_null=True)
    lead = serializers.CharField(source="lead.external_id", read_only=True, allow_null=True)

    class Meta:
        model = Activity
        fields = [
            "id", "external_id", "kind", "person_id", "person", "deal_id", "deal", "lead_id",
            "lead", "at",
        ]


# -- write: one row of a bulk upsert ---------------------------------------------------------------


def key_field(help_text: str, *, required: bool = False, allow_null: bool = False,
              max_length: int = 64) -> serializers.CharField:
    # DRF's CharField already refuses NUL and lone surrogates, which PostgreSQL cannot store.
    return serializers.CharField(
        max_length=max_length, required=required, allow_null=allow_null, help_text=help_text
    )


def text_field(max_length: int, help_text: str = "") -> serializers.CharField:
    return serializers.CharField(
        max_length=max_length, required=False, allow_blank=True, help_text=help_text
    )


def money_field(*, max_digits: int = 14, negative: bool = False, allow_null: bool = False,
                help_text: str = "") -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=max_digits, decimal_places=2, required=False, allow_null=allow_null,
        min_value=None if negative else 0, help_text=help_text,
    )


class RowSerializer(serializers.Serializer):
    """Checks the types of one row; the upsert service checks everything that needs the data.

    A field left out keeps its stored value on an update; a new record needs the fields its
    model requires. A field this row type does not know is an error, so a typo is not lost.
    """

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        values = super().to_internal_value(data)
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, Mapping) else []
        if unknown:
            raise serializers.ValidationError({key: ["Is not a known field."] for key in unknown})
        return values


class PersonRowSerializer(RowSerializer):
    employee_id = key_field("The HR system's id; the key of the upsert.", required=True)
    name = serializers.CharField(max_length=200, required=False)
    email = serializers.EmailField(required=False)
    title = text_field(200)
    role = serializers.ChoiceField(choices=SellerRole.choices, required=False)
    hire_date = serializers.DateField(required=False, allow_null=True)
    termination_date = serializers.DateField(required=False, allow_null=True)
    payout_currency = serializers.CharField(
        required=False, allow_blank=True, validators=[CURRENCY], max_length=3, min_length=3
    )


class AccountRowSerializer(RowSerializer):
    external_id = key_field("The CRM's id of the account; the key of the upsert.", required=True)
    name = serializers.CharField(max_length=255, required=False)
    industry = text_field(100)
    segment = serializers.ChoiceField(choices=Segment.choices, required=False)
    country = text_field(2, "ISO 3166-1 alpha-2 code.")
    region = text_field(100)
    postal_code = text_field(20)
    employees = serializers.IntegerField(
        min_value=0, max_value=MAX_INT, required=False, allow_null=True
    )
    annual_revenue = money_field(max_digits=16, allow_null=True)
    potential = money_field(allow_null=True, help_text="What the account could buy in a year.")


class DealRowSerializer(RowSerializer):
    external_id = key_field("The CRM's id of the deal; the key of the upsert.", required=True)
    name = text_field(255)
    account = key_field("External id of the deal's account.")
    owner = key_field("Employee id of the deal's owner.")
    stage = key_field("Stage name, exactly as configured for the workspace.", max_length=100)
    amount = money_field()
    currency = serializers.CharField(
        required=False, validators=[CURRENCY], max_length=3, min_length=3,
        help_text="Defaults to the workspace currency.",
    )
    forecast_category = serializers.ChoiceField(
        choices=ForecastCategory.choices, required=False,
        help_text="Defaults to the stage's forecast category.",
    )
    created_date = serializers.DateField(required=False, help_text="Defaults to today.")
    close_date = serializers.DateField(required=False)
    product_line = text_field(100)
    deal_type = serializers.ChoiceField(choices=DealType.choices, required=False)
    units = serializers.IntegerField(min_value=0, max_value=MAX_INT, required=False)
    lost_reason = text_field(255)
    margin = money_field(negative=True, allow_null=True)
    stage_changed_at = serializers.DateTimeField(
        required=False, allow_null=True,
        help_text="When the stage changed in the CRM; recorded in the stage history. "
        "Defaults to the time of the request.",
    )


class LeadRowSerializer(RowSerializer):
    external_id = key_field("The CRM's id of the lead; the key of the upsert.", required=True)
    source = text_field(64, "e.g. inbound, event, partner.")
    status = serializers.ChoiceField(choices=LeadStatus.choices, required=False)
    owner = key_field("Employee id of the lead's owner.", allow_null=True)
    account = key_field("External id of the lead's account.", allow_null=True)
    converted_deal = key_field("External id of the deal the lead became.", allow_null=True)
    created_at = serializers.DateTimeField(required=False)
    first_response_at = serializers.DateTimeField(required=False, allow_null=True)
    converted_at = serializers.DateTimeField(required=False, allow_null=True)


class ActivityRowSerializer(RowSerializer):
    external_id = key_field("The CRM's id of the activity; the key of the upsert.", required=True)
    kind = serializers.ChoiceField(choices=ActivityKind.choices, required=False)
    person = key_field("Employee id of the person who did it.")
    deal = key_field("External id of the deal it was about.", allow_null=True)
    lead = key_field("External id of the lead it was about.", allow_null=True)
    at = serializers.DateTimeField(required=False)


def bulk_request(row: type[RowSerializer], name: str) -> type[serializers.Serializer]:
    """The request body of a bulk upsert: {"rows": [...]} (for the schema)."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "rows": serializers.ListField(child=row(), min_length=1, max_length=MAX_ROWS),
            "__doc__": f"Up to {MAX_ROWS} rows, written all together or not at all.",
        },
    )


class UpsertResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    stage_changes = serializers.IntegerField(required=False)
    ids = serializers.DictField(
        child=serializers.IntegerField(), help_text="Key of each row -> id of its record."
    )


ROW_ERRORS_SCHEMA = {
    "oneOf": [
        {
            "type": "object",
            "description": "Row position (from 0) -> field -> reasons.",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
        },
        {
            "type": "array",
            "description": "What is wrong with the list of rows as a whole.",
            "items": {"type": "string"},
        },
    ]
}


@extend_schema_field(ROW_ERRORS_SCHEMA)
class RowErrorsField(serializers.Field):
    def to_representation(self, value: Any) -> Any:
        return value


class RowErrorsSerializer(serializers.Serializer):
    """400 of a bulk upsert: per row (0-based position in `rows`), per field, the reasons."""

    rows = RowErrorsField(required=False)


# -- references: how a row names other records -----------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """A row field naming another record by its key, stored as `attname` (e.g. account_id)."""

    field: str
    attname: str
    model: type[models.Model]
    key: str

    def describe(self) -> str:
        label = self.model._meta.verbose_name
        what = {"external_id": "external id", "employee_id": "employee id", "name": "name"}
        return f"No {label} with {what.get(self.key, self.key)}"


def resolve_references(
    rows: Sequence[dict[str, Any]], references: Sequence[Reference]
) -> tuple[list[dict[str, Any]], dict[str, dict[str, list[str]]]]:
    """Rows with keys turned into the active tenant's ids, plus errors for unknown keys.

    One query per reference kind. Keys are looked up through the tenant's own manager, so another
    tenant's external id is as unknown as one that never existed.
    """
    ids: dict[str, dict[str, int]] = {}
    for ref in references:
        wanted = {row[ref.field] for row in rows if row.get(ref.field)}
        found = ref.model.objects.filter(**{f"{ref.key}__in": wanted}).values_list(ref.key, "pk")
        ids[ref.field] = dict(found) if wanted else {}
    resolved: list[dict[str, Any]] = []
    errors: dict[str, dict[str, list[str]]] = {}
    for index, row in enumerate(rows):
        out = dict(row)
        for ref in references:
            if ref.field not in row:
                continue
            value = out.pop(ref.field)
            if value in (None, ""):
                out[ref.attname] = None
            elif value in ids[ref.field]:
                out[ref.attname] = ids[ref.field][value]
            else:
                errors.setdefault(str(index), {})[ref.field] = [f"{ref.describe()} {value!r}."]
        resolved.append(out)
    return resolved, errors


DEAL_REFERENCES = [
    Reference("account", "account_id", Account, "external_id"),
    Reference("owner", "owner_id", Person, "employee_id"),
    Reference("stage", "stage_id", Stage, "name"),
]
LEAD_REFERENCES = [
    Reference("owner", "owner_id", Person, "employee_id"),
    Reference("account", "account_id", Account, "external_id"),
    Reference("converted_deal", "converted_deal_id", Deal, "external_id"),
]
ACTIVITY_REFERENCES = [
    Reference("person", "person_id", Person, "employee_id"),
    Reference("deal", "deal_id", Deal, "external_id"),
    Reference("lead", "lead_id", Lead, "external_id"),
]
