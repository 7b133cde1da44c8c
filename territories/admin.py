"""Tenant admin for the territory tree, its owners and the assignment rules.

Tree writes go through the services so paths stay right; model validation names overlapping
owner dates and bad rule criteria on their fields. Account assignments are not edited here:
they change only through rules, balancing or the reassignment page, each audited as a change.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from spm.tenancy.admin_site import (
    ServiceSaveMixin,
    TenantInline,
    TenantModelAdmin,
    TenantModelForm,
    tenant_admin_site,
)

from .models import AssignmentRule, Territory, TerritoryOwner
from .services import (
    assignment_rule_save,
    territory_create,
    territory_move,
    territory_owner_set,
)


class TerritoryOwnerInline(TenantInline):
    model = TerritoryOwner
    autocomplete_fields = ["person"]
    fields = ["person", "role", "valid_from", "valid_to"]


class TerritoryAdminForm(TenantModelForm):
    def clean_parent(self) -> Territory | None:
        parent = self.cleaned_data.get("parent")
        territory = self.instance
        if parent is not None and territory.pk is not None and (
            parent.pk == territory.pk or (territory.path and parent.path.startswith(territory.path))
        ):
            raise ValidationError("A territory cannot move under itself or its own subtree.")
        return parent


@admin.register(Territory, site=tenant_admin_site)
class TerritoryAdmin(TenantModelAdmin):
    form = TerritoryAdminForm
    list_display = ["name", "level", "parent", "path"]
    list_filter = ["level"]
    search_fields = ["name"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["path"]
    inlines = [TerritoryOwnerInline]

    def save_model(self, request: HttpRequest, obj: Territory, form, change: bool) -> None:
        # The materialised path is only right when the services write it.
        if not change:
            created = territory_create(
                name=obj.name, parent=obj.parent, level=obj.level, actor=request.user
            )
            obj.pk, obj.path = created.pk, created.path
            obj._state.adding = False
            obj._state.db = created._state.db
            return
        obj._history_user = request.user
        new_parent = obj.parent
        obj.save()
        if "parent" in form.changed_data:
            territory_move(territory=obj, parent=new_parent, actor=request.user)


@admin.register(TerritoryOwner, site=tenant_admin_site)
class TerritoryOwnerAdmin(ServiceSaveMixin, TenantModelAdmin):
    list_display = ["territory", "person", "role", "valid_from", "valid_to"]
    list_filter = ["role"]
    search_fields = ["territory__name", "person__name"]
    autocomplete_fields = ["territory", "person"]

    def service_save(self, request: HttpRequest, obj: TerritoryOwner, form,
                     change: bool) -> TerritoryOwner | None:
        # A new open-ended owner is a handover: the service ends the ownership open on that day.
        # A closed ownership, or a change of dates, is saved as typed (the model guards overlaps).
        if change or obj.valid_to is not None:
            return None
        return territory_owner_set(territory=obj.territory, person=obj.person, role=obj.role,
                                   valid_from=obj.valid_from, actor=request.user)


@admin.register(AssignmentRule, site=tenant_admin_site)
class AssignmentRuleAdmin(ServiceSaveMixin, TenantModelAdmin):
    list_display = [
        "priority", "name", "territory", "countries", "regions", "postal_prefixes",
        "industries", "segments", "min_employees", "max_employees", "is_active",
    ]
    list_display_links = ["priority", "name"]
    list_filter = ["is_active"]
    search_fields = ["name", "territory__name"]
    autocomplete_fields = ["territory"]
    ordering = ["priority"]

    def service_save(self, request: HttpRequest, obj: AssignmentRule, form,
                     change: bool) -> AssignmentRule:
        return assignment_rule_save(rule=obj, actor=request.user)
