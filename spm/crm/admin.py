"""CRM models in the tenant admin. Deal stage history is read-only: only the services write it."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from spm.tenancy.admin_site import TenantInline, TenantModelAdmin, tenant_admin_site

from .models import Account, Activity, Deal, DealStageHistory, Lead, Stage, StageMapping
from .selectors import stages_in_order
from .services import deal_change_stage


@admin.register(Stage, site=tenant_admin_site)
class StageAdmin(TenantModelAdmin):
    list_display = ["name", "order", "default_probability", "forecast_category", "is_won",
                    "is_lost"]
    list_editable = ["order"]
    search_fields = ["name"]


@admin.register(StageMapping, site=tenant_admin_site)
class StageMappingAdmin(TenantModelAdmin):
    """Stage values of imported files (HubSpot's internal ids, another CRM's names) and the
    stage each one means; the import preview adds rows here too."""

    list_display = ["source_value", "stage"]
    list_select_related = ["stage"]
    list_filter = ["stage"]
    search_fields = ["source_value", "stage__name"]


@admin.register(Account, site=tenant_admin_site)
class AccountAdmin(TenantModelAdmin):
    list_display = ["name", "external_id", "segment", "industry", "country", "region", "owner"]
    list_filter = ["segment", "country"]
    list_select_related = ["owner"]
    search_fields = ["name", "external_id"]
    autocomplete_fields = ["owner"]
    show_full_result_count = False


class DealStageHistoryInline(TenantInline):
    model = DealStageHistory
    fields = ["changed_at", "from_stage", "to_stage", "changed_by"]
    readonly_fields = fields
    ordering = ["changed_at"]

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class DealActionForm(ActionForm):
    """The deal list's action bar, with the stage that "Move to stage" moves the deals to."""

    # The choices are the active tenant's stages, read per request.
    stage = forms.ModelChoiceField(queryset=None, required=False,
                                   empty_label="stage…")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = stages_in_order()


@admin.register(Deal, site=tenant_admin_site)
class DealAdmin(TenantModelAdmin):
    list_display = ["external_id", "name", "account", "owner", "amount", "currency", "stage",
                    "status", "close_date"]
    list_filter = ["status", "stage", "deal_type", "forecast_category"]
    list_select_related = ["account", "owner", "stage"]
    search_fields = ["external_id", "name", "account__name", "owner__name"]
    autocomplete_fields = ["account", "owner"]
    date_hierarchy = "close_date"
    show_full_result_count = False
    inlines = [DealStageHistoryInline]
    action_form = DealActionForm
    actions = ["move_to_stage"]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        # A stage change must go through deal_change_stage so it lands in the history.
        return ["stage", "status"] if obj is not None else ["status"]

    @admin.action(description="Move to stage")
    def move_to_stage(self, request: HttpRequest, queryset: QuerySet[Deal]) -> None:
        if not self.has_change_permission(request):
            self.message_user(request, "Only admins move deals.", messages.ERROR)
            return
        raw = request.POST.get("stage", "")
        stage = stages_in_order().filter(pk=raw).first() if raw.isdigit() else None
        if stage is None:
            self.message_user(request, "Choose the stage to move the deals to.", messages.ERROR)
            return
        moved = 0
        for deal in queryset:
            try:
                changed = deal_change_stage(deal=deal, stage=stage, actor=request.user)
            except ValidationError as error:
                self.message_user(request, f"{deal}: {' '.join(error.messages)}", messages.ERROR)
                continue
            if deal.stage_id != changed.stage_id:
                moved += 1
        self.message_user(request, f"{moved} deal(s) moved to {stage.name}; each move is in the "
                                   "deal's stage history.", messages.SUCCESS)

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.status = obj.stage.deal_status
        super().save_model(request, obj, form, change)
        if not change:
            DealStageHistory.objects.create(
                deal=obj, to_stage=obj.stage, changed_at=obj.updated_at,
                changed_by=request.user,
            )


@admin.register(Lead, site=tenant_admin_site)
class LeadAdmin(TenantModelAdmin):
    list_display = ["external_id", "source", "status", "owner", "created_at",
                    "first_response_at", "converted_at"]
    list_filter = ["status", "source"]
    list_select_related = ["owner"]
    search_fields = ["external_id"]
    autocomplete_fields = ["owner", "account"]
    raw_id_fields = ["converted_deal"]
    show_full_result_count = False


@admin.register(Activity, site=tenant_admin_site)
class ActivityAdmin(TenantModelAdmin):
    list_display = ["external_id", "kind", "person", "deal", "lead", "at"]
    list_filter = ["kind"]
    list_select_related = ["person", "deal", "lead"]
    search_fields = ["external_id", "person__name"]
    autocomplete_fields = ["person"]
    raw_id_fields = ["deal", "lead"]
    show_full_result_count = False
