"""People pages: the people list, the team tree and person detail, seen by each role."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest

from spm.org.models import Person, Team
from spm.org.selectors import person_for_user
from spm.org.services import person_assign_team, team_create
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Role
from spm.tenancy.urls import tenant_reverse
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

START = datetime.date(2024, 1, 1)


@dataclass
class SalesOrg:
    """Sales (led by the VP) > West (led by the manager: rep, colleague) and East (other rep).

    Each role has a login; `colleague` and `east_rep` are people without one.
    """

    tenant: Any
    users: dict[str, Any]
    sales: Team
    west: Team
    east: Team
    vp: Person
    manager: Person
    rep: Person
    colleague: Person
    east_rep: Person
    leaver: Person


def build_sales_org(tenant, make_member) -> SalesOrg:
    users = {role: make_member(tenant, role, username=f"{role}_{tenant.slug}") for role in Role}
    with tenant_context(tenant):
        manager = person_for_user(user=users[Role.MANAGER])
        rep = person_for_user(user=users[Role.REP])
        manager.name, rep.name = "Mona Manager", "Ray Rep"
        manager.title = "West sales manager"
        manager.save()
        rep.save()
        vp = PersonFactory(name="Vera Vice", role="manager", title="VP Sales")
        colleague = PersonFactory(name="Colin Colleague", title="Account executive")
        east_rep = PersonFactory(name="Erin East", title="Account executive")
        leaver = PersonFactory(
            name="Len Leaver", hire_date=datetime.date(2023, 3, 1),
            termination_date=datetime.date(2024, 6, 30),
        )
        sales = team_create(name="Sales", manager=vp)
        west = team_create(name="West", parent=sales, manager=manager)
        east = team_create(name="East", parent=sales, manager=vp)
        person_assign_team(person=vp, team=sales, valid_from=START)
        person_assign_team(person=manager, team=west, valid_from=START)
        person_assign_team(person=rep, team=east, valid_from=START)
        # The rep moved West later: the history page shows both stays.
        person_assign_team(person=rep, team=west, valid_from=datetime.date(2024, 7, 1))
        person_assign_team(person=colleague, team=west, valid_from=START)
        person_assign_team(person=east_rep, team=east, valid_from=START)
    return SalesOrg(
        tenant=tenant, users=users, sales=sales, west=west, east=east, vp=vp,
        manager=manager, rep=rep, colleague=colleague, east_rep=east_rep, leaver=leaver,
    )


@pytest.fixture
def org(tenant_a, make_member) -> SalesOrg:
    return build_sales_org(tenant_a, make_member)


def get(client, org: SalesOrg, role: str, name: str, **kwargs):
    client.force_login(org.users[role])
    return client.get(tenant_reverse(org.tenant, name, **kwargs))


def listed_people(response) -> set[int]:
    return {person.pk for person, _ in response.context["rows"]}


# -- people list ---------------------------------------------------------------------------------


@pytest.mark.smoke
@pytest.mark.parametrize("role", [Role.ADMIN, Role.FINANCE])
def test_admin_and_finance_see_everyone_in_the_people_list(client, org, role):
    response = get(client, org, role, "org:person-list")

    assert response.status_code == 200
    everyone = {org.vp.pk, org.manager.pk, org.rep.pk, org.colleague.pk, org.east_rep.pk,
                org.leaver.pk}
    assert everyone <= listed_people(response)


def test_a_manager_sees_their_team_subtree_and_nobody_else(client, org):
    response = get(client, org, Role.MANAGER, "org:person-list")

    assert listed_people(response) == {org.manager.pk, org.rep.pk, org.colleague.pk}


@pytest.mark.smoke
def test_a_rep_sees_only_themselves_in_the_people_list(client, org):
    response = get(client, org, Role.REP, "org:person-list")

    assert listed_people(response) == {org.rep.pk}
    assert "Erin East" not in response.content.decode()


def test_the_people_list_shows_team_manager_and_dates(client, org):
    response = get(client, org, Role.ADMIN, "org:person-list")

    placements = {person.pk: placement for person, placement in response.context["rows"]}
    assert placements[org.rep.pk].team == org.west
    assert placements[org.rep.pk].manager == org.manager
    # A manager reports to the manager of the team above, not to themself.
    assert placements[org.manager.pk].manager == org.vp
    assert placements[org.vp.pk].manager is None
    assert placements[org.leaver.pk].team is None
    body = response.content.decode()
    assert "30 Jun 2024" in body  # the leaver's termination date
    assert "West sales manager" in body
    assert "[invalid name]" not in body  # every filter has a label


def test_the_people_list_filters_by_team_including_the_teams_below(client, org):
    client.force_login(org.users[Role.ADMIN])
    url = tenant_reverse(org.tenant, "org:person-list")

    whole_org = client.get(url, {"team": org.sales.pk})
    east_only = client.get(url, {"team": org.east.pk})

    assert {org.rep.pk, org.east_rep.pk, org.vp.pk} <= listed_people(whole_org)
    assert org.leaver.pk not in listed_people(whole_org)
    assert listed_people(east_only) == {org.east_rep.pk}


def test_the_people_list_filters_leavers_and_searches_names(client, org):
    client.force_login(org.users[Role.ADMIN])
    url = tenant_reverse(org.tenant, "org:person-list")

    assert listed_people(client.get(url, {"status": "left"})) == {org.leaver.pk}
    assert org.leaver.pk not in listed_people(client.get(url, {"status": "active"}))
    # Other people here have random names, which may contain "erin" too (Katherine...).
    found = client.get(url, {"q": "erin"}).context["rows"]
    assert org.east_rep.pk in {person.pk for person, _ in found}
    assert all("erin" in person.name.lower() for person, _ in found)
    assert org.colleague.pk not in {person.pk for person, _ in found}


def test_a_manager_cannot_filter_by_a_team_outside_their_subtree(client, org):
    client.force_login(org.users[Role.MANAGER])

    response = client.get(tenant_reverse(org.tenant, "org:person-list"), {"team": org.east.pk})

    assert response.status_code == 200
    assert org.east_rep.pk not in listed_people(response)
    assert "Filter ignored" in response.content.decode()


def test_the_people_list_sorts_by_hire_date_descending(client, org):
    client.force_login(org.users[Role.ADMIN])

    response = client.get(tenant_reverse(org.tenant, "org:person-list"), {"sort": "-hired"})

    hired = [p.hire_date for p, _ in response.context["rows"] if p.hire_date]
    assert hired == sorted(hired, reverse=True)
    assert hired[0] != hired[-1]


def test_the_people_list_makes_a_constant_number_of_queries(
    client, org, django_assert_max_num_queries
):
    with tenant_context(org.tenant):
        for n in range(60):
            person = PersonFactory(name=f"Extra {n:02d}")
            person_assign_team(person=person, team=org.east if n % 2 else org.west,
                               valid_from=START)
    client.force_login(org.users[Role.ADMIN])
    url = tenant_reverse(org.tenant, "org:person-list")

    with django_assert_max_num_queries(14):
        response = client.get(url)

    assert len(response.context["rows"]) == 50


# -- team tree -----------------------------------------------------------------------------------


def tree_of(response) -> dict[str, tuple[int, int, list[str]]]:
    found: dict[str, tuple[int, int, list[str]]] = {}

    def walk(nodes):
        for node in nodes:
            found[node.team.name] = (
                node.head_count, node.subtree_head_count, [c.team.name for c in node.children]
            )
            walk(node.children)

    walk(response.context["roots"])
    return found


@pytest.mark.smoke
def test_the_team_tree_nests_teams_with_managers_and_head_counts(client, org):
    response = get(client, org, Role.ADMIN, "org:team-tree")

    assert response.status_code == 200
    tree = tree_of(response)
    assert tree["Sales"] == (1, 5, ["East", "West"])
    assert tree["West"] == (3, 3, [])
    assert tree["East"] == (1, 1, [])
    assert [root.team.name for root in response.context["roots"]] == ["Sales"]
    body = response.content.decode()
    assert "Mona Manager" in body
    assert "<details" in body  # collapsible on a phone


def test_a_manager_sees_the_teams_they_lead_and_their_own(client, org):
    tree = tree_of(get(client, org, Role.MANAGER, "org:team-tree"))

    assert set(tree) == {"West"}


def test_a_rep_sees_only_their_own_team(client, org):
    response = get(client, org, Role.REP, "org:team-tree")

    assert set(tree_of(response)) == {"West"}
    # The rep may not open the manager's page, so the name is not a link to it.
    manager_url = tenant_reverse(org.tenant, "org:person-detail", pk=org.manager.pk)
    assert manager_url not in response.content.decode()


def test_the_team_tree_makes_a_constant_number_of_queries(
    client, org, django_assert_max_num_queries
):
    with tenant_context(org.tenant):
        parent = org.east
        for n in range(20):
            parent = team_create(name=f"Pod {n}", parent=parent)
            person_assign_team(person=PersonFactory(), team=parent, valid_from=START)
    client.force_login(org.users[Role.ADMIN])

    with django_assert_max_num_queries(10):
        response = client.get(tenant_reverse(org.tenant, "org:team-tree"))

    assert tree_of(response)["East"][1] == 21


# -- person detail -------------------------------------------------------------------------------


@pytest.mark.smoke
def test_person_detail_shows_the_team_history_and_manager_chain(client, org):
    response = get(client, org, Role.ADMIN, "org:person-detail", pk=org.rep.pk)

    assert response.status_code == 200
    history = [(m.team.name, m.valid_from, m.valid_to) for m in response.context["history"]]
    assert history == [
        ("West", datetime.date(2024, 7, 1), None),
        ("East", START, datetime.date(2024, 7, 1)),
    ]
    assert response.context["manager_chain"] == [org.manager, org.vp]


@pytest.mark.parametrize(
    ("role", "person", "status"),
    [
        (Role.REP, "rep", 200),
        (Role.REP, "colleague", 404),
        (Role.REP, "manager", 404),
        (Role.MANAGER, "colleague", 200),
        (Role.MANAGER, "east_rep", 404),
        (Role.FINANCE, "east_rep", 200),
    ],
)
def test_person_detail_answers_404_for_people_outside_the_members_view(
    client, org, role, person, status
):
    response = get(client, org, role, "org:person-detail", pk=getattr(org, person).pk)

    assert response.status_code == status


def test_person_detail_of_another_tenants_person_is_404(client, org, tenant_b):
    with tenant_context(tenant_b):
        foreign = PersonFactory()

    for role in Role:
        response = get(client, org, role, "org:person-detail", pk=foreign.pk)
        assert response.status_code == 404, role


def test_an_outsider_gets_404_for_every_people_page(client, org, admin_b):
    client.force_login(admin_b)
    urls = [
        tenant_reverse(org.tenant, "org:person-list"),
        tenant_reverse(org.tenant, "org:team-tree"),
        tenant_reverse(org.tenant, "org:person-detail", pk=org.rep.pk),
    ]

    assert [client.get(url).status_code for url in urls] == [404, 404, 404]


@pytest.mark.parametrize(
    "params",
    [
        {"team": "abc"},
        {"team": "999999999999999999999"},
        {"role": "ceo"},
        {"status": "\x00"},
        {"q": "\x00"},
        {"sort": ";DROP TABLE org_person"},
        {"sort": "-password"},
        {"page": "abc"},
        {"page": "-1"},
        {"page": "99999999999"},
    ],
)
def test_junk_in_people_list_parameters_never_fails(client, org, params):
    client.force_login(org.users[Role.ADMIN])

    response = client.get(tenant_reverse(org.tenant, "org:person-list"), params)

    assert response.status_code == 200
    assert response.context["rows"]


@pytest.mark.parametrize("role", list(Role))
def test_the_nav_links_every_role_to_deals_accounts_people_and_teams(client, org, role):
    client.force_login(org.users[role])

    body = client.get(tenant_reverse(org.tenant, "tenant-home")).content.decode()

    nav = body[body.index('id="spm-nav"') : body.index("</nav>")]
    for name in ("crm:deal-list", "crm:account-list", "org:person-list", "org:team-tree"):
        assert f'href="{tenant_reverse(org.tenant, name)}"' in nav
