"""THE attainment selector: credited bookings over quota, per person and period, year to date,
with pace; and the same month by month for one person.

Pages, the API and the compensation engine all read attainment through `attainment_by_person`,
so the same number shows everywhere. Every read here takes a constant number of queries.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q, QuerySet

from planning.capacity import from_cents, to_cents
from planning.selectors import fiscal_year_bounds
from spm.org.calendar import add_months
from spm.org.models import Period, PeriodKind, Person, Team, TeamMembership
from spm.tenancy.today import tenant_today

from ..credits import CreditSource, credit_source
from ..models import Quota
from ..proration import Membership, Segment, pieces, placements, within
from .common import ZERO, _sum, ratio
from .monthly import _month_quota_rule, monthly_quotas


@dataclass(frozen=True)
class Attainment:
    """One person's attainment in a period and in its fiscal year up to the period's end.

    Money is Decimal. `expected` is the part of the quota due by the as-of day (the months gone
    by plus the elapsed share of the current one, so pace follows seasonality).
    """

    person_id: int
    name: str
    quota: Decimal
    credited: Decimal
    expected: Decimal
    ytd_quota: Decimal
    ytd_credited: Decimal
    ytd_expected: Decimal
    elapsed: Decimal  # share of the period's days gone by (0 to 1)
    leads_team: bool = False  # credited with their teams' bookings (a manager)

    @property
    def attainment(self) -> Decimal | None:
        return ratio(self.credited, self.quota)

    @property
    def ytd_attainment(self) -> Decimal | None:
        return ratio(self.ytd_credited, self.ytd_quota)

    @property
    def pace(self) -> Decimal | None:
        """Credited over what was due by now: 1.0 is exactly on pace."""
        return ratio(self.credited, self.expected)

    @property
    def ytd_pace(self) -> Decimal | None:
        return ratio(self.ytd_credited, self.ytd_expected)

    @property
    def gap(self) -> Decimal:
        """Still to book to reach the period's quota (0 once reached)."""
        return max(self.quota - self.credited, ZERO)

    @property
    def ytd_gap(self) -> Decimal:
        return max(self.ytd_quota - self.ytd_credited, ZERO)

    @property
    def ahead(self) -> Decimal:
        """Credited minus due by now: positive ahead of pace, negative behind."""
        return self.credited - self.expected


@dataclass(frozen=True)
class Window:
    """The days an attainment read covers."""

    period_start: datetime.date
    period_end: datetime.date
    year_start: datetime.date
    year_end: datetime.date
    as_of: datetime.date
    cutoff: datetime.date  # credits count before this day: the day after as_of, within period
    known_on: datetime.date  # quotas as known on this day (`monthly_quotas`)

    @property
    def elapsed(self) -> Decimal:
        days = (self.period_end - self.period_start).days
        gone = (min(self.as_of + datetime.timedelta(days=1), self.period_end)
                - self.period_start).days
        return (Decimal(max(gone, 0)) / days).quantize(Decimal("0.0001"))


def attainment_window(*, period: Period, as_of: datetime.date | None = None) -> Window:
    year_start, year_end = fiscal_year_bounds(period.fiscal_year)
    as_of = as_of or tenant_today()
    after = as_of + datetime.timedelta(days=1)
    return Window(
        period_start=period.start_date,
        period_end=period.end_date,
        year_start=year_start,
        year_end=year_end,
        as_of=as_of,
        cutoff=max(min(period.end_date, after), year_start),
        known_on=max(as_of, year_start),
    )


def _month_gone(day: datetime.date) -> tuple[datetime.date, int, int]:
    """The calendar month holding `day`, its days gone by at the end of `day`, and its days."""
    start = day.replace(day=1)
    return start, day.day, (add_months(start, 1) - start).days


def _due(done: Decimal, running: Decimal, gone: int, days: int) -> Decimal:
    """Quota due by now, to the cent (half-up): the months gone by, plus the days gone by of
    the month in progress (multiplied before dividing, so a half cent is exactly half)."""
    return _cents(done + running * gone / days)


def _window_quotas(window: Window) -> QuerySet[Quota]:
    """The counting Quota versions of the fiscal year's months up to the period's end."""
    return Quota.objects.filter(
        _month_quota_rule(window.known_on),
        period__kind=PeriodKind.MONTH,
        period__start_date__gte=window.year_start,
        period__end_date__lte=window.period_end,
    )


