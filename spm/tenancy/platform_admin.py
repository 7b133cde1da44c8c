"""The platform admin site at /admin/: superusers only, whatever staff flags say."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest


class PlatformAdminSite(admin.AdminSite):
    site_header = "SPM platform administration"
    site_title = "SPM platform"

    def has_permission(self, request: HttpRequest) -> bool:
        # Tenants, memberships and users span every customer: staff status or model
        # permissions granted by mistake must not open them.
        return request.user.is_active and request.user.is_superuser


class PlatformAdminConfig(AdminConfig):
    default_site = "spm.tenancy.platform_admin.PlatformAdminSite"
