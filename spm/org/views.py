"""People pages: the people list, the team tree and a person's detail, each scoped by role."""

from __future__ import annotations

import datetime
from typing import Any

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
)

from .filters import PersonFilter
from .models import Person
from .selectors import (
    manager_chain,
    people_visible_to,
    person_team_history,
    person_visible,
    placements_of,
    team_of_person,
    team_tree,
    teams_led_by,
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
    person = person_visible(pk=pk, visible_ids=ids)
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
            "led_teams": list(teams_led_by(person=person)),
            "today": today,
            "see_everyone": ids is None,
            "visible_ids": ids or set(),
        },
    )


person_detail.model = Person  # type: ignore[attr-defined]
