"""Team membership over time for the attainment roll-ups: which team a person was in on which
days, a month's quota split between teams by days, and the date windows credits are summed
over. Pure Python on dates and integer cents; no Django.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Collection, Iterable, Sequence
from typing import TypeVar

from planning.capacity import split_cents

T = TypeVar("T")
#: Days [start, end) a person spent in the team at `path`.
Segment = tuple[datetime.date, datetime.date, str]
#: A membership as stored: valid_from, valid_to (None: open), the team's path.
Membership = tuple[datetime.date, datetime.date | None, str]


def placements(
    memberships: Iterable[Membership], *, start: datetime.date, end: datetime.date
) -> list[Segment]:
    """The days of [start, end) the person spent in a team, in order, as disjoint segments.

    Memberships are not supposed to overlap (TeamMembership.clean refuses it); where stored
    ones do, the membership that began first keeps the shared days, as in crediting's manager
    roll-up, so one day always counts for one team.
    """
    segments: list[Segment] = []
    reach = start  # every day before this is taken by an earlier membership (or outside)
    for valid_from, valid_to, path in sorted(memberships, key=lambda m: (m[0], m[2])):
        first = max(valid_from, reach)
        last = min(valid_to or end, end)
        if first >= last:
            continue
        if segments and segments[-1][1] == first and segments[-1][2] == path:
            segments[-1] = (segments[-1][0], last, path)  # a renewal in the same team
        else:
            segments.append((first, last, path))
        reach = last
    return segments


def clip(segments: Sequence[Segment], *, start: datetime.date,
         end: datetime.date) -> list[Segment]:
    return [(max(a, start), min(b, end), path) for a, b, path in segments
            if max(a, start) < min(b, end)]


def within(segments: Sequence[Segment], paths: Collection[str]) -> list[Segment]:
    """The segments spent in a team whose path starts with one of `paths` (their subtrees)."""
    return [s for s in segments if any(s[2].startswith(p) for p in paths)]


def month_shares(
    quota_cents: int, segments: Sequence[Segment], *, month_start: datetime.date,
    month_end: datetime.date,
) -> dict[str | None, int]:
    """A month's quota split between the teams the person was in, by days; None holds the
    days in no team. The parts add up to exactly `quota_cents`.

    Rounding: largest remainder (`split_cents`) over the teams in the order the person first
    joined them that month, the days in no team last, so ties go to the earlier team and the
    same history always splits the same way.
    """
    days: dict[str | None, int] = {}
    for a, b, path in clip(segments, start=month_start, end=month_end):
        days[path] = days.get(path, 0) + (b - a).days
    outside = (month_end - month_start).days - sum(days.values())
    if outside:
        days[None] = outside
    if len(days) == 1:
        return dict.fromkeys(days, quota_cents)
    return dict(zip(days, split_cents(quota_cents, list(days.values())), strict=True))


def pieces(
    segments: dict[int, list[tuple[datetime.date, datetime.date, T]]],
    *, cuts: Iterable[datetime.date] = (),
) -> list[tuple[datetime.date, datetime.date]]:
    """The windows to sum credits over so that each person's segments are whole windows: the
    spans between consecutive segment edges and `cuts`, keeping only those inside a segment."""
    covered: list[tuple[datetime.date, datetime.date]] = []  # the union of every span
    for a, b in sorted((a, b) for segs in segments.values() for a, b, _ in segs):
        if covered and a <= covered[-1][1]:
            covered[-1] = (covered[-1][0], max(b, covered[-1][1]))
        else:
            covered.append((a, b))
    if not covered:
        return []
    edges = {d for segs in segments.values() for a, b, _ in segs for d in (a, b)}
    bounds = sorted(edges | {d for d in cuts if covered[0][0] < d < covered[-1][1]})
    windows = []
    union = iter(covered)
    span = next(union)
    for a, b in itertools.pairwise(bounds):
        while span[1] <= a:
            span = next(union)
        if span[0] <= a:
            windows.append((a, b))
    return windows
