"""Tenant admin for MBO scores and for records written by their services: plan acceptances and
reminders, pay cycles with their history, pay settings and payroll codes."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from spm.tenancy.admin_site import (
    TenantInline,
    TenantModelAdmin,
    tenant_admin_site,
)
from spm.web import neutralise

from .models import (
    Component,
    MboScore,
    MboScoreLockedError,
    PayCycle,
    PayCycleTransition,
    PayeePayroll,
    PaySettings,
    PlanAcceptance,
    PlanReminder,
)

# ------------------------------------------------------------------------------------------------
# MBO scores
# ------------------------------------------------------------------------------------------------


@admin.register(MboScore, site=tenant_admin_site)
class MboScoreAdmin(TenantModelAdmin):
    """Scores as managers enter them on the MBO page; finance may correct them too. The model's
    checks (MBO component, window of its cadence, range, lock) land on the field they name."""

    finance_can_edit = True
    fields = ["payee", "component", "period", "score_pct", "comment", "entered_by", "entered_at"]
    list_display = ["payee", "component", "period", "score_pct", "entered_by", "entered_at"]
    list_filter = ["period__fiscal_year", "period__kind", "component__code"]
    list_select_related = ["payee", "component", "period", "entered_by"]
    search_fields = ["payee__name", "payee__employee_id", "component__code"]
    autocomplete_fields = ["payee"]
    readonly_fields = ["entered_by", "entered_at"]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest,
                                 **kwargs: Any) -> Any:
        if db_field.name == "component":
            kwargs["queryset"] = Component.objects.filter(kind="mbo")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _locked(self, obj: MboScore | None) -> bool:
        return obj is not None and obj.pk is not None and obj.locked_period() is not None

    def has_change_permission(self, request: HttpRequest, obj: MboScore | None = None) -> bool:
        return super().has_change_permission(request, obj) and not self._locked(obj)

    def has_delete_permission(self, request: HttpRequest, obj: MboScore | None = None) -> bool:
        return super().has_delete_permission(request, obj) and not self._locked(obj)

    def save_model(self, request: HttpRequest, obj: MboScore, form: Any, change: bool) -> None:
        obj.entered_by = request.user
        obj._history_user = request.user
        obj.save()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[MboScore]) -> None:
        # One by one: a queryset delete would skip the model's refusal in locked periods.
        kept = []
        for score in queryset.select_related("period"):
            score._history_user = request.user
            try:
                score.delete()
            except MboScoreLockedError:
                kept.append(score)
        if kept:
            self.message_user(request, f"{len(kept)} score(s) in locked periods were kept; "
                                       "their pay is final.", messages.WARNING)


# ------------------------------------------------------------------------------------------------
# Plan acceptances and reminders: the record of who accepted what, never edited by hand
# ------------------------------------------------------------------------------------------------


class _RecordAdmin(TenantModelAdmin):
    """Rows written only by their service (on the plan pages); the admin lists and searches."""

    actions = ["export_csv"]

    @admin.action(description="Download the selected as CSV")
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse:
        columns = list(self.list_display)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        name = self.model._meta.verbose_name_plural.replace(" ", "-")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        writer = csv.writer(response)
        writer.writerow(columns)
        for row in queryset.select_related(*self.list_select_related):
            writer.writerow([neutralise(str(getattr(row, c) or "")) for c in columns])
        return response

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # A row is never changed here; asked without a row (a missing or foreign id) the answer is
    # the usual one, so both get the same 404.
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PlanAcceptance, site=tenant_admin_site)
class PlanAcceptanceAdmin(_RecordAdmin):
    list_display = ["person", "version", "accepted_at", "accepted_by", "fingerprint"]
    list_filter = ["version__plan"]
    list_select_related = ["person", "version__plan", "accepted_by"]
    search_fields = ["person__name", "person__employee_id"]


@admin.register(PlanReminder, site=tenant_admin_site)
class PlanReminderAdmin(_RecordAdmin):
    list_display = ["person", "version", "sent_at", "sent_by", "emailed_to", "read_at"]
    list_filter = ["version__plan"]
    list_select_related = ["person", "version__plan", "sent_by"]
    search_fields = ["person__name", "emailed_to"]


# ------------------------------------------------------------------------------------------------
# Pay cycle settings: the second-approval threshold and each payee's payroll code
# ------------------------------------------------------------------------------------------------


@admin.register(PaySettings, site=tenant_admin_site)
class PaySettingsAdmin(TenantModelAdmin):
    list_display = ["second_approval_above"]


@admin.register(PayeePayroll, site=tenant_admin_site)
class PayeePayrollAdmin(TenantModelAdmin):
    list_display = ["person", "payroll_code", "cost_centre"]
    list_select_related = ["person"]
    search_fields = ["person__name", "person__employee_id", "payroll_code", "cost_centre"]
    autocomplete_fields = ["person"]


class PayCycleTransitionInline(TenantInline):
    model = PayCycleTransition
    extra = 0
    can_delete = False
    fields = ["at", "actor", "action", "payee", "from_status", "to_status", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PayCycle, site=tenant_admin_site)
class PayCycleAdmin(TenantModelAdmin):
    """Read-only: a cycle moves only through its pay page (and the services behind it), so
    every step keeps who, when and why."""

    list_display = ["period", "status", "updated_at"]
    list_filter = ["status"]
    list_select_related = ["period"]
    fields = ["period", "status"]
    readonly_fields = fields
    inlines = [PayCycleTransitionInline]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # Never changed here; asked without a row (a missing or another tenant's id) the answer is
    # the usual one, so both get the same 404.
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
