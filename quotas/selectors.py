"""Reads for quotas: THE attainment selector (credited bookings over quota, per person and
period, year to date, with pace), its team roll-up, quota letters and the allocation workspace.

Pages, the API and the compensation engine all read attainment through `attainment_by_person`,
so the same number shows everywhere. Every read here takes a constant number of queries.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import reduce
from operator import or_

from django.db.models import DecimalField, Exists, F, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from planning.capacity import from_cents, to_cents
from planning.selectors import fiscal_year_bounds
from spm.org.calendar import add_months
from spm.org.models import Period, PeriodKind, Person, Team, TeamMembership
from spm.org.selectors import person_for_user, teams_visible_to, visible_person_ids
from spm.tenancy.context import require_active_tenant
from spm.tenancy.models import Membership as TenantMembership
from spm.tenancy.models import Role
from spm.tenancy.permissions import has_role
from spm.tenancy.today import tenant_today

from .allocation import Problem, check, people_share
from .credits import CreditSource, credit_source
from .models import Quota, QuotaAcknowledgement, QuotaAllocation, QuotaPlan
from .proration import Membership, Segment, clip, month_shares, pieces, placements, within
from .tree import allocation_rows, tree_from_rows

ZERO = Decimal("0")
MONEY_SUM = DecimalField(max_digits=18, decimal_places=2)


def ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    """part / whole to four decimals (0.8734 = 87.34%); None when there is nothing to divide by."""
    if not whole:
        return None
    return (part / whole).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def _sum(expression: str = "amount", **lookups: object) -> Coalesce:
    return Coalesce(Sum(expression, filter=Q(**lookups) if lookups else None), Value(ZERO),
                    output_field=MONEY_SUM)


def _valid_on(day: datetime.date) -> Q:
    return Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gt=day))


# -- the quota of a month ------------------------------------------------------------------------


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
            Q(period__end_date__gt=known_on) & _valid_on(known_on))
    # A version dated after its month counts only when none was in force at the month's end and
    # no earlier late one exists: the first quota set late is the month's, later ones are not.
    earlier = Quota.objects.filter(
        person_id=OuterRef("person_id"), period_id=OuterRef("period_id"),
        valid_from__lt=OuterRef("valid_from"),
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=OuterRef("period__end_date")))
    set_late = Q(valid_from__gte=month_end) & ~Exists(earlier)
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


# -- attainment ----------------------------------------------------------------------------------


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
    day = window.as_of
    month_start, gone, days = _month_gone(day)
    quotas = _window_quotas(window)
    if person_ids is not None:
        quotas = quotas.filter(person_id__in=list(person_ids))
    after = day + datetime.timedelta(days=1)
    in_period = {"period__start_date__gte": window.period_start}
    # The month in progress; on its last day it is one of the months gone by instead.
    running = {"period__start_date": month_start, "period__end_date__gt": after}
    quota_rows = {
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
        TeamMembership.objects.filter(below, valid_from__lt=end)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=start))
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


@dataclass
class TeamAttainment:
    """Sellers of a team and everything below it, summed (managers' own rows are left out)."""

    team: Team
    people: int = 0
    quota: Decimal = ZERO
    credited: Decimal = ZERO
    expected: Decimal = ZERO
    ytd_quota: Decimal = ZERO
    ytd_credited: Decimal = ZERO
    ytd_expected: Decimal = ZERO
    depth: int = 0

    @property
    def attainment(self) -> Decimal | None:
        return ratio(self.credited, self.quota)

    @property
    def ytd_attainment(self) -> Decimal | None:
        return ratio(self.ytd_credited, self.ytd_quota)

    @property
    def pace(self) -> Decimal | None:
        return ratio(self.credited, self.expected)

    @property
    def gap(self) -> Decimal:
        return max(self.quota - self.credited, ZERO)


@dataclass
class _TeamPart:
    """What one seller brings to the team at `path` (and every team above it)."""

    path: str
    person_id: int
    in_period: bool  # in the team on some day of the period: counts among its people
    quota: Decimal = ZERO
    credited: Decimal = ZERO
    expected: Decimal = ZERO
    ytd_quota: Decimal = ZERO
    ytd_credited: Decimal = ZERO
    ytd_expected: Decimal = ZERO


def attainment_by_team(
    *, rows: Sequence[Attainment], teams: Sequence[Team], period: Period, on: datetime.date
) -> list[TeamAttainment]:
    """Roll `rows` (attainment_by_person's for `period` as of `on`) up to `teams` by who was in
    each team's subtree on which day of the fiscal year (one query; four when a seller joined,
    left or changed teams during it).

    A seller in one team all year brings their row. One who joined, left or moved brings, to
    each team, every month's quota split by the days they spent in its subtree that month
    (`proration.month_shares`: exact cents, largest remainder, so the parts across teams and
    the days in no team add up to the month's quota) and the credits dated while they were in
    it. Team leaders' rows are skipped (whether or not they say `leads_team`) so a team's
    numbers are its sellers' and nothing twice.
    """
    if not teams:
        return []
    window = attainment_window(period=period, as_of=on)
    sellers = {r.person_id: r for r in rows if not r.leads_team}
    start, end = window.year_start, window.period_end
    # Once crediting has run, managers carry their teams' credits in rows that do not say
    # leads_team; leading a team is what keeps a row out.
    leads = Exists(Team.objects.filter(manager_id=OuterRef("person_id")))
    memberships: dict[int, list[Membership]] = {}
    for person_id, valid_from, valid_to, path, is_leader in (
        TeamMembership.objects.filter(person_id__in=list(sellers), valid_from__lt=end)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=start))
        .annotate(is_leader=leads)
        .values_list("person_id", "valid_from", "valid_to", "team__path", "is_leader")
    ):
        if not is_leader:
            memberships.setdefault(person_id, []).append((valid_from, valid_to, path))
    parts: list[_TeamPart] = []
    movers: dict[int, list[Segment]] = {}
    for person_id, found in memberships.items():
        segments = placements(found, start=start, end=end)
        if len(segments) == 1 and segments[0][:2] == (start, end):
            row = sellers[person_id]
            parts.append(_TeamPart(
                path=segments[0][2], person_id=person_id, in_period=True, quota=row.quota,
                credited=row.credited, expected=row.expected, ytd_quota=row.ytd_quota,
                ytd_credited=row.ytd_credited, ytd_expected=row.ytd_expected))
        elif segments:
            movers[person_id] = segments
    if movers:
        parts.extend(_mover_parts(movers, window))

    shallowest = min(t.depth for t in teams)
    totals = []
    for team in teams:
        total = TeamAttainment(team=team, depth=team.depth - shallowest)
        people = set()
        for part in parts:
            if part.path.startswith(team.path):
                if part.in_period:
                    people.add(part.person_id)
                total.quota += part.quota
                total.credited += part.credited
                total.expected += part.expected
                total.ytd_quota += part.ytd_quota
                total.ytd_credited += part.ytd_credited
                total.ytd_expected += part.ytd_expected
        total.people = len(people)
        totals.append(total)
    return totals


