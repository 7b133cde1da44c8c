"""Tenant admin for sales plans (with their segment mix and scenarios) and ramp schedules."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from spm.tenancy.admin_site import TenantInline, TenantModelAdmin, tenant_admin_site

from .models import RampSchedule, SalesPlan, Scenario, SegmentTarget


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
class SalesPlanAdmin(TenantModelAdmin):
    list_display = ["fiscal_year", "name", "bookings_target", "full_quota",
                    "expected_attainment_percent", "attrition_percent"]
    search_fields = ["name"]
    inlines = [SegmentTargetInline, ScenarioInline]


@admin.register(RampSchedule, site=tenant_admin_site)
class RampScheduleAdmin(TenantModelAdmin):
    list_display = ["name", "percent_by_month", "is_default"]
    search_fields = ["name"]
