"""The deal admin shows stage history and never lets a stage change bypass it."""

from __future__ import annotations

import pytest
from django.test import Client

from spm.crm.models import Deal, DealStageHistory
from spm.crm.services import deal_change_stage
from spm.tenancy.context import tenant_context
from spm.tenancy.urls import tenant_reverse
from tests.factories import AccountFactory, DealFactory, PersonFactory, StageFactory

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


@pytest.fixture
def admin_client(admin_a) -> Client:
    client = Client()
    client.force_login(admin_a)
    return client


def test_the_deal_page_lists_its_stage_history_and_shows_the_stage_read_only(
    tenant_a, admin_client
):
    with tenant_context(tenant_a):
        deal = DealFactory(stage=StageFactory(name="Discovery"))
        deal_change_stage(deal=deal, stage=StageFactory(name="Negotiation"))
    url = tenant_reverse(tenant_a, "tenant_admin:crm_deal_change", deal.pk)
    page = admin_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Negotiation" in html
    assert 'name="stage"' not in html


def test_a_deal_added_in_the_admin_starts_its_history(tenant_a, admin_a, admin_client):
    with tenant_context(tenant_a):
        stage = StageFactory(name="Qualify")
        account, owner = AccountFactory(), PersonFactory()
    response = admin_client.post(
        tenant_reverse(tenant_a, "tenant_admin:crm_deal_add"),
        {
            "external_id": "OPP-NEW", "name": "", "account": account.pk, "owner": owner.pk,
            "amount": "500.00", "currency": "USD", "stage": stage.pk,
            "forecast_category": "pipeline", "created_date": "2026-01-02",
            "close_date": "2026-02-27", "product_line": "", "deal_type": "new", "units": "1",
            "lost_reason": "", "margin": "",
            "stage_history-TOTAL_FORMS": "0", "stage_history-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_context(tenant_a):
        deal = Deal.objects.get(external_id="OPP-NEW")
        assert deal.status == "open"
        first = DealStageHistory.objects.get(deal=deal)
        assert (first.from_stage, first.to_stage, first.changed_by) == (None, stage, admin_a)
        assert first.changed_at == deal.updated_at


def test_deals_moved_with_the_admin_action_get_a_stage_history_row_each(
    tenant_a, admin_a, admin_client
):
    with tenant_context(tenant_a):
        discovery, won = StageFactory(name="Discovery"), StageFactory(name="Won", is_won=True)
        deals = [DealFactory(stage=discovery), DealFactory(stage=discovery)]

    response = admin_client.post(tenant_reverse(tenant_a, "tenant_admin:crm_deal_changelist"), {
        "action": "move_to_stage", "stage": won.pk, "index": 0,
        "_selected_action": [d.pk for d in deals],
    })

    assert response.status_code == 302
    with tenant_context(tenant_a):
        for deal in deals:
            deal.refresh_from_db()
            assert deal.stage == won
            row = DealStageHistory.objects.get(deal=deal)
            assert (row.from_stage, row.to_stage, row.changed_by) == (discovery, won, admin_a)
