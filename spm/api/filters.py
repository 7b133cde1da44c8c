"""Query-string filters of the list endpoints (django-filter).

Every filter checks its input before a query is built (ids fit a bigint, text has a length limit
and no NUL byte, moments stay within the years 1-9999 in UTC), so a bad value is a 400 naming the
parameter, never a database error. The limits are also written into the OpenAPI schema.
"""

from __future__ import annotations

import datetime
from typing import Any

import django_filters as df
from django import forms
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField, RangeField
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.widgets import DateRangeWidget
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.drainage import add_trace_message
from drf_spectacular.plumbing import get_view_model
from drf_spectacular.utils import extend_schema_field

from spm.crm.models import (
    Account,
    Activity,
    ActivityKind,
    Deal,
    DealStatus,
    DealType,
    ForecastCategory,
    Lead,
    LeadStatus,
    Segment,
)
from spm.org.models import Person, SellerRole

MAX_ID = 2**63 - 1
NO_NUL = r"^[^\u0000]*$"


class TenantFilterBackend(DjangoFilterBackend):
    """django-filter's backend; a class of its own so the schema extension below applies."""


class TenantFilterSchema(DjangoFilterExtension):
    """Describes the filters to OpenAPI without a tenant, through the model's unscoped door.

    drf-spectacular's own extension asks the default manager for an empty queryset, which (by
    design) raises when no tenant is active, as is the case while the schema is generated.
    """

    target_class = TenantFilterBackend
    priority = 1

    def get_schema_operation_parameters(self, auto_schema: Any, *args: Any, **kwargs: Any):
        model = get_view_model(auto_schema.view)
        if not model:
            return []
        filterset_class = self.target.get_filterset_class(auto_schema.view, model.unscoped.none())
        if not filterset_class:
            return []
        parameters = []
        with add_trace_message(filterset_class):
            for name, field in filterset_class.base_filters.items():
                parameters += self.resolve_filter_field(
                    auto_schema, model, filterset_class, name, field
                )
        return parameters


class BoundedIsoDateTimeField(IsoDateTimeField):
    def to_python(self, value: Any) -> datetime.datetime | None:
        moment = super().to_python(value)
        if moment is None:
            return None
        # In UTC: PostgreSQL refuses offsets beyond ±15:59, which ISO 8601 allows.
        try:
            return moment.astimezone(datetime.UTC)
        except OverflowError:
            raise ValidationError("Enter a moment between the years 1 and 9999.") from None


class BoundedIsoDateTimeRangeField(RangeField):
    widget = DateRangeWidget

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__((BoundedIsoDateTimeField(), BoundedIsoDateTimeField()), *args, **kwargs)


class MomentFilter(df.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


class MomentRangeFilter(df.IsoDateTimeFromToRangeFilter):
    field_class = BoundedIsoDateTimeRangeField


def id_filter(field_name: str, help_text: str) -> df.NumberFilter:
    flt = df.NumberFilter(field_name=field_name, help_text=help_text)
    flt.field_class = forms.IntegerField
    flt.extra.update(min_value=1, max_value=MAX_ID)
    schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID, "description": help_text}
    return extend_schema_field(schema)(flt)


def text_filter(
    field_name: str, help_text: str, *, max_length: int = 64, lookup_expr: str = "exact"
) -> df.CharFilter:
    flt = df.CharFilter(
        field_name=field_name, lookup_expr=lookup_expr, help_text=help_text, max_length=max_length
    )
    schema = {
        "type": "string", "minLength": 1, "maxLength": max_length, "pattern": NO_NUL,
        "description": help_text,
    }
    return extend_schema_field(schema)(flt)


def query_parameters(filterset_class: type[df.FilterSet]) -> dict[str, str]:
    """Query parameter -> name of the filter that reads it (a range filter reads two)."""
    ranges = df.RangeFilter | df.DateFromToRangeFilter | df.IsoDateTimeFromToRangeFilter
    names = {}
    for name, flt in filterset_class.base_filters.items():
        if isinstance(flt, ranges):
            names[f"{name}_after"] = name
            names[f"{name}_before"] = name
        else:
            names[name] = name
    return names