def _mover_parts(movers: dict[int, list[Segment]], window: Window) -> list[_TeamPart]:
    """The parts of sellers who changed teams: quotas month by month split by days, credits by
    the team on their date (three queries: their quotas, the credit source, their credits)."""
    after = window.as_of + datetime.timedelta(days=1)
    month_start, gone, days = _month_gone(window.as_of)
    quotas: dict[tuple[int, datetime.date, datetime.date], int] = {}
    for person_id, first, end, amount in (
        _window_quotas(window).filter(person_id__in=list(movers)).order_by()
        .values_list("person_id", "period__start_date", "period__end_date", "amount")
    ):
        key = (person_id, first, end)
        quotas[key] = quotas.get(key, 0) + to_cents(amount)

    cents: dict[tuple[int, str], dict[str, int]] = {}
    parts: dict[tuple[int, str], _TeamPart] = {}
    for person_id, segments in movers.items():
        for a, b, path in segments:
            part = parts.setdefault((person_id, path), _TeamPart(path, person_id, False))
            part.in_period |= a < window.period_end and b > window.period_start
            cents.setdefault((person_id, path), dict.fromkeys(
                ("quota", "ytd_quota", "done", "ytd_done", "running", "ytd_running"), 0))
    for (person_id, first, end), quota_cents in quotas.items():
        in_period = first >= window.period_start
        done, running = end <= after, first == month_start and end > after
        for path, share in month_shares(quota_cents, movers[person_id], month_start=first,
                                        month_end=end).items():
            if path is None:
                continue
            sums = cents[person_id, path]
            sums["ytd_quota"] += share
            sums["ytd_done"] += share if done else 0
            sums["ytd_running"] += share if running else 0
            if in_period:
                sums["quota"] += share
                sums["done"] += share if done else 0
                sums["running"] += share if running else 0
    for key, sums in cents.items():
        part = parts[key]
        part.quota, part.ytd_quota = from_cents(sums["quota"]), from_cents(sums["ytd_quota"])
        part.expected = _due(from_cents(sums["done"]), from_cents(sums["running"]), gone, days)
        part.ytd_expected = _due(from_cents(sums["ytd_done"]), from_cents(sums["ytd_running"]),
                                 gone, days)

    spans: dict[int, list[Span]] = {}
    for person_id, segments in movers.items():
        kept = clip(segments, start=window.year_start, end=window.cutoff)
        if kept:
            spans[person_id] = list(kept)
    for person_id, found in _credited_in(credit_source(), spans,
                                         cuts=[window.period_start]).items():
        for a, b, amount in found:
            span = _holding(a, b, spans[person_id])
            if span is not None and span[2] is not None:
                part = parts[person_id, span[2]]
                part.ytd_credited += amount
                if a >= window.period_start:
                    part.credited += amount
    return list(parts.values())


