from django.contrib import admin

from spm.tenancy.admin_site import TenantModelAdmin, tenant_admin_site

from .models import Person, Team, TeamMembership


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 0
    autocomplete_fields = ["team"]


@admin.register(Person, site=tenant_admin_site)
class PersonAdmin(TenantModelAdmin):
    list_display = ["name", "employee_id", "email", "role", "hire_date", "termination_date"]
    list_filter = ["role"]
    search_fields = ["name", "email", "employee_id"]
    inlines = [TeamMembershipInline]


@admin.register(Team, site=tenant_admin_site)
class TeamAdmin(TenantModelAdmin):
    list_display = ["name", "parent", "manager"]
    search_fields = ["name"]
    autocomplete_fields = ["parent", "manager"]


@admin.register(TeamMembership, site=tenant_admin_site)
class TeamMembershipAdmin(TenantModelAdmin):
    list_display = ["person", "team", "valid_from", "valid_to"]
    list_filter = ["team"]
    search_fields = ["person__name", "team__name"]
    autocomplete_fields = ["person", "team"]
