"""Every shell page renders for the roles that use it, with the navigation each role should see."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse

from spm.org.services import person_assign_team, team_create
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Role
from spm.tenancy.urls import tenant_reverse
from tests.factories import MembershipFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

ALL_ROLES = [Role.ADMIN, Role.FINANCE, Role.MANAGER, Role.REP]


def home_url(tenant) -> str:
    return tenant_reverse(tenant, "tenant-home")


@pytest.mark.smoke
@pytest.mark.parametrize("role", ALL_ROLES)
def test_each_role_gets_its_own_home_page(client, tenant_a, make_member, role):
    client.force_login(make_member(tenant_a, role))

    response = client.get(home_url(tenant_a))

    assert response.status_code == 200
    assert f"home/{role}.html" in [t.name for t in response.templates]
    assert f'data-role-home="{role}"' in response.content.decode()
    assert "Acme Corp" in response.content.decode()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.REP])
def test_the_home_page_of_a_member_without_a_person_record_says_so(
    client, tenant_a, make_member, role
):
    client.force_login(make_member(tenant_a, role, person=False))

    response = client.get(home_url(tenant_a))

    assert response.status_code == 200
    assert 'data-empty="person"' in response.content.decode()


@pytest.mark.smoke
def test_the_nav_shows_admin_links_to_admins(client, tenant_a, admin_a):
    client.force_login(admin_a)

    body = client.get(home_url(tenant_a)).content.decode()

    assert "data-nav-admin" in body
    assert 'href="/t/acme/admin/"' in body
    assert 'href="/t/acme/admin/org/person/"' in body


@pytest.mark.parametrize("role", [Role.FINANCE, Role.MANAGER, Role.REP])
def test_the_nav_hides_admin_links_from_other_roles(client, tenant_a, make_member, role):
    client.force_login(make_member(tenant_a, role))

    body = client.get(home_url(tenant_a)).content.decode()

    assert "data-nav-admin" not in body
    assert "/t/acme/admin/" not in body


def test_every_nav_link_of_every_role_leads_to_a_page_that_opens(client, tenant_a, make_member):
    import re

    for role in ALL_ROLES:
        client.force_login(make_member(tenant_a, role))
        body = client.get(home_url(tenant_a)).content.decode()
        nav = body[body.index('id="spm-nav"') : body.index("</nav>")]
        links = set(re.findall(r'href="(/[^"]*)"', nav))
        assert links, role
        for link in links:
            assert client.get(link).status_code == 200, (role, link)


@pytest.mark.smoke
def test_the_tenant_switcher_lists_only_the_users_own_tenants(client, tenant_a, tenant_b):
    third = MembershipFactory(tenant__slug="initech", tenant__name="Initech").tenant
    user = UserFactory(username="both")
    MembershipFactory(user=user, tenant=tenant_a, role=Role.ADMIN)
    MembershipFactory(user=user, tenant=tenant_b, role=Role.REP)
    client.force_login(user)

    body = client.get(home_url(tenant_a)).content.decode()

    switcher = body[body.index("data-tenant-switcher") : body.index("data-user-menu")]
    assert 'href="/t/acme/"' in switcher
    assert 'href="/t/globex/"' in switcher
    assert "Globex Inc" in switcher
    assert third.name not in body
    assert "/t/initech/" not in body


def test_a_member_of_one_tenant_sees_no_switcher(client, tenant_a, admin_a):
    client.force_login(admin_a)

    body = client.get(home_url(tenant_a)).content.decode()

    assert "data-tenant-switcher" not in body


def test_an_inactive_membership_is_not_offered_in_the_switcher(client, tenant_a, tenant_b):
    user = UserFactory(username="former")
    MembershipFactory(user=user, tenant=tenant_a, role=Role.REP)
    MembershipFactory(user=user, tenant=tenant_b, role=Role.REP, is_active=False)
    client.force_login(user)

    body = client.get(home_url(tenant_a)).content.decode()

    assert "Globex" not in body


@pytest.mark.smoke
def test_a_non_member_gets_404_at_another_tenants_home(client, tenant_a, tenant_b, admin_b):
    client.force_login(admin_b)

    response = client.get("/t/acme/")

    assert response.status_code == 404
    assert "Acme" not in response.content.decode()


def test_an_unknown_workspace_and_a_foreign_one_look_the_same(client, tenant_a, admin_b):
    client.force_login(admin_b)

    foreign = client.get("/t/acme/")
    unknown = client.get("/t/no-such-workspace/")

    assert foreign.status_code == unknown.status_code == 404
    assert foreign.content.replace(b"acme", b"X") == unknown.content.replace(
        b"no-such-workspace", b"X"
    )


@pytest.mark.smoke
def test_an_anonymous_visitor_is_sent_to_login_with_next(client, tenant_a):
    response = client.get("/t/acme/")

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/t/acme/"


def test_after_login_the_visitor_lands_on_the_page_they_asked_for(client, tenant_a, admin_a):
    from tests.factories import PASSWORD

    response = client.post(
        reverse("login"), {"username": "admin_a", "password": PASSWORD, "next": "/t/acme/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/t/acme/"


def test_a_user_with_one_workspace_goes_straight_into_it(client, tenant_a, admin_a):
    client.force_login(admin_a)

    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"] == "/t/acme/"


@pytest.mark.smoke
def test_a_user_with_several_workspaces_picks_one(client, tenant_a, tenant_b):
    user = UserFactory(username="both")
    MembershipFactory(user=user, tenant=tenant_a, role=Role.ADMIN)
    MembershipFactory(user=user, tenant=tenant_b, role=Role.REP)
    MembershipFactory(tenant__slug="initech", tenant__name="Initech")
    client.force_login(user)

    response = client.get(reverse("home"))

    assert response.status_code == 200
    body = response.content.decode()
    assert 'href="/t/acme/"' in body
    assert 'href="/t/globex/"' in body
    assert "Initech" not in body


def test_a_user_with_no_workspace_gets_a_friendly_page(client, db):
    client.force_login(UserFactory(username="loner"))

    response = client.get(reverse("home"))

    assert response.status_code == 200
    body = response.content.decode()
    assert "data-no-workspace" in body
    assert "not a member of any workspace" in body


def test_the_rep_home_shows_their_team_and_manager_and_no_invented_figures(
    client, tenant_a, make_member
):
    rep = make_member(tenant_a, Role.REP, username="rep_r")
    boss = make_member(tenant_a, Role.MANAGER, username="boss")
    with tenant_context(tenant_a):
        from spm.org.models import Person

        boss_person = Person.objects.get(user=boss)
        boss_person.name = "Grace Boss"
        boss_person.save()
        team = team_create(name="West", manager=boss_person)
        person_assign_team(
            person=Person.objects.get(user=rep), team=team, valid_from=datetime.date(2024, 1, 1)
        )
    client.force_login(rep)

    body = client.get(home_url(tenant_a)).content.decode()

    assert "West" in body
    assert "Grace Boss" in body
    assert 'data-empty="statements"' in body
    assert "after the first calculation run" in body


def test_the_manager_home_lists_their_team_and_not_other_teams(client, tenant_a, make_member):
    manager = make_member(tenant_a, Role.MANAGER, username="mgr")
    with tenant_context(tenant_a):
        from spm.org.models import Person

        me = Person.objects.get(user=manager)
        mine = team_create(name="North", manager=me)
        other = team_create(name="South")
        start = datetime.date(2024, 1, 1)
        for name in ("Ada Mine", "Bo Mine"):
            person_assign_team(person=PersonFactory(name=name), team=mine, valid_from=start)
        person_assign_team(person=PersonFactory(name="Cy Other"), team=other, valid_from=start)
    client.force_login(manager)

    response = client.get(home_url(tenant_a))

    body = response.content.decode()
    assert response.context["reports_count"] == 2
    assert "Ada Mine" in body
    assert "Bo Mine" in body
    assert "Cy Other" not in body
    assert "North" in body


def test_the_manager_home_costs_the_same_queries_for_a_big_team_as_a_small_one(
    client, tenant_a, make_member
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from spm.org.models import Person

    manager = make_member(tenant_a, Role.MANAGER, username="mgr")
    with tenant_context(tenant_a):
        team = team_create(name="North", manager=Person.objects.get(user=manager))
    client.force_login(manager)

    def add_people(count: int) -> None:
        with tenant_context(tenant_a):
            for _ in range(count):
                person_assign_team(
                    person=PersonFactory(), team=team, valid_from=datetime.date(2024, 1, 1)
                )

    add_people(3)
    with CaptureQueriesContext(connection) as small:
        client.get(home_url(tenant_a))
    add_people(27)
    with CaptureQueriesContext(connection) as big:
        response = client.get(home_url(tenant_a))

    assert len(big) == len(small)
    assert response.context["reports_count"] == 30
    assert len(response.context["reports"]) == 25
    assert "Showing the first 25 of 30." in response.content.decode()


def test_the_admin_home_counts_the_people_and_teams_of_its_own_tenant_only(
    client, tenant_a, tenant_b, admin_a
):
    with tenant_context(tenant_a):
        PersonFactory()
        team_create(name="Only team")
    with tenant_context(tenant_b):
        PersonFactory()
        PersonFactory()
        team_create(name="Theirs")
    client.force_login(admin_a)

    response = client.get(home_url(tenant_a))

    # admin_a's own person record plus the one made here.
    assert response.context["people_count"] == 2
    assert response.context["team_count"] == 1


@pytest.mark.urls("tests.shell.urls")
def test_messages_are_shown_as_bootstrap_alerts_with_their_level(client, db):
    response = client.get("/test-shell/message/", follow=True)

    body = response.content.decode()
    assert '<div class="alert alert-danger alert-dismissible fade show" role="alert">' in body
    assert "Nothing was imported: row 3 has no amount." in body
    assert '<div class="alert alert-success alert-dismissible fade show" role="alert">' in body


@pytest.mark.smoke
def test_the_login_page_renders_a_bootstrap_form(client, db):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="username"' in body
    username_input = re.search(r'<input[^>]*name="username"[^>]*>', body).group(0)
    assert "form-control" in username_input
    assert "bootstrap.min.css" in body


def test_the_password_change_pages_render_and_change_the_password(client, tenant_a, admin_a):
    from tests.factories import PASSWORD

    client.force_login(admin_a)
    assert client.get(reverse("password_change")).status_code == 200

    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a much better passphrase 42",
            "new_password2": "a much better passphrase 42",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    assert client.get(reverse("password_change_done")).status_code == 200
    admin_a.refresh_from_db()
    assert admin_a.check_password("a much better passphrase 42")


def test_the_password_change_page_links_from_tenant_pages_keep_working(client, tenant_a, admin_a):
    client.force_login(admin_a)

    body = client.get(home_url(tenant_a)).content.decode()

    assert f'href="{reverse("password_change")}"' in body


def test_sign_out_is_a_post_form_that_ends_the_session(client, tenant_a, admin_a):
    client.force_login(admin_a)
    body = client.get(home_url(tenant_a)).content.decode()
    assert f'<form class="dropdown-item-form" method="post" action="{reverse("logout")}">' in body

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert client.get(home_url(tenant_a)).status_code == 302  # back to login


def test_an_htmx_request_with_the_pages_csrf_token_passes_csrf(tenant_a, admin_a):
    import re

    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_a)
    body = client.get(home_url(tenant_a)).content.decode()
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', body).group(1)

    refused = client.post(reverse("logout"), HTTP_HX_REQUEST="true")
    accepted = client.post(reverse("logout"), HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token)

    assert refused.status_code == 403
    assert accepted.status_code == 302
