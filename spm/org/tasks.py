"""Celery tasks of the org app: keep every tenant's fiscal periods one year ahead."""

from __future__ import annotations

from spm.tasks import tenant_task
from spm.tenancy.models import Tenant


@tenant_task(name="spm.org.periods_roll", idempotent=True, soft_time_limit=60, time_limit=120)
def periods_roll(*, tenant: Tenant) -> int:
    """Make sure the tenant has this fiscal year's and the next one's periods; returns how many
    periods those two years hold.

    Beat sends this daily to every tenant through spm.tasks.fan_out_to_tenants (settings), so
    the day a fiscal year starts, the year after it is already there to plan in. Existing periods
    are kept as they are, so reruns change nothing.
    """
    from spm.tenancy.today import tenant_today

    from .services import periods_generate_around

    return len(periods_generate_around(today=tenant_today(tenant)))
