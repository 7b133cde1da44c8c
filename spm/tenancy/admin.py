"""Platform admin (/admin/, superusers): tenants and who belongs to them.

Tenant-owned data is never registered here; a superuser opens a tenant's own admin from the
tenant list and works there with that tenant active (see admin_site.py).
"""

from django.contrib import admin
from django.utils.html import format_html

from .models import Membership, Tenant
from .urls import tenant_reverse


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = [
        "name", "slug", "currency", "timezone", "fiscal_year_start_month", "is_active", "open_admin"
    ]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    @admin.display(description="Tenant admin")
    def open_admin(self, obj: Tenant) -> str:
        if not obj.is_active:
            return "—"
        return format_html(
            '<a href="{}">Open admin</a>', tenant_reverse(obj, "tenant_admin:index")
        )


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "tenant", "role", "is_active"]
    list_filter = ["role", "is_active", "tenant"]
    search_fields = ["user__username", "user__email", "tenant__name"]
    autocomplete_fields = ["user", "tenant"]
