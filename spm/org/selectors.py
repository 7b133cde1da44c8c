"""Reads over people, teams and fiscal periods, each in a constant number of queries."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import (
    CharField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    ForeignObjectRel,
    Model,
    OuterRef,
    QuerySet,
)
from django.db.models.lookups import StartsWith

from spm.tenancy.history import TenantHistoryBase
from spm.tenancy.models import Membership
from spm.tenancy.permissions import can_see_everyone, has_role

from .models import Period, PeriodStatus, Person, Team, TeamMembership


def person_for_user(*, user) -> Person | None:
    return Person.objects.filter(user=user).first()


def team_of_person(*, person: Person, on: datetime.date) -> Team | None:
    membership = (
        TeamMembership.objects.select_related("team")
        .valid_on(on).filter(person=person)
        .first()
    )
    return membership.team if membership else None


def manager_chain(*, person: Person, on: datetime.date) -> list[Person]:
    """The person's managers from the nearest up, as of `on` (two queries)."""
    team = team_of_person(person=person, on=on)
    if team is None:
        return []
    ids = team.ancestor_ids()
    teams = {t.pk: t for t in Team.objects.select_related("manager").filter(pk__in=ids)}
    chain: list[Person] = []
    for team_id in reversed(ids):
        manager = teams[team_id].manager if team_id in teams else None
        if manager is not None and manager.pk != person.pk and manager not in chain:
            chain.append(manager)
    return chain


def subtree_person_ids(*, manager: Person, on: datetime.date) -> set[int]:
    """Everyone in the teams the manager leads, and below, as of `on` (one query).

    A member's team is in the subtree when its materialised path starts with the path of a team
    the manager leads; the test runs inside the database, so depth costs no extra query.
    """
    member_path = ExpressionWrapper(OuterRef("team__path"), output_field=CharField())
    led_team_above = Team.objects.filter(manager=manager).filter(
        StartsWith(member_path, F("path"))
    )
    return set(
        TeamMembership.objects.valid_on(on).filter(Exists(led_team_above))
        .values_list("person_id", flat=True)
        .distinct()
    )


def visible_person_ids(*, membership: Membership, on: datetime.date) -> set[int] | None:
    """Whom a member may see: None means everyone (admin, finance); otherwise a set of ids."""
    if can_see_everyone(membership):
        return None
    me = person_for_user(user=membership.user)
    if me is None:
        return set()
    visible = {me.pk}
    if has_role(membership, "manager"):
        visible |= subtree_person_ids(manager=me, on=on)
    return visible


def people_visible_to(*, membership: Membership, on: datetime.date) -> QuerySet[Person]:
    people = Person.objects.all()
    ids = visible_person_ids(membership=membership, on=on)
    return people if ids is None else people.filter(pk__in=ids)


def period_of_date(*, day: datetime.date, kind: str) -> Period | None:
    """The active tenant's period of `kind` containing `day`, if it has been generated."""
    return Period.objects.filter(kind=kind, start_date__lte=day, end_date__gt=day).first()


def period_previous(*, period: Period) -> Period | None:
    return Period.objects.filter(kind=period.kind, end_date=period.start_date).first()


def period_next(*, period: Period) -> Period | None:
    return Period.objects.filter(kind=period.kind, start_date=period.end_date).first()


def periods_within(*, period: Period, kind: str) -> QuerySet[Period]:
    """The periods of `kind` inside `period` (the months of a quarter, the quarters of a year)."""
    return Period.objects.filter(
        kind=kind, start_date__gte=period.start_date, end_date__lte=period.end_date
    ).order_by("start_date")


def _period_references() -> list[tuple[type[Model], str]]:
    """(model, field name) of every relation that points at Period, found from the models so
    that an app added later is counted without being named here. History tables are left out:
    they keep copies of rows, and the live rows they copied are counted already."""
    return [
        (relation.related_model, relation.field.name)
        for relation in Period._meta.get_fields(include_hidden=True)
        if isinstance(relation, ForeignObjectRel)  # the reverse side of a relation to Period
        and relation.is_relation
        and relation.auto_created
        and not relation.concrete
        and isinstance(relation.related_model, type)
        and not issubclass(relation.related_model, TenantHistoryBase)
    ]


def periods_holding_data() -> list[str]:
    """What the active tenant keeps per period: locked periods, then the plural names of the
    kinds of rows (quotas, calculation runs, ...) that refer to a period. Empty when none."""
    found = ["locked periods"] if Period.objects.filter(status=PeriodStatus.LOCKED).exists() else []
    for model, field_name in _period_references():
        if model._default_manager.filter(**{f"{field_name}__isnull": False}).exists():
            name = str(model._meta.verbose_name_plural)
            if name not in found:
                found.append(name)
    return found


# -- pages: the people list, the team tree and a person's team history --------------------------


