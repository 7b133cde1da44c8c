"""Team roll-ups of attainment: per-team totals by the days each seller spent in a team,
and the manager's team view with its totals.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce
from operator import or_

from django.db.models import Exists, OuterRef, Q

from planning.capacity import from_cents, to_cents
from spm.org.models import Period, Team, TeamMembership
from spm.org.selectors import person_for_user, teams_visible_to, visible_person_ids
from spm.tenancy.models import Membership as TenantMembership
from spm.tenancy.models import Role
from spm.tenancy.permissions import has_role

from ..credits import credit_source
from ..proration import Membership, Segment, clip, month_shares, placements
from .attainment import (
    Attainment,
    Span,
    Window,
    _credited_in,
    _due,
    _holding,
    _month_gone,
    _window_quotas,
    attainment_by_person,
    attainment_window,
)
from .common import ZERO, ratio


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
        TeamMembership.objects.filter(person_id__in=list(sellers)).overlapping(start, end)
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
        for team_path, share in month_shares(quota_cents, movers[person_id], month_start=first,
                                             month_end=end).items():
            if team_path is None:
                continue
            sums = cents[person_id, team_path]
            sums["ytd_quota"] += share
            sums["ytd_done"] += share if done else 0
            sums["ytd_running"] += share if running else 0
            if in_period:
                sums["quota"] += share
                sums["done"] += share if done else 0
                sums["running"] += share if running else 0
    for part_key, sums in cents.items():
        part = parts[part_key]
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
        TeamMembership.objects.valid_on(on).filter(team__path__startswith=team.path)
        .values_list("person_id", flat=True)
    )


def _members_during(teams: Sequence[Team], start: datetime.date, end: datetime.date) -> set[int]:
    """Everyone in the subtrees of `teams` on any day in [start, end) (one query)."""
    if not teams:
        return set()
    within_teams = reduce(or_, (Q(team__path__startswith=team.path) for team in teams))
    return set(
        TeamMembership.objects.filter(within_teams).overlapping(start, end)
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
