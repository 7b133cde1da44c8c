"""The tenant admin's first-run page: fiscal calendar, currency, time zone and years of history."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from spm.crm.selectors import stages_in_order
from spm.org.selectors import periods_holding_data
from spm.tenancy.models import Role
from spm.tenancy.permissions import role_required
from spm.tenancy.today import tenant_today
from spm.web import add_service_errors

from .forms import SetupForm
from .selectors import fiscal_years_present, history_years_present
from .services import DEFAULT_PAST_YEARS, tenant_setup


@never_cache
@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Show the workspace's settings and what they produced; a POST saves them and makes the
    periods and default stages (running it again adds only what is missing)."""
    tenant = request.tenant
    today = tenant_today(tenant)
    history = history_years_present(today=today, start_month=tenant.fiscal_year_start_month)
    initial = {
        "fiscal_year_start_month": tenant.fiscal_year_start_month,
        "currency": tenant.currency,
        "timezone": tenant.timezone,
        "past_years": DEFAULT_PAST_YEARS if history is None else history,
    }
    form = SetupForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            prepared = tenant_setup(tenant=tenant, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Workspace settings saved. {prepared.summary}")
            return redirect("tenant-home")
    context = {
        "form": form,
        "fiscal_years": fiscal_years_present(),
        "stages": list(stages_in_order()),
        "periods_holding": periods_holding_data(),
    }
    return render(request, "onboarding/setup.html", context,
                  status=400 if request.method == "POST" else 200)
