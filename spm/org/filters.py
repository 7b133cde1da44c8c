"""Filters of the people list (django-filter), with the team choices scoped per member."""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django.db.models import Q, QuerySet

from spm.web import style_filter_form

from .models import Person, SellerRole, Team
from .selectors import people_in_team


class PersonFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    role = django_filters.ChoiceFilter(choices=SellerRole.choices, empty_label="Any role")
    # The real choices are set per request: the teams this member may see.
    team = django_filters.ModelChoiceFilter(
        queryset=None, method="in_team", label="Team", empty_label="Any team"
    )
    status = django_filters.ChoiceFilter(
        choices=[("active", "Active"), ("left", "Left")],
        method="by_status",
        label="Status",
        empty_label="Active and left",
    )

    class Meta:
        model = Person
        fields = ["q", "role", "team", "status"]

    def __init__(self, *args: Any, teams: list[Team], today: datetime.date, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.today = today
        self.filters["team"].queryset = Team.objects.filter(pk__in=[t.pk for t in teams])
        style_filter_form(self.form)
        # Indent by depth so the select reads like the tree (Team orders by path).
        self.form.fields["team"].label_from_instance = lambda t: f"{'· ' * t.depth}{t.name}"

    def search(self, queryset: QuerySet[Person], name: str, value: str) -> QuerySet[Person]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(email__icontains=value) | Q(employee_id__iexact=value)
        )

    def in_team(self, queryset: QuerySet[Person], name: str, value: Team) -> QuerySet[Person]:
        return people_in_team(people=queryset, team=value, on=self.today)

    def by_status(self, queryset: QuerySet[Person], name: str, value: str) -> QuerySet[Person]:
        left = Q(termination_date__lte=self.today)
        return queryset.filter(left) if value == "left" else queryset.exclude(left)
