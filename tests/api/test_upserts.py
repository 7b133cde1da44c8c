"""Bulk upserts: keyed by the CRM's ids, all or nothing, per-row errors, stage history kept."""

from __future__ import annotations

import pytest

from spm.crm.models import Account, Activity, Deal, DealStageHistory, Lead
from spm.org.models import Person
from spm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db

BULK = "/api/v1/{kind}/bulk/"


def deal_row(external_id: str, **overrides) -> dict:
    row = {
        "external_id": external_id,
        "name": f"Deal {external_id}",
        "account": "A-ACC-1",
        "owner": "A-E1",
        "stage": "Discovery",
        "amount": "5000.00",
        "close_date": "2025-06-30",
    }
    row.update(overrides)
    return row


def post(client, kind: str, rows: list) -> tuple[int, dict]:
    response = client.post(BULK.format(kind=kind), {"rows": rows}, format="json")
    return response.status_code, response.json()


def history_of(tenant, external_id: str) -> list[tuple[str | None, str]]:
    with tenant_context(tenant):
        return [
            (h.from_stage.name if h.from_stage else None, h.to_stage.name)
            for h in DealStageHistory.objects.filter(deal__external_id=external_id)
            .select_related("from_stage", "to_stage")
            .order_by("changed_at", "pk")
        ]


@pytest.mark.smoke
def test_pushing_deals_creates_them_and_repushing_changes_nothing(api_a, tenant_a, world_a):
    rows = [deal_row("D-100"), deal_row("D-101", amount="10", owner="A-E2")]
    status, body = post(api_a, "deals", rows)
    assert status == 200, body
    assert (body["created"], body["updated"], body["unchanged"]) == (2, 0, 0)
    with tenant_context(tenant_a):
        new = Deal.objects.filter(external_id__in=["D-100", "D-101"])
        created = {d.external_id: d for d in new}
        assert body["ids"] == {key: deal.pk for key, deal in created.items()}
        assert str(created["D-101"].amount) == "10.00"
        assert created["D-101"].owner.employee_id == "A-E2"
        history_rows = DealStageHistory.objects.count()

    status, body = post(api_a, "deals", rows)
    assert status == 200, body
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 0, 2)
    assert body["stage_changes"] == 0
    with tenant_context(tenant_a):
        assert Deal.objects.filter(external_id__in=["D-100", "D-101"]).count() == 2
        assert DealStageHistory.objects.count() == history_rows


@pytest.mark.smoke
def test_a_stage_change_pushed_through_the_api_is_recorded(api_a, tenant_a, world_a):
    post(api_a, "deals", [deal_row("D-200", stage_changed_at="2025-04-01T09:00:00Z")])
    status, body = post(
        api_a, "deals",
        [{"external_id": "D-200", "stage": "Proposal",
          "stage_changed_at": "2025-05-02T10:00:00Z"}],
    )
    assert status == 200, body
    assert (body["updated"], body["stage_changes"]) == (1, 1)
    assert history_of(tenant_a, "D-200") == [(None, "Discovery"), ("Discovery", "Proposal")]
    with tenant_context(tenant_a):
        deal = Deal.objects.get(external_id="D-200")
        # Fields the row left out keep their values; the forecast category follows the stage.
        assert (str(deal.amount), deal.forecast_category) == ("5000.00", "best_case")

    status, body = post(api_a, "deals", [{"external_id": "D-200", "stage": "Closed Won"}])
    assert status == 200, body
    response = api_a.get("/api/v1/deals/by-external-id/D-200/")
    detail = response.json()
    assert detail["status"] == "won"
    assert [(h["from_stage"], h["to_stage"]) for h in detail["stage_history"]] == [
        (None, "Discovery"), ("Discovery", "Proposal"), ("Proposal", "Closed Won"),
    ]
    assert detail["stage_history"][1]["changed_at"].startswith("2025-05-02T10:00:00")


def test_one_bad_row_rejects_the_whole_batch_with_errors_per_row_and_field(
    api_a, tenant_a, world_a
):
    rows = [
        deal_row("D-300"),
        deal_row("D-301", amount="-5"),
        deal_row("D-302"),
        deal_row("D-303", close_date="31/12/2025", stage="No such stage"),
    ]
    status, body = post(api_a, "deals", rows)
    assert status == 400
    assert set(body["rows"]) == {"1", "3"}
    assert "amount" in body["rows"]["1"]
    assert "greater than or equal to 0" in body["rows"]["1"]["amount"][0]
    assert "close_date" in body["rows"]["3"]
    with tenant_context(tenant_a):
        assert not Deal.objects.filter(external_id__startswith="D-30").exists()


def test_unknown_references_are_reported_on_the_field_that_names_them(api_a, tenant_a, world_a):
    rows = [deal_row("D-400"), deal_row("D-401", stage="Negotiation", owner="NOBODY")]
    status, body = post(api_a, "deals", rows)
    assert status == 400
    assert body == {
        "rows": {
            "1": {
                "owner": ["No person with employee id 'NOBODY'."],
                "stage": ["No stage with name 'Negotiation'."],
            }
        }
    }
    with tenant_context(tenant_a):
        assert not Deal.objects.filter(external_id="D-400").exists()


