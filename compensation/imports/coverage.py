"""Whether a published version of each plan is in force on every day a file assigns it."""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import TYPE_CHECKING

from compensation.models import PlanVersion, VersionStatus

from . import outcomes as rules

if TYPE_CHECKING:  # the row outcomes live with the check that imports this module
    from .assignments import RowOutcome


def first_uncovered_day(versions: list[tuple[datetime.date, datetime.date | None]],
                        valid_from: datetime.date,
                        valid_to: datetime.date | None) -> datetime.date | None:
    """The first day of [valid_from, valid_to) no published version is in force on, if any."""
    day = valid_from
    for v_from, v_to in sorted(versions, key=lambda v: v[0]):
        if v_to is not None and v_to <= day:
            continue
        if v_from > day:
            return day
        if v_to is None:
            return None
        day = v_to
        if valid_to is not None and day >= valid_to:
            return None
    return day


def coverage_problems(rows: dict[int, RowOutcome], settled: dict[int, list[rules.Wanted]],
                       codes: dict[int, str]) -> list[rules.Problem]:
    """A problem for each row whose plan has no published version in force on some of its days."""
    versions: dict[int, list[tuple[datetime.date, datetime.date | None]]] = defaultdict(list)
    for plan_id, v_from, v_to in PlanVersion.objects.filter(
            status=VersionStatus.PUBLISHED).values_list("plan_id", "valid_from", "valid_to"):
        versions[plan_id].append((v_from, v_to))
    problems = []
    for wanted in settled.values():
        for w in wanted:
            plan_id = rows[w.row].plan_id
            if plan_id is None:
                continue
            code = codes[plan_id]
            if not versions[plan_id]:
                problems.append(rules.Problem(w.row, "plan", (
                    f"{code} has no published version yet; publish one before assigning "
                    "people to it")))
                continue
            day = first_uncovered_day(versions[plan_id], w.valid_from, w.valid_to)
            if day is not None:
                spans = "; ".join(rules.span(f, t) for f, t in sorted(
                    versions[plan_id], key=lambda v: v[0]))
                problems.append(rules.Problem(w.row, "plan", (
                    f"{code} has no published version in force on {day} (its published "
                    f"versions run {spans}); change the row's dates or publish a version that "
                    "covers them")))
    return problems
