"""Opening a tenant for use: its fiscal periods and default sales stages, and the settings its
admin chooses on the first-run page (fiscal calendar, currency, time zone, years of history)."""

from __future__ import annotations

import copy
import datetime
import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model

from compensation.models import CalculationRun, CompPlan, ExchangeRate
from planning.models import SalesPlan
from quotas.models import QuotaPlan
from spm.crm.services import stages_create_defaults
from spm.org.models import Period
from spm.org.selectors import periods_holding_data
from spm.org.services import periods_delete_all, periods_generate_around
from spm.tenancy.context import require_active_tenant
from spm.tenancy.models import Tenant
from spm.tenancy.today import tenant_today

logger = logging.getLogger(__name__)

#: Fiscal years of history before the current one that a new tenant gets periods for.
DEFAULT_PAST_YEARS = 2
MAX_PAST_YEARS = 10

# Rows whose amounts are in the tenant currency: once one exists, a new currency would relabel
# them without converting them.
_MONEY_IN_TENANT_CURRENCY: tuple[type, ...] = (
    SalesPlan,
    QuotaPlan,
    CompPlan,
    ExchangeRate,
    CalculationRun,
)


@dataclass(frozen=True)
class Prepared:
    """What preparing a tenant did: the fiscal years it now has periods for and what it added."""

    first_fiscal_year: int
    last_fiscal_year: int
    periods_created: int
    stages_created: int

    @property
    def summary(self) -> str:
        periods = (
            f"{self.periods_created} new fiscal period{'s' if self.periods_created != 1 else ''}"
            if self.periods_created
            else "no new fiscal periods"
        )
        stages = (
            f"{self.stages_created} default sales stages"
            if self.stages_created
            else "the sales stages as they were"
        )
        return (
            f"Periods cover FY{self.first_fiscal_year} to FY{self.last_fiscal_year}: "
            f"{periods}, {stages}."
        )


def _check_active(tenant: Tenant) -> None:
    if require_active_tenant().pk != tenant.pk:
        raise ValueError(f"{tenant} is not the active tenant; run inside tenant_context(tenant).")


@transaction.atomic
def tenant_prepare(
    *,
    tenant: Tenant,
    past_years: int = DEFAULT_PAST_YEARS,
    today: datetime.date | None = None,
    actor: Any = None,
) -> Prepared:
    """Give the active tenant periods for `past_years` fiscal years of history, this year and
    the next, and the default sales stages if it has no stages. Idempotent: what exists is kept.
    """
    _check_active(tenant)
    if not 0 <= past_years <= MAX_PAST_YEARS:
        raise ValidationError(
            {"past_years": f"Choose between 0 and {MAX_PAST_YEARS} years of history."}
        )
    before = Period.objects.count()
    periods = periods_generate_around(today=today or tenant_today(tenant), past_years=past_years)
    created_stages = stages_create_defaults(actor=actor)
    years = [p.fiscal_year for p in periods]
    return Prepared(
        first_fiscal_year=min(years),
        last_fiscal_year=max(years),
        periods_created=Period.objects.count() - before,
        stages_created=len(created_stages),
    )


def _kinds_present(models: tuple[type[Model], ...]) -> list[str]:
    return [
        str(model._meta.verbose_name_plural)
        for model in models
        if model._default_manager.exists()
    ]


@transaction.atomic
def tenant_setup(
    *,
    tenant: Tenant,
    fiscal_year_start_month: int,
    currency: str,
    timezone: str,
    past_years: int,
    actor: Any = None,
    today: datetime.date | None = None,
) -> Prepared:
    """Save the tenant's first-run settings, then prepare it (`tenant_prepare`).

    The fiscal-year start may change only while no period holds data: the periods are then
    regenerated on the new calendar. Once quotas, runs or locked periods refer to periods, moving
    the calendar would move their figures into other periods, so it is refused. The currency
    likewise stays once amounts have been recorded in it.
    """
    _check_active(tenant)
    currency = currency.strip().upper()
    errors: dict[str, str] = {}
    calendar_changes = fiscal_year_start_month != tenant.fiscal_year_start_month
    if calendar_changes and Period.objects.exists():
        holding = periods_holding_data()
        if holding:
            errors["fiscal_year_start_month"] = (
                "The fiscal year start cannot change any more: the fiscal periods already hold "
                f"{', '.join(holding)}, which would move into other periods. Keep the current "
                "start month."
            )
    if currency != tenant.currency:
        recorded = _kinds_present(_MONEY_IN_TENANT_CURRENCY)
        if recorded:
            errors["currency"] = (
                f"The currency cannot change any more: {', '.join(recorded)} are already "
                f"recorded in {tenant.currency}, and changing it would not convert them."
            )
    candidate = copy.copy(tenant)
    candidate.fiscal_year_start_month = fiscal_year_start_month
    candidate.currency = currency
    candidate.timezone = timezone
    try:
        candidate.full_clean(exclude=["slug", "name"])
    except ValidationError as exc:
        errors.update({field: " ".join(msgs) for field, msgs in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)

    changed = {
        field: (getattr(tenant, field), getattr(candidate, field))
        for field in ("fiscal_year_start_month", "currency", "timezone")
        if getattr(tenant, field) != getattr(candidate, field)
    }
    if calendar_changes:
        periods_delete_all()
    if changed:
        for field, (_old, new) in changed.items():
            setattr(tenant, field, new)
        tenant.save(update_fields=list(changed))
        active = require_active_tenant()
        if active is not tenant:
            active.refresh_from_db(fields=list(changed))
        # The tenant row has no history table of its own; the log keeps who changed what.
        logger.info(
            "tenant settings changed",
            extra={
                "changes": {field: list(values) for field, values in changed.items()},
                "actor_id": getattr(actor, "pk", None),
            },
        )
    return tenant_prepare(tenant=tenant, past_years=past_years, today=today, actor=actor)
