"""The API key pages: admins create a key (shown once), see its use, and revoke it."""

from __future__ import annotations

import pytest
from django.test import Client

from spm.tenancy.models import ApiKey, Role
from spm.tenancy.urls import tenant_reverse

from .conftest import client_with

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.smoke
def test_an_admin_creates_a_key_whose_secret_is_shown_once_and_works(admin_a, tenant_a):
    client = logged_in(admin_a)
    url = tenant_reverse(tenant_a, "apikey-list")
    response = client.post(url, {"name": "Salesforce sync"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = response.context["secret"]
    assert secret.encode() in response.content

    key = ApiKey.objects.get(tenant=tenant_a)
    assert (key.name, key.created_by) == ("Salesforce sync", admin_a)
    assert client_with(secret).get("/api/v1/deals/").status_code == 200

    listing = client.get(url)
    assert listing.status_code == 200
    assert key.prefix.encode() in listing.content
    assert secret.encode() not in listing.content
    assert secret.split("_", 2)[2].encode() not in listing.content


def test_a_nameless_key_is_refused_with_a_message(admin_a, tenant_a):
    response = logged_in(admin_a).post(tenant_reverse(tenant_a, "apikey-list"), {"name": "  "})
    assert response.status_code == 400
    assert response.context["form"].errors["name"]
    assert not ApiKey.objects.exists()


def test_an_admin_revokes_a_key_and_it_stops_working(admin_a, tenant_a):
    key, secret = ApiKey.issue(tenant=tenant_a, name="Old sync")
    client = logged_in(admin_a)
    response = client.post(tenant_reverse(tenant_a, "apikey-revoke", pk=key.pk))
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.is_revoked
    assert client_with(secret).get("/api/v1/deals/").status_code == 401
    assert b"revoked" in client.get(tenant_reverse(tenant_a, "apikey-list")).content


def test_an_admin_cannot_revoke_another_tenants_key(admin_a, tenant_a, tenant_b):
    key_b, _secret_b = ApiKey.issue(tenant=tenant_b, name="Their sync")
    response = logged_in(admin_a).post(tenant_reverse(tenant_a, "apikey-revoke", pk=key_b.pk))
    assert response.status_code == 404
    key_b.refresh_from_db()
    assert not key_b.is_revoked


def test_the_key_list_shows_only_this_tenants_keys(admin_a, tenant_a, tenant_b):
    ApiKey.issue(tenant=tenant_a, name="Ours")
    ApiKey.issue(tenant=tenant_b, name="Theirs")
    content = logged_in(admin_a).get(tenant_reverse(tenant_a, "apikey-list")).content
    assert b"Ours" in content
    assert b"Theirs" not in content


@pytest.mark.parametrize("role", [Role.FINANCE, Role.MANAGER, Role.REP])
def test_members_who_are_not_admins_get_403(make_member, tenant_a, role):
    key, _ = ApiKey.issue(tenant=tenant_a, name="Sync")
    client = logged_in(make_member(tenant_a, role))
    assert client.get(tenant_reverse(tenant_a, "apikey-list")).status_code == 403
    assert client.post(tenant_reverse(tenant_a, "apikey-list"), {"name": "x"}).status_code == 403
    assert client.post(tenant_reverse(tenant_a, "apikey-revoke", pk=key.pk)).status_code == 403
    assert ApiKey.objects.count() == 1


def test_an_outsider_gets_404_for_the_key_pages(admin_b, tenant_a):
    client = logged_in(admin_b)
    assert client.get(tenant_reverse(tenant_a, "apikey-list")).status_code == 404
