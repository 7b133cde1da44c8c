"""The active tenant: a context variable plus, on PostgreSQL, a per-transaction setting.

`tenant_context(tenant)` is the only way to make a tenant active. It opens a transaction (a
savepoint when nested) and sets `app.tenant_id` with `set_config(..., is_local => true)`, so the
database wall sees the same tenant as the application wall and a pooled connection can never carry
the setting into someone else's request.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.db import connections, transaction

if TYPE_CHECKING:
    from .models import Tenant

_active_tenant: contextvars.ContextVar[Tenant | None] = contextvars.ContextVar(
    "spm_active_tenant", default=None
)


class TenantNotActiveError(RuntimeError):
    """Raised when tenant-owned data is touched with no tenant active (the fail-closed wall)."""


def get_active_tenant() -> Tenant | None:
    return _active_tenant.get()


def require_active_tenant() -> Tenant:
    tenant = _active_tenant.get()
    if tenant is None:
        raise TenantNotActiveError(
            "No tenant is active. Tenant-owned data can only be read or written inside "
            "tenant_context(tenant)."
        )
    return tenant


def _set_db_tenant(using: str, tenant_id: int | None) -> None:
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('app.tenant_id', %s, true)",
            ["" if tenant_id is None else str(tenant_id)],
        )


@contextlib.contextmanager
def tenant_context(tenant: Tenant, *, using: str = "default") -> Iterator[Tenant]:
    """Run the block with `tenant` active, inside one transaction on `using`."""
    previous = _active_tenant.get()
    # Inside an enclosing transaction (a nested block, a test case) the setting would outlive
    # this block, so it is handed back on the way out. A block that raises rolls back its
    # savepoint, and PostgreSQL undoes the setting with it.
    enclosed = connections[using].in_atomic_block
    token = _active_tenant.set(tenant)
    try:
        with transaction.atomic(using=using):
            _set_db_tenant(using, tenant.pk)
            yield tenant
            if enclosed:
                _set_db_tenant(using, previous.pk if previous is not None else None)
    finally:
        _active_tenant.reset(token)


@contextlib.contextmanager
def no_tenant() -> Iterator[None]:
    """Run platform code with no tenant active (tenant managers raise, RLS shows no rows)."""
    token = _active_tenant.set(None)
    try:
        yield
    finally:
        _active_tenant.reset(token)