class StrictFilterSet(df.FilterSet):
    """A filter given with an empty value is a 400: django-filter would silently ignore it."""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        parameters = query_parameters(type(self))
        for param, value in self.data.items():
            if value == "" and param in parameters:
                self.form.add_error(
                    parameters[param], f"{param} is empty: give a value or leave it out."
                )
                valid = False
        return valid


class PersonFilter(StrictFilterSet):
    role = df.ChoiceFilter(choices=SellerRole.choices)
    employee_id = text_filter("employee_id", "Exact employee id.")
    email = text_filter("email", "Email, ignoring case.", max_length=254, lookup_expr="iexact")
    active_on = df.DateFilter(
        method="filter_active_on", help_text="Only people employed on this date (YYYY-MM-DD)."
    )

    class Meta:
        model = Person
        fields: list[str] = []

    def filter_active_on(self, queryset, name: str, value: datetime.date):
        return queryset.exclude(hire_date__gt=value).exclude(termination_date__lt=value)


class AccountFilter(StrictFilterSet):
    external_id = text_filter("external_id", "Exact external id.")
    segment = df.ChoiceFilter(choices=Segment.choices)
    country = text_filter(
        "country", "ISO 3166-1 alpha-2 code, ignoring case.", max_length=2, lookup_expr="iexact"
    )
    region = text_filter("region", "Region, ignoring case.", max_length=100, lookup_expr="iexact")
    industry = text_filter(
        "industry", "Industry, ignoring case.", max_length=100, lookup_expr="iexact"
    )
    name = text_filter("name", "Name contains.", max_length=255, lookup_expr="icontains")

    class Meta:
        model = Account
        fields: list[str] = []


class DealFilter(StrictFilterSet):
    owner = id_filter("owner_id", "Owner's person id.")
    owner_employee_id = text_filter("owner__employee_id", "Owner's employee id.")
    account = id_filter("account_id", "Account id.")
    account_external_id = text_filter("account__external_id", "Account's external id.")
    stage = text_filter("stage__name", "Stage name, exactly as configured.", max_length=100)
    status = df.ChoiceFilter(choices=DealStatus.choices)
    deal_type = df.ChoiceFilter(choices=DealType.choices)
    forecast_category = df.ChoiceFilter(choices=ForecastCategory.choices)
    product_line = text_filter("product_line", "Product line.", max_length=100)
    close_date = df.DateFromToRangeFilter(
        help_text="close_date_after / close_date_before, both inclusive (YYYY-MM-DD)."
    )
    created_date = df.DateFromToRangeFilter(
        help_text="created_date_after / created_date_before, both inclusive (YYYY-MM-DD)."
    )
    updated_since = MomentFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="Changed at or after this moment (ISO 8601): for incremental syncs.",
    )

    class Meta:
        model = Deal
        fields: list[str] = []


class LeadFilter(StrictFilterSet):
    owner = id_filter("owner_id", "Owner's person id.")
    owner_employee_id = text_filter("owner__employee_id", "Owner's employee id.")
    status = df.ChoiceFilter(choices=LeadStatus.choices)
    source = text_filter("source", "Source, ignoring case.", lookup_expr="iexact")
    created_at = MomentRangeFilter(
        help_text="created_at_after / created_at_before, both inclusive (ISO 8601)."
    )

    class Meta:
        model = Lead
        fields: list[str] = []


class ActivityFilter(StrictFilterSet):
    person = id_filter("person_id", "Person id.")
    person_employee_id = text_filter("person__employee_id", "Person's employee id.")
    kind = df.ChoiceFilter(choices=ActivityKind.choices)
    deal = id_filter("deal_id", "Deal id.")
    lead = id_filter("lead_id", "Lead id.")
    at = MomentRangeFilter(help_text="at_after / at_before, both inclusive (ISO 8601).")

    class Meta:
        model = Activity
        fields: list[str] = []
