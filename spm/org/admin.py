"""Tenant admin for people and the team tree; team writes go through spm.org.services."""

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

from .models import Period, PeriodStatus, Person, Team, TeamMembership, TitleRoleRule
from .services import period_set_status, person_assign_team, team_create, team_move


class TeamMembershipInline(TenantInline):
    model = TeamMembership
    autocomplete_fields = ["team"]


@admin.register(Person, site=tenant_admin_site)
class PersonAdmin(TenantModelAdmin):
    list_display = ["name", "employee_id", "email", "role", "hire_date", "termination_date"]
    list_filter = ["role"]
    search_fields = ["name", "email", "employee_id"]
    inlines = [TeamMembershipInline]


@admin.register(TitleRoleRule, site=tenant_admin_site)
class TitleRoleRuleAdmin(TenantModelAdmin):
    """Which seller role a job title in a roster import means; built-in rules apply after these
    (see docs/import.md)."""

    list_display = ["title_contains", "role", "priority"]
    list_editable = ["role", "priority"]
    list_filter = ["role"]
    search_fields = ["title_contains"]


class TeamAdminForm(TenantModelForm):
    def clean_parent(self) -> Team | None:
        parent = self.cleaned_data.get("parent")
        team = self.instance
        # team_move refuses this too, but by then the form is gone and it would be a 500; the
        # same rule here puts the message on the field.
        if parent is not None and team.pk is not None and (
            parent.pk == team.pk or (team.path and parent.path.startswith(team.path))
        ):
            raise ValidationError("A team cannot move under itself or its own subtree.")
        return parent


@admin.register(Team, site=tenant_admin_site)
class TeamAdmin(TenantModelAdmin):
    form = TeamAdminForm
    list_display = ["name", "parent", "manager", "path"]
    search_fields = ["name"]
    autocomplete_fields = ["parent", "manager"]
    readonly_fields = ["path"]

    def save_model(self, request: HttpRequest, obj: Team, form, change: bool) -> None:
        # The materialised path is only right when the services write it.
        if not change:
            created = team_create(name=obj.name, parent=obj.parent, manager=obj.manager)
            obj.pk, obj.path = created.pk, created.path
            obj._state.adding = False
            obj._state.db = created._state.db
            return
        obj._history_user = request.user
        new_parent = obj.parent
        obj.save()
        if "parent" in form.changed_data:
            team_move(team=obj, parent=new_parent)


@admin.register(TeamMembership, site=tenant_admin_site)
class TeamMembershipAdmin(ServiceSaveMixin, TenantModelAdmin):
    list_display = ["person", "team", "valid_from", "valid_to"]
    list_filter = ["team"]
    search_fields = ["person__name", "team__name"]
    autocomplete_fields = ["person", "team"]

    def service_save(self, request: HttpRequest, obj: TeamMembership, form,
                     change: bool) -> TeamMembership | None:
        # A new open-ended membership is a move: the service closes the one open then. A
        # membership with an end date, or a change of dates, is kept as typed.
        if change or obj.valid_to is not None:
            return None
        return person_assign_team(person=obj.person, team=obj.team, valid_from=obj.valid_from)


@admin.register(Period, site=tenant_admin_site)
class PeriodAdmin(TenantModelAdmin):
    """Periods come from the fiscal calendar; finance locks them once payroll is done."""

    finance_can_edit = True
    list_display = ["label", "kind", "fiscal_year", "start_date", "end_date", "status"]
    list_filter = ["kind", "fiscal_year", "status"]
    search_fields = ["label"]
    readonly_fields = ["kind", "fiscal_year", "number", "start_date", "end_date", "label"]
    actions = ["lock_periods", "reopen_periods"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # generated from the tenant's fiscal calendar, never typed in

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # results and statements refer to periods

    def save_model(self, request, obj, form, change) -> None:
        period_set_status(period=obj, status=obj.status)

    @admin.action(description="Lock selected periods (no more changes to their results)")
    def lock_periods(self, request, queryset) -> None:
        for period in queryset:
            period_set_status(period=period, status=PeriodStatus.LOCKED)
        self.message_user(request, f"Locked {queryset.count()} period(s).")

    @admin.action(description="Reopen selected periods")
    def reopen_periods(self, request, queryset) -> None:
        for period in queryset:
            period_set_status(period=period, status=PeriodStatus.OPEN)
        self.message_user(request, f"Reopened {queryset.count()} period(s).")
