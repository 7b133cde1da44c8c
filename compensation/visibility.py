"""Whose statements and MBO scores a member may see or enter, and the lookups the compensation
pages make: a manager sees their subtree, a rep themselves, admin and finance everyone."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from compensation.models import CalculationRun
from spm.org.models import Period, PeriodKind, Person
from spm.org.selectors import visible_person_ids
from spm.tenancy.models import Membership, Role
from spm.tenancy.permissions import can_see_everyone, has_role
from spm.tenancy.today import tenant_today


def payee_ids_visible_to(*, membership: Membership, period: Period | None) -> set[int] | None:
    """People whose statements the member may see (None = everyone): as the team stood at the
    period's end, or today when no period is given."""
    on = period.last_day if period is not None else tenant_today()
    return visible_person_ids(membership=membership, on=on)


def payee_visible_to(*, membership: Membership, person_id: int, period: Period) -> Person | None:
    """The payee when the member may see them in `period` or today, else None: someone they
    may see on neither day gets the same answer as someone who does not exist."""
    ids = payee_ids_visible_to(membership=membership, period=period)
    if ids is not None and person_id not in ids:
        today_ids = payee_ids_visible_to(membership=membership, period=None)
        if today_ids is not None and person_id not in today_ids:
            return None
    return Person.objects.filter(pk=person_id).first()


def may_score(membership: Membership, person: Person) -> bool:
    """Whether the member may enter `person`'s MBO scores (visibility is checked before this).

    Nobody scores their own objectives but admin and finance, who answer for every score.
    """
    if can_see_everyone(membership):
        return True
    return has_role(membership, Role.MANAGER) and person.user_id != membership.user_id


def period_by_pk(raw: Any) -> Period | None:
    """The period a request names, or None when the value is missing, junk or not found."""
    return Period.objects.filter(pk=raw).first() if str(raw).isdigit() else None


def periods_for_runs() -> QuerySet[Period]:
    return Period.objects.filter(
        kind__in=[PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YEAR]
    ).order_by("-start_date", "end_date")


def periods_for_scoring() -> list[Period]:
    return list(Period.objects.order_by("-start_date", "end_date"))


def run_by_pk(pk: int) -> CalculationRun | None:
    return CalculationRun.objects.select_related("period", "requested_by").filter(pk=pk).first()
