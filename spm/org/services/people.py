"""Writes for people: their team membership and the roster upsert."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from spm.tenancy.context import require_active_tenant

from ..bulk import Column, UpsertResult, choice, day, plan_upsert, text
from ..models import Person, SellerRole, Team, TeamMembership


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
