"""Admin of the settings behind finance's operations: the tenant's adjustment reason codes and
its dispute target. Adjustments, holds and disputes themselves are handled on their pages,
through the services that check and notify."""

from __future__ import annotations

from django.contrib import admin

from spm.tenancy.admin_site import TenantModelAdmin, tenant_admin_site

from .models import AdjustmentReason, DisputePolicy


@admin.register(AdjustmentReason, site=tenant_admin_site)
class AdjustmentReasonAdmin(TenantModelAdmin):
    list_display = ["code", "label", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "label"]


@admin.register(DisputePolicy, site=tenant_admin_site)
class DisputePolicyAdmin(TenantModelAdmin):
    list_display = ["target_days"]
