"""Reads over people and teams, each in a constant number of queries."""

from __future__ import annotations

import datetime

from django.db.models import Q, QuerySet

from spm.tenancy.models import Membership
from spm.tenancy.permissions import can_see_everyone, has_role

from .models import Person, Team, TeamMembership


def _valid_on(day: datetime.date) -> Q:
    return Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gt=day))


def person_for_user(*, user) -> Person | None:
    return Person.objects.filter(user=user).first()


def team_of_person(*, person: Person, on: datetime.date) -> Team | None:
    membership = (
        TeamMembership.objects.select_related("team")
        .filter(_valid_on(on), person=person)
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
    """Everyone in the teams the manager leads, and below, as of `on` (one query)."""
    managed_paths = Team.objects.filter(manager=manager).values_list("path", flat=True)
    paths = list(managed_paths)
    if not paths:
        return set()
    in_subtree = Q()
    for path in paths:
        in_subtree |= Q(team__path__startswith=path)
    return set(
        TeamMembership.objects.filter(_valid_on(on), in_subtree).values_list("person_id", flat=True)
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
