"""THE rule for the quota of a person for a fiscal month, as known on a day.

The attainment selectors and the compensation run both read quotas through `monthly_quotas`,
so a statement and the quota pages show the same number.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Sequence
from decimal import Decimal
from functools import reduce
from operator import or_
from typing import cast

from django.db.models import Exists, F, OuterRef, Q

from planning.selectors import fiscal_year_bounds
from spm.org.models import Period
from spm.tenancy.dating import valid_on_q

from ..models import Quota
from .common import ZERO


def _quota_known_on(day: datetime.date | None, year_start: datetime.date) -> datetime.date | None:
    # A plan applied ahead of its year is dated from the year's first day; read early, it shows.
    return None if day is None else max(day, year_start)


def _month_quota_rule(known_on: datetime.date | None) -> Q:
    """Picks the one Quota version per person and month that counts as known on `known_on`
    (see `monthly_quotas`). For months of one fiscal year, `known_on` already clamped into it."""
    month_end = F("period__end_date")
    closing = Q(valid_from__lt=month_end) & (Q(valid_to__isnull=True) | Q(valid_to__gte=month_end))
    if known_on is None:
        in_force = closing
    else:
        in_force = (Q(period__end_date__lte=known_on) & closing) | (
            Q(period__end_date__gt=known_on) & valid_on_q(known_on))
    # A version dated after its month counts only when none was in force at the month's end and
    # no earlier late one exists: the first quota set late is the month's, later ones are not.
    earlier = Quota.objects.filter(
        person_id=OuterRef("person_id"), period_id=OuterRef("period_id"),
        valid_from__lt=OuterRef("valid_from"),
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=OuterRef("period__end_date")))
    # Q & a condition is a Q (the stubs say only Combinable).
    set_late = cast(Q, Q(valid_from__gte=month_end) & ~Exists(earlier))
    if known_on is not None:
        set_late &= Q(valid_from__lte=known_on)
    return in_force | set_late


def monthly_quotas(
    *,
    months: Sequence[Period],
    known_on: datetime.date | None = None,
    person_ids: Collection[int] | None = None,
) -> dict[tuple[int, int], Decimal]:
    """Each person's quota for each of `months` (fiscal months) as known on `known_on`:
    {(person id, month id): amount}, one query. People without a quota are left out.

    THE rule for "the quota of P for month M as known on day D", which the attainment selectors
    and the compensation run share: the version in force on M's last day once M is over by D (a
    change dated later never rewrites a closed month, so a statement computed later shows the
    same quota), else the version in force on D (versions are effective-dated: a mid-year
    change counts from its date). When no version was in force on M's last day, the first one
    that took effect after M ended, by D, counts: a quota set late still counts. D before M's
    fiscal year reads as the year's first day, so a plan applied ahead of its year shows.
    `known_on` None: everything on record (the closing version, or the first set late).
    """
    by_year: dict[int, list[int]] = {}
    for month in months:
        by_year.setdefault(month.fiscal_year, []).append(month.pk)
    if not by_year:
        return {}
    rule = reduce(or_, (
        Q(period_id__in=ids)
        & _month_quota_rule(_quota_known_on(known_on, fiscal_year_bounds(year)[0]))
        for year, ids in by_year.items()
    ))
    quotas = Quota.objects.filter(rule)
    if person_ids is not None:
        quotas = quotas.filter(person_id__in=list(person_ids))
    found: dict[tuple[int, int], Decimal] = {}
    # In a fixed order: the compensation run fingerprints what it read.
    for person_id, period_id, amount in quotas.order_by("person_id", "period_id").values_list(
        "person_id", "period_id", "amount"
    ):
        # Overlapping versions (refused by Quota.clean, not by the schema) add up here just as
        # in the attainment selector's sums, so both still show the same number.
        found[person_id, period_id] = found.get((person_id, period_id), ZERO) + amount
    return found
