"""Quota pages: a seller's quota and attainment, a manager's team view, the admin's plans and
allocation workspace (allocate, override, seasonality, apply), and the quota letter."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from spm.org.selectors import person_for_user
from spm.tenancy.models import Role
from spm.tenancy.permissions import can_configure, role_required
from spm.tenancy.today import tenant_today
from spm.web import (
    add_service_errors,
    detail_only_get,
    message_service_errors,
    sort_key,
    sort_links,
)

from .forms import (
    AllocateForm,
    ApplyForm,
    OverrideForm,
    PeriodForm,
    QuotaChangeForm,
    QuotaPlanCreateForm,
    SeasonalityForm,
)
from .models import QuotaAllocation, QuotaPlan
from .selectors import (
    Attainment,
    allocation_workspace,
    attainment_by_month,
    attainment_by_person,
    published_plans_of,
    quota_letter,
    quota_plans,
    team_attainment,
)
from .services import (
    quota_acknowledge,
    quota_allocate,
    quota_allocation_clear_override,
    quota_allocation_override,
    quota_change,
    quota_plan_apply,
    quota_plan_create,
    quota_seasonality_learn,
    quota_seasonality_set,
)
from .tree import allocation_node_by_pk, quota_plan_by_pk, quota_plan_visible_to

ATTAINMENT_SORTS: dict[str, Callable[[Attainment], Any]] = {
    "name": lambda r: r.name.lower(),
    "quota": lambda r: r.quota,
    "credited": lambda r: r.credited,
    "attainment": lambda r: r.attainment if r.attainment is not None else Decimal(-1),
    "pace": lambda r: r.pace if r.pace is not None else Decimal(-1),
    "gap": lambda r: r.gap,
}


def _form_errors(request: HttpRequest, form, prefix: str) -> None:
    for field, errors in form.errors.items():
        bound = form.fields.get(field)
        label = (bound.label if bound is not None and bound.label else field).replace("_", " ")
        for message in errors:
            messages.error(request, f"{prefix} · {label.capitalize()}: {message}")


def _period_choice(request: HttpRequest, today: datetime.date):
    form = PeriodForm(request.GET or None)
    period, day = form.period(today)
    if form.errors:
        messages.warning(request, "The period asked for was not understood; showing today's.")
    return form, period, day


# -- the seller's page ---------------------------------------------------------------------------


@require_safe
def my_quota(request: HttpRequest) -> HttpResponse:
    today = tenant_today(request.tenant)
    me = person_for_user(user=request.user)
    form, period, day = _period_choice(request, today)
    context: dict[str, Any] = {"me": me, "form": form, "period": period, "day": day,
                               "today": today}
    if me is not None and period is not None:
        rows = attainment_by_person(period=period, as_of=day, person_ids={me.pk})
        context["row"] = rows[0] if rows else None
        context["months"] = attainment_by_month(person=me, fiscal_year=period.fiscal_year,
                                                as_of=day)
        context["plans"] = published_plans_of(person=me)
    return render(request, "quotas/my_quota.html", context)


# -- the manager's team view ---------------------------------------------------------------------


@require_safe
@role_required(Role.ADMIN, Role.FINANCE, Role.MANAGER)
def team_view(request: HttpRequest) -> HttpResponse:
    today = tenant_today(request.tenant)
    form, period, day = _period_choice(request, today)
    raw = request.GET.get("team", "")
    view = team_attainment(membership=request.membership, period=period, day=day,
                           team_id=int(raw) if raw.isdigit() else None)
    if view.refused:
        messages.warning(request, "That team is not one you may see; showing all yours.")
    sort = sort_key(request.GET.get("sort"), allowed=ATTAINMENT_SORTS, default="name")
    rows = sorted(view.rows, key=ATTAINMENT_SORTS[sort.lstrip("-")], reverse=sort.startswith("-"))
    return render(request, "quotas/team.html", {
        "form": form, "period": period, "day": day, "today": today, "teams": view.teams,
        "chosen": view.chosen, "rows": rows, "leaders": view.leaders,
        "team_rows": view.team_rows, "total": view.total,
        "sorts": sort_links(request, allowed=ATTAINMENT_SORTS, current=sort),
    })


# -- plans and the allocation workspace (admin; finance reads) -----------------------------------


@require_safe
@role_required(Role.ADMIN, Role.FINANCE)
def plan_list(request: HttpRequest) -> HttpResponse:
    return render(request, "quotas/plan_list.html", {"plans": quota_plans()})


@role_required(Role.ADMIN)
def plan_create(request: HttpRequest) -> HttpResponse:
    form = QuotaPlanCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            plan = quota_plan_create(actor=request.user, **data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{plan} created. Allocate it to see the tree.")
            return redirect("quotas:workspace", pk=plan.pk)
    return render(request, "quotas/plan_form.html", {"form": form})


def _plan_or_404(pk: int) -> QuotaPlan:
    plan = quota_plan_by_pk(pk)
    if plan is None:
        raise Http404("No such quota plan.")
    return plan


@role_required(Role.ADMIN, Role.FINANCE)
def workspace(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_or_404(pk)
    if (refused := detail_only_get(request)) is not None:
        return refused
    today = tenant_today(request.tenant)
    view = allocation_workspace(plan=plan, on=today)
    weights = plan.seasonality_percent
    return render(request, "quotas/workspace.html", {
        "plan": plan,
        "workspace": view,
        "can_edit": can_configure(request.membership),
        "allocate_form": AllocateForm(initial={"method": plan.method}),
        "seasonality_form": SeasonalityForm(initial={"source": "manual" if weights else "flat",
                                                     "weights": weights}),
        "apply_form": ApplyForm(),
        "today": today,
    })


workspace.model = QuotaPlan  # type: ignore[attr-defined]


def _back(plan_pk: int, anchor: str = "") -> HttpResponse:
    return redirect(reverse("quotas:workspace", args=[plan_pk]) + anchor)


@require_POST
@role_required(Role.ADMIN)
def allocate(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_or_404(pk)
    form = AllocateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick an allocation method from the list.")
        return _back(plan.pk)
    try:
        result = quota_allocate(plan=plan, method=form.cleaned_data["method"],
                                actor=request.user)
    except ValidationError as error:
        message_service_errors(request, error)
        return _back(plan.pk)
    if result.problems:
        messages.warning(request, "Allocated, but the tree does not add up yet: see the "
                                  "problems listed.")
    else:
        messages.success(request, "Allocated. Every level adds up.")
    return _back(plan.pk)


allocate.model = QuotaPlan  # type: ignore[attr-defined]


@require_POST
@role_required(Role.ADMIN)
def seasonality(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_or_404(pk)
    form = SeasonalityForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, f"Seasonality: {message}")
        return _back(plan.pk, "#seasonality")
    source = form.cleaned_data["source"]
    if source == "learn":
        quota_seasonality_learn(plan=plan, actor=request.user)
    else:
        text = form.cleaned_data["weights"] if source == "manual" else ""
        quota_seasonality_set(plan=plan, seasonality_percent=text, actor=request.user)
    messages.success(request, "Seasonality saved; the allocation follows the new weights.")
    return _back(plan.pk, "#seasonality")


seasonality.model = QuotaPlan  # type: ignore[attr-defined]


@require_POST
@role_required(Role.ADMIN)
def apply(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_or_404(pk)
    form = ApplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter the effective date as a date, or leave it empty.")
        return _back(plan.pk)
    try:
        result = quota_plan_apply(plan=plan, effective=form.cleaned_data.get("effective"),
                                  actor=request.user)
    except ValidationError as error:
        messages.error(request, "Not applied: the allocation does not add up.")
        message_service_errors(request, error)
        return _back(plan.pk)
    messages.success(
        request,
        f"Applied from {result.effective:%d %b %Y}: {result.created} monthly quotas written, "
        f"{result.changed + result.closed} replaced, {result.unchanged} unchanged. The plan is "
        "published and sellers can see their letters.",
    )
    for warning in result.warnings:
        messages.warning(request, warning)
    return _back(plan.pk)


apply.model = QuotaPlan  # type: ignore[attr-defined]


def _node_or_404(pk: int) -> QuotaAllocation:
    node = allocation_node_by_pk(pk)
    if node is None:
        raise Http404("No such allocation.")
    return node


@require_POST
@role_required(Role.ADMIN)
def override(request: HttpRequest, pk: int) -> HttpResponse:
    node = _node_or_404(pk)
    form = OverrideForm(request.POST, prefix=f"n{node.pk}")
    anchor = f"#node-{node.pk}"
    if not form.is_valid():
        _form_errors(request, form, node.label)
        return _back(node.plan_id, anchor)
    try:
        if form.cleaned_data.get("clear"):
            result = quota_allocation_clear_override(node=node, actor=request.user)
        else:
            result = quota_allocation_override(
                node=node, amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"], actor=request.user,
            )
    except ValidationError as error:
        message_service_errors(request, error)
        return _back(node.plan_id, anchor)
    if result.problems:
        messages.warning(request, f"{node.label} saved, but the tree no longer adds up: see the "
                                  "problems listed.")
    else:
        messages.success(request, f"{node.label} saved; the rest was re-split around it.")
    return _back(node.plan_id, anchor)


override.model = QuotaAllocation  # type: ignore[attr-defined]


@require_POST
@role_required(Role.ADMIN)
def change(request: HttpRequest, pk: int) -> HttpResponse:
    """A mid-year change of one seller's quota in force, from the workspace."""
    node = _node_or_404(pk)
    if node.person_id is None:
        raise Http404("Only a person's quota can be changed here.")
    form = QuotaChangeForm(request.POST, prefix=f"c{node.pk}")
    anchor = f"#node-{node.pk}"
    if not form.is_valid():
        _form_errors(request, form, node.label)
        return _back(node.plan_id, anchor)
    try:
        result = quota_change(plan=node.plan, person=node.person, actor=request.user,
                              **form.cleaned_data)
    except ValidationError as error:
        message_service_errors(request, error)
        return _back(node.plan_id, anchor)
    messages.success(request, f"{node.label}'s quota changes from {result.effective:%d %b %Y}.")
    for warning in result.warnings:
        messages.warning(request, warning)
    return _back(node.plan_id, anchor)


