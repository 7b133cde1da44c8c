"""The registration rules of the two admin sites, enforced by a system check."""

from __future__ import annotations

import pytest
from django import forms
from django.contrib import admin
from django.core import checks

from spm.org.models import Person, TeamMembership
from spm.tenancy.admin_site import (
    TenantAdminSite,
    TenantInline,
    TenantModelAdmin,
    admin_registration_errors,
    check_admin_registrations,
    tenant_admin_site,
)
from spm.tenancy.models import Tenant


def error_ids(platform_site: admin.AdminSite, tenant_site: admin.AdminSite) -> list[str]:
    return [e.id for e in admin_registration_errors(platform_site=platform_site,
                                                    tenant_site=tenant_site)]


@pytest.fixture
def sites():
    return admin.AdminSite(name="platform_probe"), TenantAdminSite(name="tenant_probe")


def test_the_real_admin_sites_follow_the_rules():
    assert error_ids(admin.site, tenant_admin_site) == []


def test_the_rules_run_with_the_admin_system_checks():
    assert check_admin_registrations in checks.registry.registry.get_checks()
    ours = [m for m in checks.run_checks(tags=[checks.Tags.admin]) if m.id.startswith("spm.")]
    assert ours == []


def test_a_tenant_model_on_the_platform_admin_is_an_error(sites):
    platform, tenant = sites
    platform.register(Person)
    assert error_ids(platform, tenant) == ["spm.E101"]


def test_the_history_of_a_tenant_model_on_the_platform_admin_is_an_error(sites):
    platform, tenant = sites
    platform.register(Person.history.model)
    assert error_ids(platform, tenant) == ["spm.E101"]


def test_a_platform_model_on_the_tenant_admin_is_an_error(sites):
    platform, tenant = sites
    tenant.register(Tenant, TenantModelAdmin)
    assert error_ids(platform, tenant) == ["spm.E102"]


def test_a_stock_model_admin_on_the_tenant_admin_is_an_error(sites):
    platform, tenant = sites
    tenant.register(Person, admin.ModelAdmin)
    assert error_ids(platform, tenant) == ["spm.E103", "spm.E105"]


def test_a_stock_inline_in_the_tenant_admin_is_an_error(sites):
    platform, tenant = sites

    class StockInline(admin.TabularInline):
        model = TeamMembership

    class PersonAdmin(TenantModelAdmin):
        inlines = [StockInline]

    tenant.register(Person, PersonAdmin)
    assert error_ids(platform, tenant) == ["spm.E104", "spm.E105"]


def test_a_form_that_skips_the_tenants_unique_constraints_is_an_error(sites):
    platform, tenant = sites

    class PlainForm(forms.ModelForm):
        class Meta:
            model = Person
            fields = ["name"]

    class PersonAdmin(TenantModelAdmin):
        form = PlainForm

    tenant.register(Person, PersonAdmin)
    assert error_ids(platform, tenant) == ["spm.E105"]


def test_an_inline_form_that_skips_the_tenants_unique_constraints_is_an_error(sites):
    platform, tenant = sites

    class MembershipInline(TenantInline):
        model = TeamMembership
        form = forms.ModelForm

    class PersonAdmin(TenantModelAdmin):
        inlines = [MembershipInline]

    tenant.register(Person, PersonAdmin)
    assert error_ids(platform, tenant) == ["spm.E105"]
    MembershipInline.form = TenantInline.form
    assert error_ids(platform, tenant) == []
