"""Tenant admin for people and the team tree; team writes go through spm.org.services."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from spm.tenancy.admin_site import (
    TenantInline,
    TenantModelAdmin,
    TenantModelForm,
    tenant_admin_site,
)

from .models import Person, Team, TeamMembership
from .services import team_create, team_move


class TeamMembershipInline(TenantInline):
    model = TeamMembership
    autocomplete_fields = ["team"]


@admin.register(Person, site=tenant_admin_site)
class PersonAdmin(TenantModelAdmin):
    list_display = ["name", "employee_id", "email", "role", "hire_date", "termination_date"]
    list_filter = ["role"]
    search_fields = ["name", "email", "employee_id"]
    inlines = [TeamMembershipInline]


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
class TeamMembershipAdmin(TenantModelAdmin):
    list_display = ["person", "team", "valid_from", "valid_to"]
    list_filter = ["team"]
    search_fields = ["person__name", "team__name"]
    autocomplete_fields = ["person", "team"]
