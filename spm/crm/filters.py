"""Filters of the account and deal list pages (django-filter), with choices scoped per member.

A value that does not validate (a bad date, an owner the member may not see, an unknown stage) is
reported by the page and left out of the query: bad input narrows nothing and never fails.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from spm.org.models import Period, Person
from spm.web import style_filter_form

from .models import Account, Deal, DealStatus, DealType, Segment, Stage

#: Above this many visible people the owner select would be too long to use (and to send), so
#: the page offers a name search instead; a link from a person's page still filters by id.
OWNER_SELECT_LIMIT = 300


class DealFilterForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("close_from"), cleaned.get("close_to")
        if start and end and start > end:
            self.add_error("close_to", "The end of the close-date range is before its start.")
        return cleaned


class DealFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    # Per-request querysets (set in __init__): the people and periods of the active tenant.
    owner = django_filters.ModelChoiceFilter(queryset=None, empty_label="Any owner")
    owner_name = django_filters.CharFilter(method="owner_search", label="Owner")
    stage = django_filters.ModelChoiceFilter(queryset=None, empty_label="Any stage")
    status = django_filters.ChoiceFilter(choices=DealStatus.choices, empty_label="Any status")
    period = django_filters.ModelChoiceFilter(
        queryset=None, method="in_period", label="Fiscal period", empty_label="Any period"
    )
    close_from = django_filters.DateFilter(
        field_name="close_date", lookup_expr="gte", label="Close from"
    )
    close_to = django_filters.DateFilter(
        field_name="close_date", lookup_expr="lte", label="Close to"
    )
    deal_type = django_filters.ChoiceFilter(
        choices=DealType.choices, label="Type", empty_label="Any type"
    )
    product_line = django_filters.ChoiceFilter(
        choices=[], label="Product line", empty_label="Any product line"
    )
    account = django_filters.ModelChoiceFilter(queryset=None, widget=forms.HiddenInput)

    class Meta:
        model = Deal
        form = DealFilterForm
        fields = [
            "q", "owner", "owner_name", "stage", "status", "period", "close_from", "close_to",
            "deal_type", "product_line", "account",
        ]

    def __init__(
        self,
        *args: Any,
        owners: QuerySet[Person],
        owner_count: int,
        product_lines: list[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.filters["owner"].queryset = owners.order_by("name")
        self.filters["stage"].queryset = Stage.objects.order_by("order", "name")
        self.filters["period"].queryset = Period.objects.order_by("start_date", "-end_date")
        self.filters["account"].queryset = Account.objects.all()
        self.filters["product_line"].extra["choices"] = [(p, p) for p in product_lines]
        self.owner_select = owner_count <= OWNER_SELECT_LIMIT
        if self.owner_select:
            del self.filters["owner_name"]
        else:
            self.filters["owner"].extra["widget"] = forms.HiddenInput
        style_filter_form(self.form)

    def search(self, queryset: QuerySet[Deal], name: str, value: str) -> QuerySet[Deal]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(external_id__iexact=value)
            | Q(account__name__icontains=value)
        )

    def owner_search(self, queryset: QuerySet[Deal], name: str, value: str) -> QuerySet[Deal]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(owner__name__icontains=value) | Q(owner__employee_id__iexact=value)
        )

    def in_period(self, queryset: QuerySet[Deal], name: str, value: Period) -> QuerySet[Deal]:
        # Period ends are exclusive, like every date range that governs money here.
        return queryset.filter(close_date__gte=value.start_date, close_date__lt=value.end_date)


class AccountFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    segment = django_filters.ChoiceFilter(choices=Segment.choices, empty_label="Any segment")
    industry = django_filters.ChoiceFilter(choices=[], empty_label="Any industry")
    country = django_filters.ChoiceFilter(choices=[], empty_label="Any country")

    class Meta:
        model = Account
        fields = ["q", "segment", "industry", "country"]

    def __init__(
        self, *args: Any, industries: list[str], countries: list[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.filters["industry"].extra["choices"] = [(i, i) for i in industries]
        self.filters["country"].extra["choices"] = [(c, c) for c in countries]
        style_filter_form(self.form)

    def search(self, queryset: QuerySet[Account], name: str, value: str) -> QuerySet[Account]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(external_id__iexact=value))
