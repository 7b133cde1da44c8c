"""People pages: the people list, the team tree and a person's detail, each scoped by role."""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from spm.tenancy.today import tenant_today
from spm.web import (
    detail_only_get,
    page_query,
    paginate,
    report_ignored_filters,
    sort_links,
    sort_order,
    style_filter_form,
)

from .models import Person, SellerRole, Team
from .selectors import (
    manager_chain,
    people_in_team,
    people_visible_to,
    person_team_history,
    placements_of,
    team_of_person,
    team_tree,
    teams_visible_to,
    visible_person_ids,
)

# -- people list ---------------------------------------------------------------------------------

PERSON_SORTS = {
    "name": "name",
    "title": "title",
    "role": "role",
    "hired": "hire_date",
    "left": "termination_date",
}


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


@require_safe
def person_list(request: HttpRequest) -> HttpResponse:
    today = tenant_today(request.tenant)
    teams = teams_visible_to(membership=request.membership, on=today)
    people = people_visible_to(membership=request.membership, on=today)
    filterset = PersonFilter(request.GET or None, queryset=people, teams=teams, today=today)
    report_ignored_filters(request, filterset.form)
    sort, order = sort_order(request.GET.get("sort"), allowed=PERSON_SORTS, default="name")
    page = paginate(request, filterset.qs.order_by(*order))
    rows = list(page.object_list)
    placements = placements_of(people=rows, on=today)
    return render(
        request,
        "org/person_list.html",
        {
            "filter_form": filterset.form,
            "filtered": any(v for k, v in request.GET.items() if k not in ("sort", "page")),
            "page": page,
            "rows": [(person, placements[person.pk]) for person in rows],
            "sorts": sort_links(request, allowed=PERSON_SORTS, current=sort),
            "page_query": page_query(request),
            "today": today,
        },
    )


def _openable(request: HttpRequest, today: datetime.date) -> dict[str, Any]:
    """Whose pages the member may open, so templates link only to pages that will not 404."""
    ids = visible_person_ids(membership=request.membership, on=today)
    return {"see_everyone": ids is None, "visible_ids": ids or set()}


# -- team tree -----------------------------------------------------------------------------------


@require_safe
def team_tree_page(request: HttpRequest) -> HttpResponse:
    today = tenant_today(request.tenant)
    teams = teams_visible_to(membership=request.membership, on=today)
    roots = team_tree(teams=teams, on=today)
    return render(
        request,
        "org/team_tree.html",
        {
            "roots": roots,
            "team_count": len(teams),
            "today": today,
            **_openable(request, today),
        },
    )


# -- person detail -------------------------------------------------------------------------------


def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    today = tenant_today(request.tenant)
    ids = visible_person_ids(membership=request.membership, on=today)
    if ids is not None and pk not in ids:
        raise Http404("No such person.")
    person = Person.objects.filter(pk=pk).first()
    if person is None:
        raise Http404("No such person.")
    if (refused := detail_only_get(request)) is not None:
        return refused
    chain = manager_chain(person=person, on=today)
    return render(
        request,
        "org/person_detail.html",
        {
            "person": person,
            "team": team_of_person(person=person, on=today),
            "manager_chain": chain,
            "history": list(person_team_history(person=person)),
            "led_teams": list(Team.objects.filter(manager=person).order_by("path")),
            "today": today,
            "see_everyone": ids is None,
            "visible_ids": ids or set(),
        },
    )


person_detail.model = Person  # type: ignore[attr-defined]
