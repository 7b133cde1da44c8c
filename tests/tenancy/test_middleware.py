"""Entering a tenant: members only; strangers and typos get the same 404."""

from __future__ import annotations

import pytest
from django.test import Client

from spm.tenancy.context import get_active_tenant
from spm.tenancy.models import Membership, Role
from spm.tenancy.urls import tenant_reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_a(admin_a):
    client = Client()
    client.force_login(admin_a)
    return client


@pytest.mark.smoke
def test_a_member_enters_their_tenant(client_a):
    response = client_a.get("/t/acme/")
    assert response.status_code == 200
    assert response.wsgi_request.tenant.slug == "acme"


@pytest.mark.smoke
def test_a_non_member_gets_404_for_an_existing_tenant(client_a, tenant_b):
    assert client_a.get("/t/globex/").status_code == 404
    assert client_a.get("/t/globex/admin/").status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/t/nope/", "/t/nope", "/t/%00/", "/t/acme%2F../", "/t/../admin/", "/t/ACME/", "/t/a" * 50],
)
def test_unknown_or_malformed_slugs_get_404_not_500(client_a, path):
    assert client_a.get(path).status_code == 404


def test_an_anonymous_visitor_is_sent_to_login_whatever_the_slug(tenant_a, client):
    for path in ("/t/acme/", "/t/does-not-exist/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_an_inactive_membership_is_treated_as_none(client_a, admin_a):
    Membership.objects.filter(user=admin_a).update(is_active=False)
    assert client_a.get("/t/acme/").status_code == 404


def test_an_inactive_tenant_is_closed_to_its_members(client_a, tenant_a):
    tenant_a.is_active = False
    tenant_a.save()
    assert client_a.get("/t/acme/").status_code == 404


def test_a_user_with_roles_in_two_tenants_gets_each_role_in_its_tenant(
    tenant_a, tenant_b, make_member
):
    user = make_member(tenant_a, Role.REP, username="dual")
    Membership.objects.create(user=user, tenant=tenant_b, role=Role.FINANCE)
    client = Client()
    client.force_login(user)
    assert client.get("/t/acme/").wsgi_request.membership.role == Role.REP
    assert client.get("/t/globex/").wsgi_request.membership.role == Role.FINANCE


def test_a_superuser_may_enter_any_tenant_as_its_admin(tenant_b, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw-123456789")
    client = Client()
    client.force_login(root)
    response = client.get("/t/globex/")
    assert response.status_code == 200
    assert response.wsgi_request.membership.role == Role.ADMIN


def test_urls_inside_a_tenant_reverse_to_that_tenant(tenant_a, tenant_b):
    assert tenant_reverse(tenant_a, "tenant-home") == "/t/acme/"
    assert tenant_reverse(tenant_b, "tenant_admin:index") == "/t/globex/admin/"


def test_no_tenant_stays_active_after_a_request(client_a):
    client_a.get("/t/acme/")
    assert get_active_tenant() is None


def test_platform_pages_run_with_no_tenant_active(client_a):
    response = client_a.get("/healthz")
    assert response.status_code == 200
    assert response.wsgi_request.tenant is None