# -- the manager's team view ---------------------------------------------------------------------


def team_view_teams(*, membership: TenantMembership, on: datetime.date) -> list[Team]:
    """The teams the team view offers a member, in tree order: admin and finance every team, a
    manager the subtrees of the teams they lead (not the team they sit in as a member)."""
    teams = teams_visible_to(membership=membership, on=on)
    if has_role(membership, Role.MANAGER):
        me = person_for_user(user=membership.user)
        led = [t.path for t in teams if me is not None and t.manager_id == me.pk]
        teams = [t for t in teams if any(t.path.startswith(path) for path in led)]
    return teams


def _subtree_ids(team: Team, on: datetime.date) -> set[int]:
    """Everyone in `team` and below on `on` (one query)."""
    return set(
        TeamMembership.objects.filter(_valid_on(on), team__path__startswith=team.path)
        .values_list("person_id", flat=True)
    )


def _members_during(teams: Sequence[Team], start: datetime.date, end: datetime.date) -> set[int]:
    """Everyone in the subtrees of `teams` on any day in [start, end) (one query)."""
    if not teams:
        return set()
    within_teams = reduce(or_, (Q(team__path__startswith=team.path) for team in teams))
    return set(
        TeamMembership.objects.filter(within_teams, valid_from__lt=end)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=start))
        .values_list("person_id", flat=True)
    )


@dataclass(frozen=True)
class TeamTotal:
    """The sum of the seller rows a team view shows, to the cent."""

    people: int
    quota: Decimal
    credited: Decimal
    expected: Decimal
    gap: Decimal

    @property
    def attainment(self) -> Decimal | None:
        return ratio(self.credited, self.quota)

    @property
    def pace(self) -> Decimal | None:
        return ratio(self.credited, self.expected)


def team_total(rows: Sequence[Attainment], leaders: Collection[int]) -> TeamTotal:
    """THE rule for a team view's totals: the rows of people who lead no team, added up.

    A team leader's row, at any depth of the subtree, rolls up the bookings of the people below
    them (by the selector's roll-up, or by crediting's manager credits), who have rows of their
    own: it is shown, not added. A leader's personal deals are therefore in their row only.
    """
    sellers = [r for r in rows if r.person_id not in leaders]
    return TeamTotal(
        people=len(sellers),
        quota=sum((r.quota for r in sellers), ZERO),
        credited=sum((r.credited for r in sellers), ZERO),
        expected=sum((r.expected for r in sellers), ZERO),
        gap=sum((r.gap for r in sellers), ZERO),
    )


