"""Tenant admin for plan assignments and crediting setup: rules, splits, cancellations and
exchange rates, each saved through its service."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from spm.tenancy.admin_site import (
    ServiceSaveMixin,
    TenantInline,
    TenantModelAdmin,
    tenant_admin_site,
)

from .models import (
    CreditRule,
    DealCancellation,
    DealSplit,
    DealSplitSet,
    ExchangeRate,
    PlanAssignment,
)
from .services import (
    assignment_change,
    assignment_create,
    assignment_periods_refresh,
)
from .services.splits import deal_splits_set, split_total_error

# ------------------------------------------------------------------------------------------------
# Assignments and crediting setup
# ------------------------------------------------------------------------------------------------


@admin.register(PlanAssignment, site=tenant_admin_site)
class PlanAssignmentAdmin(ServiceSaveMixin, TenantModelAdmin):
    list_display = ["person", "plan", "valid_from", "valid_to", "target_incentive"]
    list_filter = ["plan"]
    list_select_related = ["person", "plan"]
    search_fields = ["person__name", "person__employee_id", "plan__code"]
    autocomplete_fields = ["person", "plan"]

    def service_save(self, request: HttpRequest, obj: PlanAssignment, form: Any,
                     change: bool) -> PlanAssignment | None:
        if not change:
            return assignment_create(
                person=obj.person, plan=obj.plan, valid_from=obj.valid_from,
                valid_to=obj.valid_to, target_incentive=obj.target_incentive, notes=obj.notes,
                actor=request.user)
        if "person" in form.changed_data:
            return None  # handing an assignment to someone else has no service
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        return assignment_change(assignment=obj, actor=request.user, **changes)

    def save_model(self, request: HttpRequest, obj: PlanAssignment, form: Any,
                   change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "person" in form.changed_data:
            assignment_periods_refresh(assignments=[obj])


class SplitsFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(form.errors for form in self.forms):
            return
        kept = [form for form in self.forms
                if form not in self.deleted_forms and form.cleaned_data.get("person")]
        if not kept:
            raise ValidationError("Add the people the deal is split between; to credit the "
                                  "owner alone, delete the split instead.")
        people = [form.cleaned_data["person"].pk for form in kept]
        if len(set(people)) != len(people):
            raise ValidationError("Each person appears once in a deal's splits.")
        problem = split_total_error([form.cleaned_data.get("percent") for form in kept])
        if problem:
            raise ValidationError(problem)


class DealSplitInline(TenantInline):
    model = DealSplit
    formset = SplitsFormSet
    fields = ["person", "percent"]
    autocomplete_fields = ["person"]
    extra = 2


@admin.register(DealSplitSet, site=tenant_admin_site)
class DealSplitSetAdmin(TenantModelAdmin):
    list_display = ["deal", "shares", "reason"]
    search_fields = ["deal__external_id", "deal__name"]
    autocomplete_fields = ["deal"]
    inlines = [DealSplitInline]

    def save_model(self, request: HttpRequest, obj: DealSplitSet, form: Any,
                   change: bool) -> None:
        if change and "deal" in form.changed_data:
            # Moving a split set to another deal has no service: saved as typed.
            super().save_model(request, obj, form, change)
        # Otherwise the set and its splits are written together in save_related.

    def save_related(self, request: HttpRequest, form: Any, formsets: Any,
                     change: bool) -> None:
        obj = form.instance
        if change and "deal" in form.changed_data:
            super().save_related(request, form, formsets, change)
            return
        splits = next(f for f in formsets if f.model is DealSplit)
        kept = [f for f in splits.forms if f not in splits.deleted_forms
                and getattr(f, "cleaned_data", None) and f.cleaned_data.get("person")]
        # SplitsFormSet checked these the way the service does, so it does not refuse them here.
        saved = deal_splits_set(
            deal=obj.deal, reason=obj.reason, actor=request.user,
            splits=[(f.cleaned_data["person"], f.cleaned_data["percent"]) for f in kept])
        if saved is not None:
            obj.pk = saved.pk
            obj._state.adding = False
            obj._state.db = saved._state.db
        for formset in formsets:  # what formset.save() records, for the change message
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    @admin.display(description="shares")
    def shares(self, obj: DealSplitSet) -> str:
        return ", ".join(f"{s.person} {s.percent}%" for s in obj.splits.select_related("person"))


@admin.register(CreditRule, site=tenant_admin_site)
class CreditRuleAdmin(TenantModelAdmin):
    list_display = ["name", "priority", "is_active", "target", "person", "product_line",
                    "territory", "valid_from", "valid_to"]
    list_filter = ["is_active", "target"]
    list_select_related = ["person", "territory"]
    search_fields = ["name", "product_line"]
    autocomplete_fields = ["person"]


@admin.register(ExchangeRate, site=tenant_admin_site)
class ExchangeRateAdmin(TenantModelAdmin):
    list_display = ["currency", "valid_from", "rate"]
    list_filter = ["currency"]
    search_fields = ["currency"]


@admin.register(DealCancellation, site=tenant_admin_site)
class DealCancellationAdmin(TenantModelAdmin):
    list_display = ["deal", "kind", "cancel_date", "reason"]
    list_filter = ["kind"]
    list_select_related = ["deal"]
    search_fields = ["deal__external_id", "deal__name"]
    autocomplete_fields = ["deal"]
