"""Tenant admin for sales plans (with their segment mix and scenarios) and ramp schedules."""

from __future__ import annotations

from decimal import Decimal
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

from .models import RampSchedule, SalesPlan, Scenario, SegmentTarget
from .services import ramp_schedule_save, sales_plan_create, scenario_save, segment_mix_set


class SegmentMixFormSet(BaseInlineFormSet):
    """The shares of a plan's segments must add up to 100% (or be left empty)."""

    def clean(self) -> None:
        super().clean()
        shares = []
        seen = set()
        for form in self.forms:
            if not getattr(form, "cleaned_data", None) or form.cleaned_data.get("DELETE"):
                continue
            segment = form.cleaned_data.get("segment")
            if segment in seen:
                raise ValidationError(f"The segment {segment!r} is listed twice.")
            seen.add(segment)
            shares.append(form.cleaned_data.get("share_percent") or Decimal(0))
        if shares and sum(shares) != 100:
            raise ValidationError(
                f"The segment shares add up to {sum(shares)}%; they must add up to exactly 100%."
            )


class SegmentTargetInline(TenantInline):
    model = SegmentTarget
    formset = SegmentMixFormSet


class ScenarioInline(TenantInline):
    model = Scenario
    fields = ["name", "order", "bookings_target", "full_quota", "expected_attainment_percent",
              "attrition_percent", "ramp_schedule", "max_hires_per_month"]


@admin.register(SalesPlan, site=tenant_admin_site)
class SalesPlanAdmin(ServiceSaveMixin, TenantModelAdmin):
    list_display = ["fiscal_year", "name", "bookings_target", "full_quota",
                    "expected_attainment_percent", "attrition_percent"]
    search_fields = ["name"]
    inlines = [SegmentTargetInline, ScenarioInline]

    def service_save(self, request: HttpRequest, obj: SalesPlan, form: Any,
                     change: bool) -> SalesPlan | None:
        if change:
            return None  # a plan's own figures have no service: the model's validation guards
        return sales_plan_create(
            fiscal_year=obj.fiscal_year, name=obj.name, bookings_target=obj.bookings_target,
            full_quota=obj.full_quota, expected_attainment_percent=obj.expected_attainment_percent,
            attrition_percent=obj.attrition_percent, ramp_schedule=obj.ramp_schedule,
            max_hires_per_month=obj.max_hires_per_month, actor=request.user,
        )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        plan = form.instance
        # What formset.save() would have recorded, for the admin's change message.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if formset.model is SegmentTarget:
            # The formset checked the shares the way the service does; the service replaces them.
            shares = {
                f.cleaned_data["segment"]: f.cleaned_data.get("share_percent") or Decimal(0)
                for f in formset.forms
                if getattr(f, "cleaned_data", None) and not f.cleaned_data.get("DELETE")
                and f.cleaned_data.get("segment")
            }
            segment_mix_set(plan=plan, shares=shares, actor=request.user)
            return
        if formset.model is Scenario:
            self._save_scenarios(request, plan, formset)
            return
        super().save_formset(request, form, formset, change)

    @staticmethod
    def _save_scenarios(request: HttpRequest, plan: SalesPlan, formset: Any) -> None:
        # scenario_save finds a scenario by name, so a renamed or removed one keeps the formset's
        # own save; every other new or changed scenario goes through the service.
        through_formset = []
        for scenario_form in formset.forms:
            data = getattr(scenario_form, "cleaned_data", None)
            if not data or not scenario_form.has_changed():
                continue
            if data.get("DELETE") or (scenario_form.instance.pk is not None
                                      and "name" in scenario_form.changed_data):
                through_formset.append(scenario_form)
                continue
            fields = {name: data.get(name) for name in ScenarioInline.fields if name != "name"}
            scenario_save(plan=plan, name=data["name"], actor=request.user, **fields)
        if through_formset:
            kept = set(through_formset)
            for scenario_form in formset.forms:
                if scenario_form not in kept:
                    scenario_form.has_changed = lambda: False  # saved above
            formset.save()


@admin.register(RampSchedule, site=tenant_admin_site)
class RampScheduleAdmin(ServiceSaveMixin, TenantModelAdmin):
    list_display = ["name", "percent_by_month", "is_default"]
    search_fields = ["name"]

    def service_save(self, request: HttpRequest, obj: RampSchedule, form: Any,
                     change: bool) -> RampSchedule | None:
        if change and "name" in form.changed_data:
            return None  # the service finds a schedule by name: a rename keeps the model's save
        return ramp_schedule_save(name=obj.name, percent_by_month=obj.percent_by_month,
                                  is_default=obj.is_default, actor=request.user)
