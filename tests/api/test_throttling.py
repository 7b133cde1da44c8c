"""Rate limits are counted per API key, so one busy integration does not block another."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from spm.tenancy.models import ApiKey

from .conftest import client_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_a_minute(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_key": "3/min"}
    }
    yield
    cache.clear()


def test_a_key_over_its_rate_gets_429_with_retry_after(three_a_minute, api_a, world_a):
    statuses = [api_a.get("/api/v1/deals/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = api_a.get("/api/v1/deals/")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0


def test_another_key_of_the_same_tenant_keeps_its_own_allowance(
    three_a_minute, tenant_a, api_a, world_a
):
    for _ in range(3):
        api_a.get("/api/v1/deals/")
    assert api_a.get("/api/v1/deals/").status_code == 429
    _, secret = ApiKey.issue(tenant=tenant_a, name="Second system")
    assert client_with(secret).get("/api/v1/deals/").status_code == 200