@dataclass
class TeamView:
    """What the team view shows a member for a period, as of a day."""

    teams: list[Team]  # the teams the member may choose from
    chosen: Team | None = None
    refused: bool = False  # a team was asked for that the member may not see
    rows: list[Attainment] = field(default_factory=list)  # people in the teams on the day
    leaders: frozenset[int] = frozenset()  # rows that roll up a team: shown, not added
    team_rows: list[TeamAttainment] = field(default_factory=list)
    total: TeamTotal | None = None


def team_attainment(
    *, membership: TenantMembership, period: Period | None, day: datetime.date, team_id: int | None
) -> TeamView:
    """The people of the member's teams (or of `team_id`, one of them) with their attainment,
    the per-team roll-up and the totals (`team_total`), in a constant number of queries.

    The people table lists who is in the teams on `day` and whom the member may see; the team
    roll-up also counts, by their days, sellers who left or moved away earlier in the year.
    """
    teams = team_view_teams(membership=membership, on=day)
    chosen = next((t for t in teams if t.pk == team_id), None) if team_id is not None else None
    view = TeamView(teams=teams, chosen=chosen, refused=team_id is not None and chosen is None)
    scope = [t for t in teams if chosen is None or t.path.startswith(chosen.path)]
    if period is None or not scope:
        return view
    visible = visible_person_ids(membership=membership, on=day)
    ids = _subtree_ids(chosen, day) if chosen is not None else None
    if visible is not None:
        ids = visible if ids is None else ids & visible
    everyone = ids
    if ids is not None:
        window = attainment_window(period=period, as_of=day)
        roots = [t for t in scope if not any(t.path.startswith(o.path) and t is not o
                                             for o in scope)]
        everyone = ids | _members_during(roots, window.year_start, window.cutoff)
    every_row = attainment_by_person(period=period, as_of=day, person_ids=everyone)
    view.rows = [r for r in every_row if ids is None or r.person_id in ids]
    # Leading a team is what makes a roll-up row, whichever source credits managers: the
    # attainment_by_team rule, so the totals and the team table agree.
    view.leaders = frozenset(Team.objects.filter(
        manager_id__in=[r.person_id for r in view.rows]).values_list("manager_id", flat=True))
    view.team_rows = attainment_by_team(rows=every_row, teams=scope, period=period, on=day)
    view.total = team_total(view.rows, view.leaders)
    return view


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

# -- quota letters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuotaLetter:
    plan: QuotaPlan
    person: Person
    annual: Decimal
    months: list[tuple[Period, Decimal]]
    quarters: list[tuple[str, Decimal]]
    acknowledgement: QuotaAcknowledgement | None

    @property
    def acknowledged(self) -> bool:
        """Acknowledged as it stands now (an earlier acknowledgement of another amount is not)."""
        ack = self.acknowledgement
        return ack is not None and ack.annual_amount == self.annual


def quota_letter(*, plan: QuotaPlan, person: Person, on: datetime.date) -> QuotaLetter | None:
    """The person's quota in the plan as in force on `on`, by month and quarter (three queries).

    None when the person has no quota in the plan.
    """
    year_start, year_end = fiscal_year_bounds(plan.fiscal_year)
    known_on = min(max(on, year_start), year_end - datetime.timedelta(days=1))
    rows = list(
        Quota.objects.filter(_valid_on(known_on), plan=plan, person=person)
        .select_related("period").order_by("period__start_date")
    )
    if not rows:
        return None
    quarters: dict[int, Decimal] = {}
    for row in rows:
        quarter = (row.period.number - 1) // 3 + 1
        quarters[quarter] = quarters.get(quarter, ZERO) + row.amount
    ack = (
        QuotaAcknowledgement.objects.filter(plan=plan, person=person)
        .order_by("-acknowledged_at").first()
    )
    return QuotaLetter(
        plan=plan, person=person,
        annual=sum((r.amount for r in rows), ZERO),
        months=[(r.period, r.amount) for r in rows],
        quarters=[(f"Q{q}", amount) for q, amount in sorted(quarters.items())],
        acknowledgement=ack,
    )


