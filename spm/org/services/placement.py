"""The team tree from reporting lines: each manager leads a team under their own manager's,
and each person joins their manager's team (`people_place_under_managers`)."""

from __future__ import annotations

import datetime
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from spm.tenancy.history import record_author

from ..models import Person, Team, TeamMembership
from .teams import TEAM_NAME_MAX, team_create, team_move


@dataclass
class PlacementResult:
    teams_created: int = 0
    teams_moved: int = 0
    people_placed: int = 0  # memberships opened, moved to another team, or ended


def reporting_cycle(reports: Mapping[str, str | None], start: str) -> list[str] | None:
    """The circle of reporting lines `start` sits in ([a, b, a]), or None."""
    seen = [start]
    current = reports.get(start)
    while current is not None:
        if current in seen:
            return [*seen[seen.index(current):], current] if current == start else None
        seen.append(current)
        current = reports.get(current)
    return None


def _depths(reports: Mapping[str, str | None]) -> dict[str, int]:
    """How many reporting lines lead from each person to someone who reports to no one here."""
    depths: dict[str, int] = {}
    for start in reports:
        chain = []
        current: str | None = start
        while current is not None and current not in depths:
            chain.append(current)
            current = reports.get(current)
        base = depths.get(current, -1) if current is not None else -1
        for offset, person in enumerate(reversed(chain), start=1):
            depths[person] = base + offset
    return depths


def _new_team_name(manager: Person, parent: Team | None) -> str:
    name = f"{manager.name}'s team"[:TEAM_NAME_MAX]
    if Team.objects.filter(parent=parent, name=name).exists():
        suffix = f" ({manager.employee_id})"
        name = name[: TEAM_NAME_MAX - len(suffix)] + suffix
    return name


def _membership_on(
    memberships: Sequence[TeamMembership], day: datetime.date
) -> TeamMembership | None:
    for membership in memberships:
        if membership.valid_from <= day and (
            membership.valid_to is None or day < membership.valid_to
        ):
            return membership
    return None


def _under_another_manager(team: Team, manager: Person) -> bool:
    """Whether a team above `team` is led by someone other than `manager`."""
    above = [pk for pk in team.ancestor_ids() if pk != team.pk]
    return Team.objects.filter(pk__in=above, manager__isnull=False).exclude(
        manager=manager
    ).exists()


@dataclass
class _MembershipWrites:
    """The membership rows a placement closes, moves, opens or deletes, written together."""

    closing: list[TeamMembership] = field(default_factory=list)
    moving: list[TeamMembership] = field(default_factory=list)
    opening: list[TeamMembership] = field(default_factory=list)
    ending: list[TeamMembership] = field(default_factory=list)


def _people_checked(reports: Mapping[str, str | None]) -> dict[str, Person]:
    """Everyone the reporting lines name, by employee ID; raises on strangers and circles."""
    wanted = set(reports) | {m for m in reports.values() if m is not None}
    people = {p.employee_id: p for p in Person.objects.filter(employee_id__in=sorted(wanted))}
    unknown = sorted(wanted - set(people))
    if unknown:
        raise ValidationError(f"Nobody has the employee ID {', '.join(unknown)}.")
    for employee_id in reports:
        cycle = reporting_cycle(reports, employee_id)
        if cycle:
            names = " -> ".join(people[e].name for e in cycle)
            raise ValidationError(f"The reporting lines go round in a circle: {names}.")
    return people


def _placement_state(
    people: Mapping[str, Person],
) -> tuple[dict[int, list[TeamMembership]], dict[int, list[Team]]]:
    """Each person's memberships by start, and the teams each leads, highest first."""
    pks = [p.pk for p in people.values()]
    memberships: dict[int, list[TeamMembership]] = {pk: [] for pk in pks}
    for membership in (
        TeamMembership.objects.filter(person_id__in=pks).select_related("team")
        .order_by("valid_from")
    ):
        memberships[membership.person_id].append(membership)
    led: dict[int, list[Team]] = {}
    for team in Team.objects.filter(manager_id__in=pks):
        led.setdefault(team.manager_id, []).append(team)
    for teams in led.values():
        teams.sort(key=lambda t: (len(t.path), t.pk))
    return memberships, led


def _place_tops(
    *,
    tops: Sequence[str],
    people: Mapping[str, Person],
    memberships: Mapping[int, list[TeamMembership]],
    led: Mapping[int, list[Team]],
    on: datetime.date,
    result: PlacementResult,
    writes: _MembershipWrites,
) -> None:
    """Free those who report to no one (and their teams) from under another manager."""
    # They go first: their teams become roots before anyone moves under them.
    for employee_id in tops:
        top = people[employee_id]
        for team in led.get(top.pk, [])[:1]:
            team = Team.objects.get(pk=team.pk)
            if team.parent_id is not None and _under_another_manager(team, top):
                team_move(team=team, parent=None)
                result.teams_moved += 1
        current = _membership_on(memberships[top.pk], on)
        if current is not None and (
            current.team.manager_id not in (None, top.pk)
            or _under_another_manager(current.team, top)
        ):
            if current.valid_from < on:
                current.valid_to = on
                writes.closing.append(current)
            else:
                writes.ending.append(current)
            result.people_placed += 1


