"""Writes for people, teams and fiscal periods."""

from __future__ import annotations

import datetime
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from spm.tenancy.context import require_active_tenant
from spm.tenancy.history import record_author

from . import calendar
from .bulk import Column, UpsertResult, choice, day, plan_upsert, text
from .models import Period, PeriodStatus, Person, SellerRole, Team, TeamMembership
from .selectors import periods_holding_data

TEAM_NAME_MAX = 200


@transaction.atomic
def team_create(*, name: str, parent: Team | None = None, manager: Person | None = None) -> Team:
    team = Team(name=name, parent=parent, manager=manager)
    team.save()
    team.path = f"{parent.path if parent else '/'}{team.pk}/"
    team.save(update_fields=["path"])
    return team


@transaction.atomic
def team_move(*, team: Team, parent: Team | None) -> Team:
    if parent is not None and parent.path.startswith(team.path):
        raise ValidationError({"parent": "A team cannot move under itself or its own subtree."})
    old_prefix = team.path
    new_prefix = f"{parent.path if parent else '/'}{team.pk}/"
    team.parent = parent
    team.save(update_fields=["parent"])
    for node in Team.objects.filter(path__startswith=old_prefix).select_for_update():
        node.path = new_prefix + node.path[len(old_prefix):]
        node.save(update_fields=["path"])
    team.refresh_from_db()
    return team


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
