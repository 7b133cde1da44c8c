"""The tenant's calendar day: the one answer to "what is today?" for pages, services and tasks.

A tenant in Kiritimati and one in Pago Pago live a day apart for most of every UTC day, so which
period is open, which memberships are current and which quota applies all follow the tenant's own
clock, never the server's.
"""

from __future__ import annotations

import datetime
import zoneinfo
from typing import TYPE_CHECKING

from .context import require_active_tenant

if TYPE_CHECKING:
    from .models import Tenant


def tenant_today(
    tenant: Tenant | None = None, *, now: datetime.datetime | None = None
) -> datetime.date:
    """The calendar day at `now` (default: this moment) of `tenant`, else of the active one."""
    tenant = tenant if tenant is not None else require_active_tenant()
    zone = zoneinfo.ZoneInfo(tenant.timezone)
    if now is None:
        return datetime.datetime.now(tz=zone).date()
    return now.astimezone(zone).date()
