"""Reads: filters, pagination, retrieve by id or key, and a bounded number of queries."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from spm.tenancy.context import tenant_context
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def deals_a(tenant_a, world_a) -> list:
    stages = world_a["stages"]
    with tenant_context(tenant_a):
        return [
            DealFactory(
                external_id=f"A-D-{n}",
                account=world_a["account"],
                owner=world_a["alice"] if n % 2 else world_a["bob"],
                stage=stages["Closed Won"] if n % 3 == 0 else stages["Proposal"],
                status="won" if n % 3 == 0 else "open",
                amount=Decimal(f"{n}000.00"),
                close_date=datetime.date(2025, 1, 1) + datetime.timedelta(days=10 * n),
            )
            for n in range(2, 14)
        ]


def keys(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["external_id"] for row in response.json()["results"]}


@pytest.mark.smoke
def test_deals_filter_by_owner_stage_status_and_close_date(api_a, world_a, deals_a):
    alice, bob = world_a["alice"], world_a["bob"]
    all_keys = {d.external_id for d in deals_a} | {"A-D-1"}
    by_alice = {d.external_id for d in deals_a if d.owner_id == alice.pk} | {"A-D-1"}
    assert keys(api_a.get("/api/v1/deals/", {"owner": alice.pk})) == by_alice
    assert keys(api_a.get("/api/v1/deals/", {"owner_employee_id": "A-E2"})) == (
        all_keys - by_alice
    )
    assert bob.pk != alice.pk
    won = {d.external_id for d in deals_a if d.status == "won"}
    assert keys(api_a.get("/api/v1/deals/", {"status": "won"})) == won
    assert keys(api_a.get("/api/v1/deals/", {"stage": "Closed Won"})) == won
    window = {
        d.external_id for d in deals_a
        if datetime.date(2025, 2, 1) <= d.close_date <= datetime.date(2025, 3, 2)
    }
    got = keys(api_a.get(
        "/api/v1/deals/", {"close_date_after": "2025-02-01", "close_date_before": "2025-03-02"}
    ))
    assert got == window
    assert len(window) == 3


def test_updated_since_returns_only_deals_changed_after_that_moment(
    api_a, tenant_a, world_a, deals_a
):
    cutoff = datetime.datetime.now(datetime.UTC)
    with tenant_context(tenant_a):
        touched = deals_a[0]
        touched.amount = Decimal("1.00")
        touched.save()
    got = keys(api_a.get("/api/v1/deals/", {"updated_since": cutoff.isoformat()}))
    assert got == {touched.external_id}


def test_lists_are_paginated_with_a_client_chosen_page_size(api_a, deals_a):
    first = api_a.get("/api/v1/deals/", {"page_size": 5}).json()
    assert first["count"] == 13
    assert len(first["results"]) == 5
    assert first["next"] is not None
    assert first["previous"] is None
    pages = [first["results"]]
    for page in (2, 3):
        pages.append(api_a.get("/api/v1/deals/", {"page_size": 5, "page": page}).json()["results"])
    ids = [row["id"] for page in pages for row in page]
    assert len(ids) == len(set(ids)) == 13
    assert api_a.get("/api/v1/deals/", {"page_size": 5, "page": 4}).status_code == 404


@pytest.mark.parametrize("page_size", ["0", "1001", "ten", "²", "9" * 5000, "-1"])
def test_a_page_size_out_of_range_is_a_400_not_ignored(api_a, world_a, page_size):
    response = api_a.get("/api/v1/deals/", {"page_size": page_size})
    assert response.status_code == 400
    assert response.json() == {"page_size": ["Must be a whole number from 1 to 1000."]}


@pytest.mark.parametrize(
    "params",
    [
        {"close_date_after": "not-a-date"},
        {"owner": "abc"},
        {"owner": str(2**64)},
        {"status": "maybe"},
        {"updated_since": "0001-01-01T00:00:00+01:00"},
        {"owner_employee_id": "x" * 65},
        {"stage": "a\x00b"},
    ],
)
def test_a_bad_filter_value_is_a_400_naming_the_parameter(api_a, world_a, params):
    response = api_a.get("/api/v1/deals/", params)
    assert response.status_code == 400
    # Errors are keyed by filter: `close_date` for close_date_after / close_date_before.
    (named,) = response.json()
    (given,) = params
    assert given.startswith(named)


def test_a_deal_reads_back_with_money_as_a_string_and_references_by_key(api_a, world_a):
    deal = world_a["deal"]
    by_id = api_a.get(f"/api/v1/deals/{deal.pk}/").json()
    by_key = api_a.get("/api/v1/deals/by-external-id/A-D-1/").json()
    assert by_id == by_key
    assert by_id["amount"] == "1200.50"
    assert (by_id["account"], by_id["owner"], by_id["stage"]) == ("A-ACC-1", "A-E1", "Discovery")
    assert (by_id["account_id"], by_id["owner_id"]) == (world_a["account"].pk, world_a["alice"].pk)


def test_people_are_found_by_employee_id(api_a, world_a):
    response = api_a.get("/api/v1/people/by-employee-id/A-E2/")
    assert response.status_code == 200
    assert response.json()["name"] == "A Bob"
    assert api_a.get("/api/v1/people/by-employee-id/NOPE/").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/deals/99999999/",
        "/api/v1/deals/abc/",
        "/api/v1/deals/by-external-id/%00/",
        "/api/v1/nothing-here/",
        "/api/v1/deals",
        "/api/v2/deals/",
    ],
)
def test_unknown_api_urls_answer_404_in_json(api_a, world_a, url):
    response = api_a.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


def test_the_deal_list_takes_the_same_number_of_queries_for_one_or_many_deals(
    api_a, world_a, deals_a, django_assert_max_num_queries
):
    # Key lookup, last-used stamp, tenant setting, count, page: nothing per deal.
    with django_assert_max_num_queries(8):
        response = api_a.get("/api/v1/deals/", {"page_size": 1000})
    assert len(response.json()["results"]) == 13


@pytest.mark.parametrize("kind", ["people", "accounts", "leads", "activities"])
def test_every_list_answers_in_a_bounded_number_of_queries(
    api_a, world_a, kind, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        assert api_a.get(f"/api/v1/{kind}/").status_code == 200