change.model = QuotaAllocation  # type: ignore[attr-defined]


# -- quota letters -------------------------------------------------------------------------------


def letter(request: HttpRequest, pk: int) -> HttpResponse:
    plan = quota_plan_visible_to(membership=request.membership, pk=pk)
    if plan is None:
        raise Http404("No such quota plan.")
    if (refused := detail_only_get(request)) is not None:
        return refused
    me = person_for_user(user=request.user)
    today = tenant_today(request.tenant)
    quota = quota_letter(plan=plan, person=me, on=today) if me is not None else None
    return render(request, "quotas/letter.html",
                  {"plan": plan, "me": me, "letter": quota, "today": today})


letter.model = QuotaPlan  # type: ignore[attr-defined]


@require_POST
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_or_404(pk)
    me = person_for_user(user=request.user)
    if me is None:
        messages.error(request, "Your login is not linked to a person, so there is no quota "
                                "of yours to acknowledge.")
        return redirect("quotas:letter", pk=plan.pk)
    try:
        ack = quota_acknowledge(plan=plan, person=me, user=request.user)
    except ValidationError as error:
        message_service_errors(request, error)
    else:
        messages.success(request, f"Acknowledged on {ack.acknowledged_at:%d %b %Y at %H:%M} UTC.")
    return redirect("quotas:letter", pk=plan.pk)


acknowledge.model = QuotaPlan  # type: ignore[attr-defined]

