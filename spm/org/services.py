"""Writes for people, teams and fiscal periods."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from spm.tenancy.context import require_active_tenant

from . import calendar
from .bulk import Column, UpsertResult, choice, day, plan_upsert, text
from .models import Period, PeriodStatus, Person, SellerRole, Team, TeamMembership

# Placing people under managers and the team tree's own writes live in their own modules;
# importing them from here keeps working.
from .placement import (  # noqa: F401
    PlacementResult,
    people_place_under_managers,
    reporting_cycle,
)
from .selectors import periods_holding_data
from .teams import TEAM_NAME_MAX, team_create, team_move  # noqa: F401


@transaction.atomic
def person_assign_team(
    *, person: Person, team: Team, valid_from: datetime.date
) -> TeamMembership:
    """Move a person into `team` from `valid_from`, closing the membership that was open then."""
    current = (
        TeamMembership.objects.select_for_update()
        .filter(person=person, valid_from__lt=valid_from, valid_to__isnull=True)
        .first()
    )
    if current is not None:
        current.valid_to = valid_from
        current.save(update_fields=["valid_to"])
    membership = TeamMembership(person=person, team=team, valid_from=valid_from)
    membership.full_clean()
    membership.save()
    return membership


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


def _email(value: Any) -> str:
    address = text(254, required=True)(value)
    if "@" not in address.strip("@"):
        raise ValueError(f"{value!r} is not an e-mail address")
    return address


def _payout_currency(value: Any) -> str:
    code = text(3)(value).upper()
    if code and not (len(code) == 3 and code.isalpha() and code.isascii()):
        raise ValueError(f"{value!r} is not a three-letter currency code")
    return code


PERSON_COLUMNS = [
    Column("name", text(200, required=True), required=True),
    Column("email", _email, required=True),
    Column("title", text(200), default=""),
    Column("role", choice(SellerRole), default=SellerRole.REP),
    Column("hire_date", day(nullable=True)),
    Column("termination_date", day(nullable=True)),
    Column("payout_currency", _payout_currency, default=""),
]


def _person_problems(values: dict[str, Any]) -> list[tuple[str, str]]:
    hired, left = values["hire_date"], values["termination_date"]
    if hired and left and left < hired:
        return [("termination_date", "is before the hire date")]
    return []


@transaction.atomic
def people_upsert(
    *, rows: Sequence[Mapping[str, Any]], actor: Any = None, batch_size: int = 1000
) -> UpsertResult:
    """Create or update people by `employee_id`; all rows are written or none.

    People are audited configuration, so unlike deals every write leaves a history row.
    """
    plan = plan_upsert(
        Person, rows=rows, key="employee_id", columns=PERSON_COLUMNS, check=_person_problems
    )
    user = actor if isinstance(actor, get_user_model()) else None
    created = bulk_create_with_history(
        [Person(**values) for _, values in plan.creates],
        Person,
        batch_size=batch_size,
        default_user=user,
    )
    changed = [Person(pk=pk, **values) for _, pk, _, values in plan.updates]
    for person in changed:
        person.tenant = require_active_tenant()
    if changed:
        bulk_update_with_history(
            changed,
            Person,
            [c.name for c in PERSON_COLUMNS],
            batch_size=batch_size,
            default_user=user,
        )
    ids = {p.employee_id: p.pk for p in created}
    ids.update((values["employee_id"], pk) for _, pk, _, values in plan.updates)
    ids.update((str(rows[index]["employee_id"]).strip(), pk) for index, pk in plan.unchanged)
    return UpsertResult(
        created=len(plan.creates), updated=len(plan.updates), unchanged=len(plan.unchanged),
        ids=ids,
    )


# -- the team tree from reporting lines ----------------------------------------------------------
