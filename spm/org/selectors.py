"""Reads over people, teams and fiscal periods, each in a constant number of queries."""

from __future__ import annotations

import datetime

from django.db.models import (
    CharField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.lookups import StartsWith

from spm.tenancy.models import Membership
from spm.tenancy.permissions import can_see_everyone, has_role

from .models import Period, Person, Team, TeamMembership


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
    """Everyone in the teams the manager leads, and below, as of `on` (one query).

    A member's team is in the subtree when its materialised path starts with the path of a team
    the manager leads; the test runs inside the database, so depth costs no extra query.
    """
    member_path = ExpressionWrapper(OuterRef("team__path"), output_field=CharField())
    led_team_above = Team.objects.filter(manager=manager).filter(
        StartsWith(member_path, F("path"))
    )
    return set(
        TeamMembership.objects.filter(_valid_on(on), Exists(led_team_above))
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
