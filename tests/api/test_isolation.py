"""A key of tenant A never reads or writes tenant B's data: B's rows do not exist for it."""

from __future__ import annotations

import pytest

from spm.crm.models import Deal, DealStageHistory
from spm.tenancy.context import tenant_context
from tests.factories import ActivityFactory, LeadFactory

pytestmark = pytest.mark.django_db

KINDS = ["people", "accounts", "deals", "leads", "activities"]


@pytest.fixture
def rows_b(tenant_b, world_b) -> dict:
    """One row of each kind in B, as (id, key) pairs."""
    with tenant_context(tenant_b):
        lead = LeadFactory(external_id="B-L-1", owner=world_b["alice"])
        activity = ActivityFactory(external_id="B-ACT-1", person=world_b["alice"], lead=lead)
    return {
        "people": (world_b["alice"].pk, "by-employee-id", "B-E1"),
        "accounts": (world_b["account"].pk, "by-external-id", "B-ACC-1"),
        "deals": (world_b["deal"].pk, "by-external-id", "B-D-1"),
        "leads": (lead.pk, "by-external-id", "B-L-1"),
        "activities": (activity.pk, "by-external-id", "B-ACT-1"),
    }


@pytest.mark.smoke
@pytest.mark.parametrize("kind", KINDS)
def test_a_key_of_a_gets_404_for_the_ids_and_keys_of_bs_rows(api_a, api_b, world_a, rows_b, kind):
    pk, by, key = rows_b[kind]
    # The same URLs work with B's own key, so the 404s below are about tenancy alone.
    assert api_b.get(f"/api/v1/{kind}/{pk}/").status_code == 200
    assert api_b.get(f"/api/v1/{kind}/{by}/{key}/").status_code == 200

    for url in (f"/api/v1/{kind}/{pk}/", f"/api/v1/{kind}/{by}/{key}/"):
        response = api_a.get(url)
        assert response.status_code == 404, url
        assert "B-" not in response.content.decode()


@pytest.mark.parametrize("kind", KINDS)
def test_lists_and_filters_with_a_key_of_a_show_none_of_bs_rows(api_a, world_a, rows_b, kind):
    response = api_a.get(f"/api/v1/{kind}/", {"page_size": 1000})
    assert response.status_code == 200
    assert "B-" not in response.content.decode()


def test_filtering_by_bs_owner_or_account_finds_nothing(api_a, world_a, world_b):
    for params in (
        {"owner": world_b["alice"].pk},
        {"owner_employee_id": "B-E1"},
        {"account": world_b["account"].pk},
        {"account_external_id": "B-ACC-1"},
    ):
        response = api_a.get("/api/v1/deals/", params)
        assert response.status_code == 200
        assert response.json()["count"] == 0, params


@pytest.mark.smoke
def test_a_deal_that_names_bs_owner_account_or_stage_is_rejected(
    api_a, tenant_a, tenant_b, world_a, world_b
):
    row = {
        "external_id": "X-1", "account": "B-ACC-1", "owner": "B-E1", "stage": "Discovery",
        "amount": "1.00", "close_date": "2025-06-30",
    }
    response = api_a.post("/api/v1/deals/bulk/", {"rows": [row]}, format="json")
    assert response.status_code == 400
    errors = response.json()["rows"]["0"]
    assert set(errors) == {"account", "owner"}
    with tenant_context(tenant_a):
        assert not Deal.objects.filter(external_id="X-1").exists()
    with tenant_context(tenant_b):
        assert not Deal.objects.filter(external_id="X-1").exists()


def test_pushing_bs_external_id_with_a_key_of_a_creates_as_own_row_and_leaves_b_alone(
    api_a, tenant_a, tenant_b, world_a, world_b
):
    row = {
        "external_id": "B-D-1", "account": "A-ACC-1", "owner": "A-E1", "stage": "Proposal",
        "amount": "99.00", "close_date": "2025-06-30",
    }
    response = api_a.post("/api/v1/deals/bulk/", {"rows": [row]}, format="json")
    assert response.status_code == 200
    assert response.json()["created"] == 1
    with tenant_context(tenant_b):
        theirs = Deal.objects.get(external_id="B-D-1")
        assert (str(theirs.amount), theirs.stage.name) == ("1200.50", "Discovery")
        assert DealStageHistory.objects.filter(deal=theirs).count() == 0
    with tenant_context(tenant_a):
        ours = Deal.objects.get(external_id="B-D-1")
        assert ours.pk != theirs.pk
        assert ours.tenant_id == tenant_a.pk


def test_a_lead_or_activity_that_names_bs_records_is_rejected(api_a, world_a, rows_b):
    response = api_a.post("/api/v1/leads/bulk/", {"rows": [
        {"external_id": "L-X", "owner": "B-E1", "account": "B-ACC-1", "converted_deal": "B-D-1",
         "created_at": "2025-01-01T00:00:00Z"},
    ]}, format="json")
    assert response.status_code == 400
    assert set(response.json()["rows"]["0"]) == {"owner", "account", "converted_deal"}

    response = api_a.post("/api/v1/activities/bulk/", {"rows": [
        {"external_id": "ACT-X", "kind": "call", "person": "B-E1", "deal": "B-D-1",
         "lead": "B-L-1", "at": "2025-01-01T00:00:00Z"},
    ]}, format="json")
    assert response.status_code == 400
    assert set(response.json()["rows"]["0"]) == {"person", "deal", "lead"}
