"""API keys: stored as a fingerprint, shown once, revocable, and the only way into the API."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from spm.tenancy.models import ApiKey

from .conftest import client_with

pytestmark = pytest.mark.django_db

DEALS = "/api/v1/deals/"


def test_a_key_is_stored_as_a_fingerprint_not_as_the_secret(tenant_a):
    key, secret = ApiKey.issue(tenant=tenant_a, name="Salesforce")
    stored = ApiKey.objects.get(pk=key.pk)
    assert secret.startswith(f"spm_{stored.prefix}_")
    secret_part = secret.split("_", 2)[2]  # the secret itself may contain "_"
    assert secret_part not in stored.secret_sha256
    assert stored.secret_sha256 == ApiKey.digest(secret_part)
    assert ApiKey.match(secret) == stored


def test_a_key_matches_only_its_exact_secret(tenant_a):
    key, secret = ApiKey.issue(tenant=tenant_a, name="Salesforce")
    assert ApiKey.match(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert ApiKey.match(secret + "x") is None
    assert ApiKey.match(f"spm_{key.prefix}_") is None
    assert ApiKey.match("not-a-key") is None


@pytest.mark.smoke
def test_a_valid_key_reads_its_tenants_api(api_a, world_a):
    response = api_a.get(DEALS)
    assert response.status_code == 200
    assert [d["external_id"] for d in response.json()["results"]] == ["A-D-1"]


def test_the_api_key_scheme_works_as_well_as_bearer(key_a, world_a):
    client = client_with(None)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key_a[1]}")
    assert client.get(DEALS).status_code == 200


@pytest.mark.smoke
@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer spm_0123456789ab_wrong", "Bearer garbage", "Basic dXNlcjpwYXNz"],
)
def test_a_missing_or_invalid_key_gets_401(world_a, header):
    client = client_with(None)
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(DEALS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "A-D-1" not in response.content.decode()


def test_a_revoked_key_gets_401(key_a, api_a, world_a):
    assert api_a.get(DEALS).status_code == 200
    key_a[0].revoke()
    response = api_a.get(DEALS)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or revoked API key."}


def test_a_key_of_a_deactivated_tenant_gets_401(tenant_a, api_a, world_a):
    tenant_a.is_active = False
    tenant_a.save()
    assert api_a.get(DEALS).status_code == 401


def test_using_a_key_records_when_it_was_last_used(key_a, api_a, world_a):
    key = key_a[0]
    assert key.last_used_at is None
    before = timezone.now()
    api_a.get(DEALS)
    key.refresh_from_db()
    assert key.last_used_at is not None
    assert key.last_used_at >= before


def test_last_used_is_written_at_most_once_a_minute(key_a):
    key = key_a[0]
    first = timezone.now()
    key.touch(now=first)
    key.touch(now=first + datetime.timedelta(seconds=30))
    key.refresh_from_db()
    assert key.last_used_at == first
    later = first + datetime.timedelta(seconds=61)
    key.touch(now=later)
    key.refresh_from_db()
    assert key.last_used_at == later
