"""Fixtures for API tests: a key per tenant, a client that sends it, and a small sales world."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from spm.tenancy.context import tenant_context
from spm.tenancy.models import ApiKey
from tests.factories import AccountFactory, DealFactory, PersonFactory, StageFactory


def client_with(secret: str | None) -> APIClient:
    client = APIClient()
    if secret is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def key_a(tenant_a) -> tuple[ApiKey, str]:
    return ApiKey.issue(tenant=tenant_a, name="CRM sync")


@pytest.fixture
def key_b(tenant_b) -> tuple[ApiKey, str]:
    return ApiKey.issue(tenant=tenant_b, name="CRM sync")


@pytest.fixture
def api_a(key_a) -> APIClient:
    return client_with(key_a[1])


@pytest.fixture
def api_b(key_b) -> APIClient:
    return client_with(key_b[1])


def build_world(tenant, prefix: str) -> dict:
    """Stages, two people, an account and a deal, keyed with `prefix` so tenants differ."""
    with tenant_context(tenant):
        stages = {
            "Discovery": StageFactory(name="Discovery", order=1, default_probability=Decimal("10")),
            "Proposal": StageFactory(
                name="Proposal", order=2, default_probability=Decimal("50"),
                forecast_category="best_case",
            ),
            "Closed Won": StageFactory(
                name="Closed Won", order=3, default_probability=Decimal("100"),
                forecast_category="closed", is_won=True,
            ),
        }
        alice = PersonFactory(employee_id=f"{prefix}-E1", name=f"{prefix} Alice")
        bob = PersonFactory(employee_id=f"{prefix}-E2", name=f"{prefix} Bob")
        account = AccountFactory(external_id=f"{prefix}-ACC-1", name=f"{prefix} Account")
        deal = DealFactory(
            external_id=f"{prefix}-D-1", name=f"{prefix} first deal", account=account,
            owner=alice, stage=stages["Discovery"], amount=Decimal("1200.50"),
            close_date=datetime.date(2025, 3, 28),
        )
    return {"stages": stages, "alice": alice, "bob": bob, "account": account, "deal": deal}


@pytest.fixture
def world_a(tenant_a) -> dict:
    return build_world(tenant_a, "A")


@pytest.fixture
def world_b(tenant_b) -> dict:
    return build_world(tenant_b, "B")