def published_plans_of(*, person: Person) -> list[QuotaPlan]:
    """Published plans in which the person has a quota, latest year first."""
    return list(
        QuotaPlan.objects.filter(status="published", quotas__person=person)
        .distinct().order_by("-fiscal_year")
    )


# -- the allocation workspace --------------------------------------------------------------------


@dataclass
class WorkspaceRow:
    node: QuotaAllocation
    depth: int
    children_total: Decimal = ZERO  # what the children carry
    owed: Decimal | None = None  # what they must carry
    problems: list[str] = field(default_factory=list)
    in_force: Decimal | None = None  # people: the annual quota currently in force
    acknowledged_at: datetime.datetime | None = None
    acknowledged_amount: Decimal | None = None

    @property
    def is_person(self) -> bool:
        return self.node.person_id is not None


@dataclass
class Workspace:
    plan: QuotaPlan
    rows: list[WorkspaceRow]
    problems: list[Problem]
    people_total: Decimal
    people_count: int
    acknowledged_count: int

    @property
    def adds_up(self) -> bool:
        return not self.problems


def allocation_workspace(*, plan: QuotaPlan, on: datetime.date) -> Workspace:
    """The plan's tree in order, each node with its children's sum, what they owe, problems,
    and for people their quota in force and acknowledgement (three queries)."""
    nodes = allocation_rows(plan)
    year_start, year_end = fiscal_year_bounds(plan.fiscal_year)
    known_on = min(max(on, year_start), year_end - datetime.timedelta(days=1))
    in_force = dict(
        Quota.objects.filter(_valid_on(known_on), plan=plan).order_by()
        .values("person_id").annotate(total=Sum("amount")).values_list("person_id", "total")
    )
    acks: dict[int, QuotaAcknowledgement] = {}
    for ack in QuotaAcknowledgement.objects.filter(plan=plan).order_by("acknowledged_at"):
        acks[ack.person_id] = ack  # the latest wins
    root = tree_from_rows(nodes)
    problems = [] if root is None else check(
        root, total_cents=to_cents(plan.target), factor=plan.factor,
        currency=require_active_tenant().currency)
    by_key: dict[str, list[str]] = {}
    for problem in problems:
        by_key.setdefault(problem.key, []).append(problem.message)

    children: dict[int | None, list[QuotaAllocation]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    depth: dict[int, int] = {}
    rows = []
    for node in nodes:
        depth[node.pk] = depth[node.parent_id] + 1 if node.parent_id in depth else 0
        kids = children.get(node.pk, [])
        row = WorkspaceRow(node=node, depth=depth[node.pk],
                           children_total=sum((k.amount for k in kids), ZERO),
                           problems=by_key.get(node.key, []))
        if kids:
            sub_teams = sum((to_cents(k.amount) for k in kids if k.person_id is None), 0)
            if any(k.person_id for k in kids):
                owed_people = people_share(team_cents=to_cents(node.amount),
                                           sub_team_cents=sub_teams, factor=plan.factor)
                row.owed = from_cents(sub_teams + owed_people)
            else:
                row.owed = node.amount
        if node.person_id is not None:
            row.in_force = in_force.get(node.person_id)
            ack = acks.get(node.person_id)
            if ack is not None:
                row.acknowledged_at = ack.acknowledged_at
                row.acknowledged_amount = ack.annual_amount
        rows.append(row)
    people_rows = [r for r in rows if r.is_person]
    return Workspace(
        plan=plan, rows=rows, problems=problems,
        people_total=sum((r.node.amount for r in people_rows), ZERO),
        people_count=len(people_rows),
        acknowledged_count=sum(
            1 for r in people_rows
            if r.acknowledged_amount is not None and r.acknowledged_amount == r.in_force
        ),
    )


def quota_plans() -> list[QuotaPlan]:
    return list(QuotaPlan.objects.select_related("sales_plan").order_by("-fiscal_year"))