def _quota_sums(window: Window, month_start: datetime.date,
                person_ids: Collection[int] | None) -> dict[int, dict[str, Any]]:
    """Each person's quota for the period and the year, and what of it is due by now (one query)."""
    quotas = _window_quotas(window)
    if person_ids is not None:
        quotas = quotas.filter(person_id__in=list(person_ids))
    after = window.as_of + datetime.timedelta(days=1)
    in_period = {"period__start_date__gte": window.period_start}
    # The month in progress; on its last day it is one of the months gone by instead.
    running = {"period__start_date": month_start, "period__end_date__gt": after}
    return {
        row["person_id"]: row
        for row in quotas.order_by().values("person_id").annotate(
            quota=_sum(**in_period),
            ytd_quota=_sum(),
            done=_sum(period__end_date__lte=after, **in_period),
            ytd_done=_sum(period__end_date__lte=after),
            running=_sum(**running, **in_period),
            ytd_running=_sum(**running),
        )
    }


def _credited_with_teams(
    window: Window,
    source: CreditSource,
    credits: dict[int, dict[str, Decimal]],
    led: dict[int, dict[int, list[Span]]],
) -> Callable[[int, str], Decimal]:
    """A person's credits for "period" or "ytd", plus, for a manager, those of the people they
    led while they led them (one more query when someone joined or left mid-year)."""
    whole: list[Span] = [(window.year_start, window.cutoff, None)]
    partly: dict[int, list[Span]] = {}
    for members in led.values():
        for member, spans in members.items():
            if spans != whole:
                partly.setdefault(member, []).extend(spans)
    pieces_of = _credited_in(source, partly, cuts=[window.period_start]) if partly else {}

    def credited(person_id: int, key: str) -> Decimal:
        total = credits.get(person_id, {}).get(key, ZERO)
        since = window.period_start if key == "period" else window.year_start
        for member, spans in led.get(person_id, {}).items():
            if spans == whole:
                total += credits.get(member, {}).get(key, ZERO)
            else:
                total += sum((amount for a, b, amount in pieces_of.get(member, ())
                              if a >= since and _holding(a, b, spans)), ZERO)
        return total

    return credited


def attainment_by_person(
    *,
    period: Period,
    as_of: datetime.date | None = None,
    person_ids: Collection[int] | None = None,
) -> list[Attainment]:
    """Credited bookings over quota for `period` (a fiscal month, quarter or year) and for its
    fiscal year up to the period's end, as things stood at the end of `as_of` (default today).

    Quotas are each month's as known on `as_of` (`monthly_quotas`); credits come from the
    installed credit source up to `as_of`. A manager is credited with the bookings of everyone
    in the teams they lead, each booking by the team its seller was in on its date, when the
    source does not credit managers itself (as crediting does, so the numbers agree before and
    after it has run). People with neither quota nor credits are left out. Five queries, six
    when someone joined, left or changed teams under a manager during the year.
    """
    window = attainment_window(period=period, as_of=as_of)
    month_start, gone, days = _month_gone(window.as_of)
    quota_rows = _quota_sums(window, month_start, person_ids)
    source = credit_source()
    led: dict[int, dict[int, list[Span]]] = {}
    if source.rolls_up_to_managers and quota_rows:
        led = _people_led(manager_ids=set(quota_rows), start=window.year_start,
                          end=window.cutoff)
    wanted = None
    if person_ids is not None:
        wanted = set(person_ids) | {p for members in led.values() for p in members}
    credits = source.credited(
        windows={"period": (window.period_start, window.cutoff),
                 "ytd": (window.year_start, window.cutoff)},
        person_ids=wanted,
    )
    credited = _credited_with_teams(window, source, credits, led)

    ids = set(quota_rows) | (
        set(credits) & set(person_ids) if person_ids is not None else set(credits)
    )
    names = dict(Person.objects.filter(pk__in=ids).values_list("pk", "name"))
    rows = []
    for person_id in ids:
        q = quota_rows.get(person_id)
        rows.append(Attainment(
            person_id=person_id,
            name=names.get(person_id, ""),
            quota=q["quota"] if q else ZERO,
            credited=credited(person_id, "period"),
            expected=_due(q["done"], q["running"], gone, days) if q else ZERO,
            ytd_quota=q["ytd_quota"] if q else ZERO,
            ytd_credited=credited(person_id, "ytd"),
            ytd_expected=_due(q["ytd_done"], q["ytd_running"], gone, days) if q else ZERO,
            elapsed=window.elapsed,
            leads_team=person_id in led,
        ))
    rows.sort(key=lambda r: (r.name.lower(), r.person_id))
    return rows


def _cents(amount: Decimal) -> Decimal:
    return from_cents(to_cents(amount))


#: Days [start, end) of a person's credits that count, with what they count for (a team path).
Span = tuple[datetime.date, datetime.date, str | None]


