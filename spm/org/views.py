"""People pages: the people list, the team tree and a person's detail, each scoped by role.

Also the small list helpers (whitelisted sorting, pagination) the CRM pages share.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import django_filters
from django import forms
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.views.decorators.http import require_safe

from spm.tenancy.today import tenant_today

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

PAGE_SIZE = 50


# -- list helpers shared with the CRM pages ------------------------------------------------------


@dataclass(frozen=True)
class SortLink:
    url: str
    direction: str | None  # "asc" or "desc" when the list is sorted by this column


def sort_order(
    raw: str | None, *, allowed: Mapping[str, str], default: str
) -> tuple[str, list[str]]:
    """The sort key in force and its order_by fields.

    Only keys of `allowed` map to fields, so raw input never reaches order_by; anything else
    falls back to `default`. A trailing "-pk" keeps pages stable when values tie.
    """
    key = raw if isinstance(raw, str) and raw.lstrip("-") in allowed else default
    field_name = allowed[key.lstrip("-")]
    prefix = "-" if key.startswith("-") else ""
    return key, [f"{prefix}{field_name}", "-pk"]


def sort_links(request: HttpRequest, *, allowed: Mapping[str, str], current: str) -> dict:
    """For each sortable column, the URL that sorts by it (toggling direction when it is current),
    keeping every other parameter but the page."""
    links: dict[str, SortLink] = {}
    for key in allowed:
        params = request.GET.copy()
        params.pop("page", None)
        direction = None
        if current == key:
            direction, params["sort"] = "asc", f"-{key}"
        elif current == f"-{key}":
            direction, params["sort"] = "desc", key
        else:
            params["sort"] = key
        links[key] = SortLink(url=f"?{params.urlencode()}", direction=direction)
    return links


def paginate(request: HttpRequest, items: Any, *, count: int | None = None) -> Page:
    """The requested page; `page=abc` or a page past the end give the first or last page.

    `count`, when the caller already knows it (from a totals query), saves a COUNT(*).
    """
    paginator = Paginator(items, PAGE_SIZE)
    if count is not None:
        paginator.__dict__["count"] = count  # Paginator.count is a cached_property
    return paginator.get_page(request.GET.get("page"))


def page_query(request: HttpRequest) -> str:
    """The current parameters without the page number, for pagination links."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def report_ignored_filters(request: HttpRequest, form: forms.Form) -> None:
    """Tell the member which filter values were not understood; the list ignores them."""
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else None
        where = f"{label}: " if label else ""
        messages.warning(request, f"Filter ignored. {where}{' '.join(errors)}")


def style_filter_form(form: forms.Form) -> None:
    """Bootstrap classes on a filter form's widgets, so templates can loop over its fields."""
    for bound in form:
        widget = bound.field.widget
        if isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select form-select-sm")
        else:
            widget.attrs.setdefault("class", "form-control form-control-sm")
        if isinstance(widget, forms.DateInput):
            widget.input_type = "date"


def detail_only_get(request: HttpRequest) -> HttpResponse | None:
    """Detail pages look the object up before checking the method, so a foreign or missing id is
    404 whatever the method (nothing about it leaks through a 405)."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return None


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