def test_service_checks_come_back_under_the_apis_field_names(api_a, world_a):
    # A new deal without an account passes the type checks; the service finds it missing.
    row = deal_row("D-500")
    del row["account"]
    status, body = post(api_a, "deals", [row])
    assert status == 400
    assert body["rows"]["0"]["account"] == ["Is required for a new record."]


def test_unknown_fields_and_duplicate_keys_are_errors_not_silently_dropped(api_a, world_a):
    status, body = post(api_a, "deals", [deal_row("D-600", amout="5")])
    assert status == 400
    assert body["rows"]["0"] == {"amout": ["Is not a known field."]}

    status, body = post(api_a, "deals", [deal_row("D-601"), deal_row("D-601")])
    assert status == 400
    assert "appears twice" in body["rows"]["1"]["external_id"][0]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], 'Send an object: {"rows": [...]}.'),
        ({"rows": "x"}, "Send a list of rows."),
        ({"rows": []}, "Send at least one row."),
        ({"rows": [{"external_id": f"X{i}"} for i in range(1001)]},
         "Send at most 1000 rows per request, not 1001."),
    ],
)
def test_a_body_that_is_not_a_list_of_rows_is_a_400(api_a, world_a, body, message):
    response = api_a.post(BULK.format(kind="deals"), body, format="json")
    assert response.status_code == 400
    assert response.json()["rows"] == [message]


def test_malformed_json_is_a_400(api_a, world_a):
    response = api_a.post(
        BULK.format(kind="deals"), data=b'{"rows": [', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


def test_json_nested_too_deep_to_parse_is_a_400(api_a, world_a):
    body = b"[" * 100_000 + b"]" * 100_000
    response = api_a.post(BULK.format(kind="deals"), data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "The body is nested too deeply to be read."}


def test_a_body_over_the_size_limit_is_a_413_in_json(api_a, world_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = b'{"rows": ["' + b"x" * 1000 + b'"]}'
    response = api_a.post(BULK.format(kind="deals"), data=body, content_type="application/json")
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]


def test_people_accounts_leads_and_activities_upsert_by_their_keys(api_a, tenant_a, world_a):
    status, body = post(api_a, "people", [
        {"employee_id": "A-E9", "name": "Carol", "email": "carol@example.com", "role": "sdr"},
    ])
    assert status == 200, body
    status, body = post(api_a, "accounts", [
        {"external_id": "ACC-9", "name": "Initech", "segment": "enterprise", "country": "DE",
         "annual_revenue": "1500000.00"},
    ])
    assert status == 200, body
    status, body = post(api_a, "leads", [
        {"external_id": "L-9", "owner": "A-E9", "account": "ACC-9", "source": "event",
         "created_at": "2025-02-01T09:00:00Z", "first_response_at": "2025-02-01T09:30:00Z"},
    ])
    assert status == 200, body
    status, body = post(api_a, "activities", [
        {"external_id": "ACT-9", "kind": "call", "person": "A-E9", "lead": "L-9",
         "at": "2025-02-01T09:30:00Z"},
    ])
    assert status == 200, body
    with tenant_context(tenant_a):
        carol = Person.objects.get(employee_id="A-E9")
        assert (carol.name, carol.role) == ("Carol", "sdr")
        assert Account.objects.get(external_id="ACC-9").segment == "enterprise"
        lead = Lead.objects.get(external_id="L-9")
        assert (lead.owner_id, lead.account.external_id) == (carol.pk, "ACC-9")
        activity = Activity.objects.get(external_id="ACT-9")
        assert (activity.person_id, activity.lead_id) == (carol.pk, lead.pk)


def test_a_lead_answered_before_it_was_created_is_rejected(api_a, world_a):
    status, body = post(api_a, "leads", [
        {"external_id": "L-1", "created_at": "2025-02-01T09:00:00Z",
         "first_response_at": "2025-01-31T09:00:00Z"},
    ])
    assert status == 400
    assert body["rows"]["0"]["first_response_at"] == ["Is before the lead was created."]


def test_pushed_deal_changes_ask_for_a_recompute_of_those_deals_once_committed(
    api_a, tenant_a, world_a, monkeypatch, django_capture_on_commit_callbacks
):
    from compensation import tasks
    from compensation.models import RecomputeRequest

    sent: list[int] = []
    monkeypatch.setattr(tasks, "send_pending",
                        lambda tenant_id, countdown=None: sent.append(tenant_id) or True)
    with tenant_context(tenant_a):
        RecomputeRequest.objects.all().delete()  # what building the world asked for
    with django_capture_on_commit_callbacks(execute=True):
        assert post(api_a, "deals", [deal_row("D-300")])[0] == 200
    with tenant_context(tenant_a):
        requested = list(RecomputeRequest.objects.values_list("deal_id", flat=True))
        deal = Deal.objects.get(external_id="D-300")
    assert requested == [deal.pk]
    assert sent == [tenant_a.pk]
    # Re-sending the same rows changes nothing, so nothing needs recomputing.
    with django_capture_on_commit_callbacks(execute=True):
        assert post(api_a, "deals", [deal_row("D-300")])[0] == 200
    assert sent == [tenant_a.pk]


