"""Who may call the API: a valid key, and only while its own tenant is the active one."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from spm.tenancy.context import get_active_tenant
from spm.tenancy.models import ApiKey


class HasTenantApiKey(BasePermission):
    message = "An API key is required."

    def has_permission(self, request: Request, view: Any) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return False
        # Belt and braces: a view that forgot to enter the key's tenant must not serve anything.
        active = get_active_tenant()
        return active is not None and active.pk == key.tenant_id
