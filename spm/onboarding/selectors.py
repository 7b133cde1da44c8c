"""Reads for the setup checklist and the first-run page: which setup steps have their rows."""

from __future__ import annotations

import datetime

from django.db.models import Exists, Min, QuerySet

from compensation.models import (
    CalculationRun,
    PlanAssignment,
    PlanVersion,
    RunStatus,
    VersionStatus,
)
from quotas.models import Quota
from spm.crm.models import Account, Deal, Stage
from spm.org import calendar
from spm.org.models import Period, PeriodKind, Person, Team
from spm.tenancy.models import Tenant


def _step_rows() -> dict[str, QuerySet]:
    """Per setup step, in the order they are done, the rows whose existence means it is done."""
    return {
        "calendar": Period.objects.all(),
        "people": Person.objects.all(),
        "teams": Team.objects.all(),
        "stages": Stage.objects.all(),
        "accounts": Account.objects.all(),
        "deals": Deal.objects.all(),
        # A draft pays nothing, so only a published version makes a plan usable.
        "plans": PlanVersion.objects.filter(status=VersionStatus.PUBLISHED),
        "assignments": PlanAssignment.objects.all(),
        "quotas": Quota.objects.all(),
        "calculation": CalculationRun.objects.filter(status=RunStatus.SUCCEEDED),
    }


def setup_progress(*, tenant: Tenant) -> dict[str, bool]:
    """For each setup step, whether the active tenant has its rows: one query in all.

    EXISTS stops at the first row, so a tenant with millions of deals costs no more than an
    empty one (a count would read them all on every visit to the home page).
    """
    rows = _step_rows()
    flags = (
        Tenant.objects.filter(pk=tenant.pk)
        .annotate(**{f"has_{key}": Exists(queryset) for key, queryset in rows.items()})
        .values(*(f"has_{key}" for key in rows))
        .get()
    )
    return {key: bool(flags[f"has_{key}"]) for key in rows}


def history_years_present(*, today: datetime.date, start_month: int) -> int | None:
    """How many fiscal years before today's the active tenant has periods for (None: none)."""
    first = Period.objects.filter(kind=PeriodKind.YEAR).aggregate(first=Min("fiscal_year"))
    if first["first"] is None:
        return None
    return max(calendar.fiscal_year_of(today, start_month) - first["first"], 0)


def fiscal_years_present() -> list[Period]:
    """The active tenant's fiscal-year periods, oldest first."""
    return list(Period.objects.filter(kind=PeriodKind.YEAR).order_by("fiscal_year"))
