"""Tenant admin for quota plans, their allocation nodes, monthly quotas and acknowledgements,
with validation that names the problem (sums, negative or empty amounts, overlapping dates)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from spm.tenancy.admin_site import TenantModelAdmin, TenantModelForm, tenant_admin_site

from .models import Quota, QuotaAcknowledgement, QuotaAllocation, QuotaPlan
from .tree import plan_problems


class QuotaPlanForm(TenantModelForm):
    def clean_fiscal_year(self) -> int:
        year = self.cleaned_data["fiscal_year"]
        plan = self.instance
        if plan.pk and year != plan.fiscal_year and plan.quotas.exists():
            raise ValidationError("Quotas have been written for this plan's year; the year can "
                                  "no longer change. Make a new plan instead.")
        return year


@admin.register(QuotaPlan, site=tenant_admin_site)
class QuotaPlanAdmin(TenantModelAdmin):
    form = QuotaPlanForm
    list_display = ["fiscal_year", "name", "target", "over_assignment_percent", "method", "status",
                    "applied_at"]
    list_filter = ["status", "method"]
    search_fields = ["name"]
    readonly_fields = ["status", "applied_at", "allocation_check"]

    @admin.display(description="Allocation")
    def allocation_check(self, plan: QuotaPlan) -> str:
        if plan.pk is None:
            return "Allocate from the workspace once the plan is saved."
        workspace = reverse("quotas:workspace", args=[plan.pk])
        problems = plan_problems(plan)
        if not problems:
            return format_html('Adds up. <a href="{}">Open the workspace</a>', workspace)
        return format_html(
            '<ul class="errorlist">{}</ul><a href="{}">Open the workspace</a>',
            format_html_join("", "<li>{}</li>", ((p.message,) for p in problems)),
            workspace,
        )


class QuotaAllocationForm(TenantModelForm):
    def clean(self) -> dict:
        data = super().clean()
        if data.get("team") and data.get("person"):
            raise ValidationError("A node is a team or a person, not both.")
        parent = data.get("parent")
        plan = data.get("plan")
        if parent is not None and plan is not None and parent.plan_id != plan.pk:
            self.add_error("parent", "The parent belongs to another plan.")
        return data


@admin.register(QuotaAllocation, site=tenant_admin_site)
class QuotaAllocationAdmin(TenantModelAdmin):
    form = QuotaAllocationForm
    list_display = ["__str__", "plan", "amount", "is_override", "override_reason"]
    list_filter = ["plan", "is_override"]
    list_select_related = ["plan", "team", "person"]
    search_fields = ["team__name", "person__name"]
    autocomplete_fields = ["parent", "team", "person"]
    readonly_fields = ["weight", "capacity", "note", "position"]

    def save_model(self, request: HttpRequest, obj: QuotaAllocation, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # A hand edit may break the sums; say where at once rather than at apply time.
        for problem in plan_problems(obj.plan):
            messages.warning(request, problem.message)


@admin.register(Quota, site=tenant_admin_site)
class QuotaAdmin(TenantModelAdmin):
    list_display = ["person", "period", "amount", "valid_from", "valid_to", "reason"]
    list_filter = ["plan"]
    list_select_related = ["person", "period"]
    search_fields = ["person__name", "reason"]
    autocomplete_fields = ["person"]
    date_hierarchy = "valid_from"


@admin.register(QuotaAcknowledgement, site=tenant_admin_site)
class QuotaAcknowledgementAdmin(TenantModelAdmin):
    """Reps acknowledge on their quota letter; an admin may record one made on paper."""

    list_display = ["person", "plan", "annual_amount", "acknowledged_at", "acknowledged_by"]
    list_filter = ["plan"]
    list_select_related = ["person", "plan", "acknowledged_by"]
    search_fields = ["person__name"]
    autocomplete_fields = ["person"]
