"""The team tree edited in the tenant admin: the materialised path stays right."""

from __future__ import annotations

import pytest
from django.test import Client

from spm.org.models import Team
from spm.org.services import team_create
from spm.tenancy.context import tenant_context
from spm.tenancy.urls import tenant_reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_a(admin_a) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(admin_a)
    return client


@pytest.fixture
def tree(tenant_a):
    """Two roots; `emea` under the first root, `dach` under `emea`."""
    with tenant_context(tenant_a):
        world = team_create(name="World")
        partners = team_create(name="Partners")
        emea = team_create(name="EMEA", parent=world)
        dach = team_create(name="DACH", parent=emea)
    return {"world": world, "partners": partners, "emea": emea, "dach": dach}


def path_of(tenant, team: Team) -> str:
    with tenant_context(tenant):
        return Team.objects.get(pk=team.pk).path


def team_form(**values) -> dict[str, str]:
    return {"name": "", "parent": "", "manager": "", **values}


@pytest.mark.smoke
def test_adding_a_team_in_the_admin_gives_it_its_path(client_a, tenant_a, tree):
    url = tenant_reverse(tenant_a, "tenant_admin:org_team_add")
    response = client_a.post(url, team_form(name="Nordics", parent=str(tree["emea"].pk)))
    assert response.status_code == 302
    with tenant_context(tenant_a):
        nordics = Team.objects.get(name="Nordics")
        assert nordics.path == f"{tree['emea'].path}{nordics.pk}/"
        assert nordics.history.latest().history_user is not None


def test_moving_a_team_in_the_admin_moves_its_whole_subtree(client_a, tenant_a, tree):
    emea, dach, partners = tree["emea"], tree["dach"], tree["partners"]
    url = tenant_reverse(tenant_a, "tenant_admin:org_team_change", emea.pk)
    response = client_a.post(url, team_form(name="EMEA", parent=str(partners.pk)))
    assert response.status_code == 302
    assert path_of(tenant_a, emea) == f"/{partners.pk}/{emea.pk}/"
    assert path_of(tenant_a, dach) == f"/{partners.pk}/{emea.pk}/{dach.pk}/"
    assert path_of(tenant_a, tree["world"]) == f"/{tree['world'].pk}/"


def test_renaming_a_team_in_the_admin_keeps_its_path(client_a, tenant_a, tree):
    emea = tree["emea"]
    url = tenant_reverse(tenant_a, "tenant_admin:org_team_change", emea.pk)
    response = client_a.post(url, team_form(name="Europe", parent=str(tree["world"].pk)))
    assert response.status_code == 302
    with tenant_context(tenant_a):
        renamed = Team.objects.get(pk=emea.pk)
    assert renamed.name == "Europe"
    assert renamed.path == emea.path


def test_moving_a_team_under_its_own_subtree_is_a_form_error(client_a, tenant_a, tree):
    emea, dach = tree["emea"], tree["dach"]
    url = tenant_reverse(tenant_a, "tenant_admin:org_team_change", emea.pk)
    for new_parent in (dach, emea):
        response = client_a.post(url, team_form(name="EMEA", parent=str(new_parent.pk)))
        assert response.status_code == 200
        assert "under itself" in str(response.context["adminform"].form.errors["parent"])
    assert path_of(tenant_a, emea) == emea.path
    assert path_of(tenant_a, dach) == dach.path


def test_a_second_team_of_the_same_name_under_one_parent_is_a_form_error(
    client_a, tenant_a, tree
):
    url = tenant_reverse(tenant_a, "tenant_admin:org_team_add")
    response = client_a.post(url, team_form(name="EMEA", parent=str(tree["world"].pk)))
    assert response.status_code == 200
    assert "already exists" in str(response.context["adminform"].form.non_field_errors())
