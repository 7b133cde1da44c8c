"""Writes for fiscal periods: generating the calendar, its statuses, deleting it."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from spm.tenancy.context import require_active_tenant

from .. import calendar
from ..models import Period, PeriodStatus
from ..selectors import periods_holding_data


@transaction.atomic
def periods_generate(*, fiscal_years: range | list[int]) -> list[Period]:
    """Create the active tenant's year, quarter and month periods of `fiscal_years`.

    Idempotent: periods that exist are kept (with their status). A period that exists with other
    dates means the fiscal-year start month changed after periods were made; that is refused
    rather than silently leaving two calendars side by side.
    """
    tenant = require_active_tenant()
    start_month = tenant.fiscal_year_start_month
    wanted = [
        span
        for fiscal_year in fiscal_years
        for span in calendar.periods_of_fiscal_year(fiscal_year, start_month)
    ]
    existing = {
        (p.kind, p.fiscal_year, p.number): p
        for p in Period.objects.filter(fiscal_year__in=list(fiscal_years))
    }
    missing: list[Period] = []
    for span in wanted:
        period = existing.get((span.kind, span.fiscal_year, span.number))
        if period is None:
            missing.append(
                Period(
                    kind=span.kind,
                    fiscal_year=span.fiscal_year,
                    number=span.number,
                    start_date=span.start,
                    end_date=span.end,
                    label=span.label,
                )
            )
        elif (period.start_date, period.end_date) != (span.start, span.end):
            raise ValidationError(
                f"{period.label} runs {period.start_date} to {period.end_date}, which does not "
                f"match a fiscal year starting in month {start_month}. Remove or fix the old "
                "periods before generating new ones."
            )
    Period.objects.bulk_create(missing)
    periods = Period.objects.filter(fiscal_year__in=list(fiscal_years))
    return list(periods.order_by("start_date", "-end_date"))


@transaction.atomic
def periods_generate_covering(*, first: datetime.date, last: datetime.date) -> list[Period]:
    """Periods for every fiscal year that touches the dates from `first` to `last`."""
    start_month = require_active_tenant().fiscal_year_start_month
    return periods_generate(fiscal_years=calendar.fiscal_years_between(first, last, start_month))


@transaction.atomic
def periods_generate_around(*, today: datetime.date, past_years: int = 0) -> list[Period]:
    """Periods of today's fiscal year, of the `past_years` before it and of the next one.

    The next year is always there so its sales and quota plans can be prepared before it starts;
    past years give imported history (deals, old quotas) periods to land in.
    """
    if past_years < 0:
        raise ValidationError({"past_years": "Cannot be negative."})
    start_month = require_active_tenant().fiscal_year_start_month
    current = calendar.fiscal_year_of(today, start_month)
    return periods_generate_covering(
        first=calendar.fiscal_year_start(current - past_years, start_month),
        last=calendar.fiscal_year_start(current + 1, start_month),
    )


@transaction.atomic
def periods_delete_all() -> int:
    """Delete the active tenant's periods so another fiscal calendar can replace them.

    Refused while any period is locked or referred to: several of those references cascade, so
    deleting would quietly take data with it.
    """
    holding = periods_holding_data()
    if holding:
        raise ValidationError(
            f"The fiscal periods cannot be replaced: they already hold {', '.join(holding)}."
        )
    _, deleted = Period.objects.all().delete()
    return deleted.get(Period._meta.label, 0)


@transaction.atomic
def period_set_status(*, period: Period, status: str) -> Period:
    """Lock a period (payroll done) or reopen it; the change lands in the period's history."""
    if status not in PeriodStatus.values:
        raise ValidationError({"status": f"Unknown status {status!r}."})
    period = Period.objects.select_for_update().get(pk=period.pk)
    if period.status != status:
        period.status = status
        period.save(update_fields=["status"])
    return period