@dataclass
class TeamNode:
    """A team on the tree page: who leads it, how many are in it on the day, its sub-teams."""

    team: Team
    head_count: int
    subtree_head_count: int = 0
    children: list[TeamNode] = field(default_factory=list)


@dataclass(frozen=True)
class Placement:
    """Where a person sits on a day: their team and the manager they report to."""

    team: Team | None
    manager: Person | None


def teams_visible_to(*, membership: Membership, on: datetime.date) -> list[Team]:
    """Teams a member may see, in tree order (two or three queries).

    Admin and finance see every team; a manager the subtrees of the teams they lead; a rep (and a
    manager) also the one team they are in, without the teams below it.
    """
    teams = list(Team.objects.select_related("manager").order_by("path"))
    if can_see_everyone(membership):
        return teams
    me = person_for_user(user=membership.user)
    if me is None:
        return []
    led_paths = (
        [t.path for t in teams if t.manager_id == me.pk] if has_role(membership, "manager") else []
    )
    own = team_of_person(person=me, on=on)
    return [
        t
        for t in teams
        if (own is not None and t.pk == own.pk) or any(t.path.startswith(p) for p in led_paths)
    ]


def team_tree(*, teams: Sequence[Team], on: datetime.date) -> list[TeamNode]:
    """`teams` (in tree order) as a forest with head counts on `on` (one query).

    A team whose parent is not among `teams` becomes a root, so a manager's tree starts at the
    teams they lead. Subtree counts add up the visible teams only.
    """
    if not teams:
        return []
    counts = dict(
        TeamMembership.objects.valid_on(on).filter(team_id__in=[t.pk for t in teams])
        .order_by()
        .values("team_id")
        .annotate(people=Count("person_id", distinct=True))
        .values_list("team_id", "people")
    )
    nodes = {t.pk: TeamNode(team=t, head_count=counts.get(t.pk, 0)) for t in teams}
    roots: list[TeamNode] = []
    for team in teams:
        parent = nodes.get(team.parent_id) if team.parent_id else None
        (parent.children if parent is not None else roots).append(nodes[team.pk])
    # Tree order puts every parent before its children, so walking it backwards sums bottom-up.
    for team in reversed(teams):
        node = nodes[team.pk]
        node.subtree_head_count += node.head_count
        parent = nodes.get(team.parent_id) if team.parent_id else None
        if parent is not None:
            parent.subtree_head_count += node.subtree_head_count
    for node in nodes.values():
        node.children.sort(key=lambda child: child.team.name.lower())
    roots.sort(key=lambda root: root.team.name.lower())
    return roots


def people_in_team(
    *, people: QuerySet[Person], team: Team, on: datetime.date
) -> QuerySet[Person]:
    """Those of `people` in `team` or any team below it on `on`."""
    in_subtree = TeamMembership.objects.valid_on(on).filter(
        person=OuterRef("pk"), team__path__startswith=team.path
    )
    return people.filter(Exists(in_subtree))


def placements_of(*, people: Sequence[Person], on: datetime.date) -> dict[int, Placement]:
    """Team and manager of each person on `on` (two queries for any number of people).

    The manager is the nearest manager up the team chain who is not the person themself, the
    same rule as `manager_chain`.
    """
    if not people:
        return {}
    memberships = {
        m.person_id: m
        for m in TeamMembership.objects.valid_on(on).filter(
            person_id__in=[p.pk for p in people]
        ).select_related("team")
    }
    ancestor_ids = {i for m in memberships.values() for i in m.team.ancestor_ids()}
    teams = {t.pk: t for t in Team.objects.select_related("manager").filter(pk__in=ancestor_ids)}
    placements: dict[int, Placement] = {}
    for person in people:
        membership = memberships.get(person.pk)
        if membership is None:
            placements[person.pk] = Placement(team=None, manager=None)
            continue
        manager = None
        for team_id in reversed(membership.team.ancestor_ids()):
            team = teams.get(team_id)
            if team is not None and team.manager_id and team.manager_id != person.pk:
                manager = team.manager
                break
        placements[person.pk] = Placement(team=membership.team, manager=manager)
    return placements


def person_team_history(*, person: Person) -> QuerySet[TeamMembership]:
    """Every team the person has been in, latest first, with each team's manager."""
    return (
        TeamMembership.objects.filter(person=person)
        .select_related("team", "team__manager")
        .order_by("-valid_from")
    )


def person_visible(*, pk: int, visible_ids: set[int] | None) -> Person | None:
    """The person `pk` when `visible_ids` (from visible_person_ids; None is everyone) holds them,
    else None: missing and not-yours look the same."""
    if visible_ids is not None and pk not in visible_ids:
        return None
    return Person.objects.filter(pk=pk).first()


def teams_led_by(*, person: Person) -> QuerySet[Team]:
    return Team.objects.filter(manager=person).order_by("path")