def _manager_teams(
    *,
    placing: Mapping[str, str],
    tops: Sequence[str],
    people: Mapping[str, Person],
    memberships: Mapping[int, list[TeamMembership]],
    led: dict[int, list[Team]],
    on: datetime.date,
    result: PlacementResult,
) -> dict[str, Team]:
    """The team each manager leads, found or created, under their own manager's team."""
    depths = _depths(placing)
    managers = sorted(set(placing.values()), key=lambda e: (depths.get(e, 0), e))
    team_of: dict[str, Team] = {}
    for manager_id in managers:
        manager = people[manager_id]
        boss_id = placing.get(manager_id)
        boss_team = team_of.get(boss_id) if boss_id is not None else None
        if boss_team is not None:
            # Moves rewrite the paths of whole subtrees: read the path as it is now.
            boss_team = Team.objects.get(pk=boss_team.pk)
        if led.get(manager.pk):
            team = Team.objects.get(pk=led[manager.pk][0].pk)
            boss_led = {t.pk for t in led.get(people[boss_id].pk, [])} if boss_id else set()
            if boss_team is not None and team.parent_id not in boss_led:
                assert boss_id is not None  # a boss's team is only found through their id
                try:
                    team = team_move(team=team, parent=boss_team)
                except ValidationError:
                    raise ValidationError(
                        f"{manager.name}'s team cannot move under {people[boss_id].name}'s team, "
                        "which is below it in the team tree. Fix the tree in the admin (Teams) "
                        "or the manager in the file."
                    ) from None
                result.teams_moved += 1
        else:
            if boss_team is not None:
                parent = boss_team
            elif manager_id in tops:
                parent = None
            else:
                current = _membership_on(memberships[manager.pk], on)
                parent = current.team if current is not None else None
            team = team_create(
                name=_new_team_name(manager, parent), parent=parent, manager=manager
            )
            led[manager.pk] = [team]
            result.teams_created += 1
        team_of[manager_id] = team
    return team_of


def _place_reports(
    *,
    placing: Mapping[str, str],
    team_of: Mapping[str, Team],
    people: Mapping[str, Person],
    memberships: Mapping[int, list[TeamMembership]],
    led: Mapping[int, list[Team]],
    on: datetime.date,
    from_hire_date: Collection[str],
    result: PlacementResult,
    writes: _MembershipWrites,
) -> None:
    """Plan each person's move into their manager's team from `on` (or their hire date)."""
    for employee_id, manager_id in placing.items():
        person = people[employee_id]
        target = team_of[manager_id]
        own = memberships[person.pk]
        current = _membership_on(own, on)
        if current is not None and current.team_id in {t.pk for t in led[people[manager_id].pk]}:
            continue
        later = [m.valid_from for m in own if m.valid_from > on]
        if current is not None and current.valid_from == on:
            current.team = target
            writes.moving.append(current)
        else:
            start = on
            if current is not None:
                current.valid_to = on
                writes.closing.append(current)
            elif (not own and employee_id in from_hire_date and person.hire_date
                  and person.hire_date < on):
                start = person.hire_date
            writes.opening.append(
                TeamMembership(person=person, team=target, valid_from=start,
                               valid_to=min(later) if later else None)
            )
        result.people_placed += 1


def _memberships_write(writes: _MembershipWrites, user: Any) -> None:
    """Write the planned membership changes, with history."""
    if writes.closing:
        bulk_update_with_history(writes.closing, TeamMembership, ["valid_to"], default_user=user)
    if writes.moving:
        bulk_update_with_history(writes.moving, TeamMembership, ["team"], default_user=user)
    for membership in writes.ending:  # began that very day: no day of it is left
        record_author(membership, user)
        membership.delete()
    if writes.opening:
        bulk_create_with_history(writes.opening, TeamMembership, default_user=user)


@transaction.atomic
def people_place_under_managers(
    *,
    reports: Mapping[str, str | None],
    on: datetime.date,
    from_hire_date: Collection[str] = (),
    actor: Any = None,
) -> PlacementResult:
    """Build the team tree from reporting lines: employee id -> manager's employee id, or None
    for someone who reports to no one.

    Every manager leads a team: one they already lead (the highest in the tree), else a new
    "<name>'s team". A manager's team sits under the team of the person they report to, and the
    team of someone who reports to no one is moved out from under any other manager. Each
    person joins their manager's team from `on`, closing the membership they had then, as
    `person_assign_team` does; those in `from_hire_date` (people just created, say) who were
    never in a team join from their hire date when that is earlier. Someone who now reports to
    no one leaves a team led by another manager on `on`.
    A person already in a team their manager leads stays where they are, and so does a team
    already under one its manager's manager leads. People who left on or before `on` are not
    placed. Raises ValidationError when the lines go round in a circle or name someone who is
    not here.
    """
    people = _people_checked(reports)

    def active(employee_id: str) -> bool:
        left = people[employee_id].termination_date
        return not (left and left <= on)

    placing = {e: m for e, m in reports.items() if m is not None and active(e)}
    tops = [e for e, m in reports.items() if m is None and active(e)]
    user = actor if isinstance(actor, get_user_model()) else None
    memberships, led = _placement_state(people)
    result = PlacementResult()
    writes = _MembershipWrites()
    _place_tops(tops=tops, people=people, memberships=memberships, led=led, on=on,
                result=result, writes=writes)
    team_of = _manager_teams(placing=placing, tops=tops, people=people,
                             memberships=memberships, led=led, on=on, result=result)
    _place_reports(placing=placing, team_of=team_of, people=people, memberships=memberships,
                   led=led, on=on, from_hire_date=from_hire_date, result=result, writes=writes)
    _memberships_write(writes, user)
    return result
