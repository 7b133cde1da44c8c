"""Manager chains and team subtrees: right answers in a constant number of queries."""

from __future__ import annotations

import datetime

import pytest

from spm.org.models import TeamMembership
from spm.org.selectors import manager_chain, subtree_person_ids
from spm.org.services import person_assign_team, team_create
from spm.tenancy.context import tenant_context
from tests.factories import PersonFactory

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

ON = datetime.date(2026, 3, 1)
SINCE = datetime.date(2025, 1, 1)


def build_chain(depth: int):
    """A line of `depth` nested teams, each led by its own manager, plus a rep at the bottom.

    Every manager below the top sits in the team above, as in a real org chart, and one sibling
    branch off the top holds an outsider the lower managers must not see.
    """
    managers = [PersonFactory(name=f"Manager {level}") for level in range(depth)]
    teams = []
    parent = None
    for level, manager in enumerate(managers):
        team = team_create(name=f"Level {level}", parent=parent, manager=manager)
        if parent is not None:
            person_assign_team(person=manager, team=parent, valid_from=SINCE)
        teams.append(team)
        parent = team
    rep = PersonFactory(name="Bottom rep")
    person_assign_team(person=rep, team=teams[-1], valid_from=SINCE)
    sibling = team_create(name="Sibling", parent=teams[0], manager=PersonFactory())
    outsider = PersonFactory(name="Outsider")
    person_assign_team(person=outsider, team=sibling, valid_from=SINCE)
    return managers, teams, rep, outsider


@pytest.mark.parametrize("depth", [3, 12])
def test_the_manager_chain_of_a_deep_rep_takes_two_queries(
    tenant_a, depth, django_assert_num_queries
):
    with tenant_context(tenant_a):
        managers, _, rep, _ = build_chain(depth)
        with django_assert_num_queries(2):
            chain = manager_chain(person=rep, on=ON)
        assert [m.name for m in chain] == [m.name for m in reversed(managers)]


def test_a_manager_is_not_in_their_own_chain(tenant_a):
    with tenant_context(tenant_a):
        managers, _, _, _ = build_chain(4)
        chain = manager_chain(person=managers[2], on=ON)
        assert [m.name for m in chain] == ["Manager 1", "Manager 0"]


def test_someone_in_no_team_on_the_date_has_no_chain(tenant_a):
    with tenant_context(tenant_a):
        _, _, rep, _ = build_chain(3)
        assert manager_chain(person=rep, on=SINCE - datetime.timedelta(days=1)) == []


@pytest.mark.parametrize("depth", [3, 12])
def test_a_top_managers_subtree_is_one_query_at_any_depth(
    tenant_a, depth, django_assert_num_queries
):
    with tenant_context(tenant_a):
        managers, _, rep, outsider = build_chain(depth)
        with django_assert_num_queries(1):
            people = subtree_person_ids(manager=managers[0], on=ON)
        assert people == {m.pk for m in managers[1:]} | {rep.pk, outsider.pk}


def test_a_middle_managers_subtree_excludes_siblings_and_people_above(tenant_a):
    with tenant_context(tenant_a):
        managers, _, rep, outsider = build_chain(5)
        people = subtree_person_ids(manager=managers[2], on=ON)
        assert people == {managers[3].pk, managers[4].pk, rep.pk}
        assert outsider.pk not in people


def test_the_subtree_follows_membership_dates(tenant_a):
    with tenant_context(tenant_a):
        managers, _, rep, _ = build_chain(3)
        moved_on = datetime.date(2026, 2, 1)
        elsewhere = team_create(name="Elsewhere", manager=PersonFactory())
        person_assign_team(person=rep, team=elsewhere, valid_from=moved_on)
        bottom = managers[-1]
        assert rep.pk in subtree_person_ids(manager=bottom, on=moved_on - datetime.timedelta(1))
        assert rep.pk not in subtree_person_ids(manager=bottom, on=moved_on)
        assert TeamMembership.objects.filter(person=rep).count() == 2


def test_someone_who_leads_no_team_has_an_empty_subtree(tenant_a, django_assert_num_queries):
    with tenant_context(tenant_a):
        build_chain(2)
        nobody = PersonFactory()
        with django_assert_num_queries(1):
            assert subtree_person_ids(manager=nobody, on=ON) == set()
