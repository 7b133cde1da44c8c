"""The team tree's writes: a team is created under its parent, or moved with its subtree."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import Person, Team

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