def _holding(start: datetime.date, end: datetime.date, spans: Sequence[Span]) -> Span | None:
    """The span that holds the days [start, end), if any."""
    return next((s for s in spans if s[0] <= start and end <= s[1]), None)


def _credited_in(
    source: CreditSource, spans: dict[int, list[Span]], *, cuts: Sequence[datetime.date]
) -> dict[int, list[tuple[datetime.date, datetime.date, Decimal]]]:
    """Each person's credits in windows that fit inside their spans, cut also at `cuts`
    (one query): {person: [(start, end, amount)]}, windows with nothing credited left out."""
    windows = pieces(spans, cuts=cuts)
    if not windows:
        return {}
    found = source.credited(windows={f"d{a:%Y%m%d}": (a, b) for a, b in windows},
                            person_ids=list(spans))
    return {
        person_id: [(a, b, by_window[f"d{a:%Y%m%d}"]) for a, b in windows
                    if by_window.get(f"d{a:%Y%m%d}")]
        for person_id, by_window in found.items()
    }


def _people_led(
    *, manager_ids: set[int], start: datetime.date, end: datetime.date
) -> dict[int, dict[int, list[Span]]]:
    """For each of `manager_ids` who leads a team: everyone in those teams and below at some
    time in [start, end), with the days they were (2 queries)."""
    led_paths: dict[int, list[str]] = {}
    for manager_id, path in Team.objects.filter(manager_id__in=manager_ids).values_list(
        "manager_id", "path"
    ):
        led_paths.setdefault(manager_id, []).append(path)
    if not led_paths:
        return {}
    paths = {p for ps in led_paths.values() for p in ps}
    below = reduce(or_, (Q(team__path__startswith=p) for p in paths))
    memberships: dict[int, list[Membership]] = {}
    for person_id, valid_from, valid_to, path in (
        TeamMembership.objects.filter(below).overlapping(start, end)
        .values_list("person_id", "valid_from", "valid_to", "team__path")
    ):
        memberships.setdefault(person_id, []).append((valid_from, valid_to, path))
    led: dict[int, dict[int, list[Span]]] = {m: {} for m in led_paths}
    for person_id, rows in memberships.items():
        segments = placements(rows, start=start, end=end)
        for manager_id, manager_paths in led_paths.items():
            if person_id != manager_id:
                spans = _joined(within(segments, manager_paths))
                if spans:
                    led[manager_id][person_id] = spans
    return led


def _joined(segments: Sequence[Segment]) -> list[Span]:
    """Days in any of the teams, back-to-back segments as one span (a move inside the subtree
    does not cut it)."""
    spans: list[Span] = []
    for a, b, _ in segments:
        if spans and spans[-1][1] == a:
            spans[-1] = (spans[-1][0], b, None)
        else:
            spans.append((a, b, None))
    return spans


@dataclass(frozen=True)
class MonthAttainment:
    period: Period
    quota: Decimal
    credited: Decimal

    @property
    def attainment(self) -> Decimal | None:
        return ratio(self.credited, self.quota)


def attainment_by_month(
    *, person: Person, fiscal_year: int, as_of: datetime.date | None = None
) -> list[MonthAttainment]:
    """The person's quota and credits month by month through the fiscal year, by the same
    quota rule, credit source and managers' roll-up as `attainment_by_person` (four queries,
    six for a manager when the source does not credit managers)."""
    year_start, year_end = fiscal_year_bounds(fiscal_year)
    as_of = as_of or tenant_today()
    cutoff = max(min(year_end, as_of + datetime.timedelta(days=1)), year_start)
    months = list(Period.objects.filter(kind=PeriodKind.MONTH, fiscal_year=fiscal_year)
                  .order_by("start_date"))
    quota = monthly_quotas(months=months, known_on=as_of, person_ids={person.pk})
    source = credit_source()
    spans: dict[int, list[Span]] = {}
    if cutoff > year_start:
        spans[person.pk] = [(year_start, cutoff, None)]
        if source.rolls_up_to_managers:
            led = _people_led(manager_ids={person.pk}, start=year_start, end=cutoff)
            spans.update(led.get(person.pk, {}))
    found = _credited_in(source, spans, cuts=[m.start_date for m in months]) if spans else {}

    def credited(month: Period) -> Decimal:
        return sum((amount for person_id, pieces_ in found.items() for a, b, amount in pieces_
                    if month.start_date <= a < month.end_date
                    and _holding(a, b, spans[person_id])), ZERO)

    return [
        MonthAttainment(period=m, quota=quota.get((person.pk, m.pk), ZERO), credited=credited(m))
        for m in months
    ]
