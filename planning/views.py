"""Sales planning pages for admin and finance: the plans by year, and one plan with last
year's actuals, growth, segment mix, and capacity scenarios side by side with hiring plans."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from spm.tenancy.models import Role
from spm.tenancy.permissions import role_required
from spm.tenancy.today import tenant_today
from spm.web import detail_only_get

from .models import SalesPlan
from .selectors import bookings_by_fiscal_year, plan_overview, sales_plan_by_pk, sales_plans


@require_safe
@role_required(Role.ADMIN, Role.FINANCE)
def plan_list(request: HttpRequest) -> HttpResponse:
    plans = list(sales_plans())
    actuals = bookings_by_fiscal_year(fiscal_years=[p.fiscal_year - 1 for p in plans])
    rows = [
        {
            "plan": plan,
            "last_year": actuals.get(plan.fiscal_year - 1),
            "growth": (
                (plan.bookings_target / actuals[plan.fiscal_year - 1] - 1) * 100
                if actuals.get(plan.fiscal_year - 1) else None
            ),
        }
        for plan in plans
    ]
    return render(request, "planning/plan_list.html", {"rows": rows})


@role_required(Role.ADMIN, Role.FINANCE)
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = sales_plan_by_pk(pk)
    if plan is None:
        raise Http404("No such plan.")
    if (refused := detail_only_get(request)) is not None:
        return refused
    overview = plan_overview(plan=plan, today=tenant_today(request.tenant))
    months = [
        {"number": m + 1, "cells": [s.result.months[m] for s in overview.scenarios]}
        for m in range(12)
    ]
    return render(
        request,
        "planning/plan_detail.html",
        {"overview": overview, "plan": plan, "months": months},
    )


plan_detail.model = SalesPlan  # type: ignore[attr-defined]
