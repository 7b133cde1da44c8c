"""The tenant-scoped Django admin, mounted at /t/<slug>/admin/.

Tenant-owned models register here (never on the platform site). Everything it shows goes through
the scoped default managers, so change lists, choices, autocomplete, filters, history and delete
previews see the active tenant only; a row of another tenant is a 404, like a missing one.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import Http404, HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from .permissions import can_configure, can_use_admin


class TenantAdminSite(admin.AdminSite):
    site_header = "SPM administration"
    site_title = "SPM admin"
    index_title = "Configuration"
    # The stock index lists the user's recent actions from every tenant; ours does not.
    index_template = "admin/tenant_index.html"

    def has_permission(self, request: HttpRequest) -> bool:
        return (
            request.user.is_active
            and getattr(request, "tenant", None) is not None
            and can_use_admin(getattr(request, "membership", None))
        )

    def each_context(self, request: HttpRequest) -> dict:
        context = super().each_context(request)
        tenant = getattr(request, "tenant", None)
        if tenant is not None:
            context["site_header"] = f"{tenant.name} · SPM administration"
        return context


tenant_admin_site = TenantAdminSite(name="tenant_admin")


class TenantModelAdmin(SimpleHistoryAdmin):
    """Base ModelAdmin for tenant-owned models. Admins edit; finance reads unless allowed."""

    #: Finance may change these models too (e.g. adjustments, payouts).
    finance_can_edit = False

    def _can_edit(self, request: HttpRequest) -> bool:
        membership = getattr(request, "membership", None)
        return can_configure(membership) or (self.finance_can_edit and can_use_admin(membership))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_use_admin(getattr(request, "membership", None))

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return can_use_admin(getattr(request, "membership", None))

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._can_edit(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._can_edit(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._can_edit(request)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Another tenant's row and a missing row get the same answer.
        raise Http404("No such record.")


class TenantInline(admin.TabularInline):
    extra = 0

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return can_use_admin(getattr(request, "membership", None))

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return can_configure(getattr(request, "membership", None))

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return can_configure(getattr(request, "membership", None))

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return can_configure(getattr(request, "membership", None))
