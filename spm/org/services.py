"""Writes for people and teams."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from .models import Person, Team, TeamMembership


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
