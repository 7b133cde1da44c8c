"""Deal stage changes and the keyed bulk upserts shared by imports and the API."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from spm.crm.models import Account, Deal, DealStageHistory, DealStatus, Lead
from spm.crm.services import (
    RowsInvalid,
    accounts_upsert,
    activities_upsert,
    deal_change_stage,
    deals_upsert,
    leads_upsert,
)
from spm.tenancy.context import tenant_context
from tests.factories import AccountFactory, DealFactory, PersonFactory, StageFactory

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def stages(tenant_a):
    with tenant_context(tenant_a):
        return {
            "qualify": StageFactory(name="Qualify", order=1, default_probability=Decimal("10"),
                                    forecast_category="pipeline"),
            "propose": StageFactory(name="Propose", order=2, default_probability=Decimal("50"),
                                    forecast_category="best_case"),
            "won": StageFactory(name="Closed Won", order=9, default_probability=Decimal("100"),
                                forecast_category="closed", is_won=True),
            "lost": StageFactory(name="Closed Lost", order=10, default_probability=Decimal("0"),
                                 forecast_category="omitted", is_lost=True),
        }


@pytest.fixture
def refs(tenant_a, stages):
    with tenant_context(tenant_a):
        return {"owner": PersonFactory(), "account": AccountFactory()}


def deal_row(refs, stages, n: int, **overrides) -> dict:
    row = {
        "external_id": f"OPP-{n}",
        "name": f"Deal {n}",
        "account_id": refs["account"].pk,
        "owner_id": refs["owner"].pk,
        "stage_id": stages["qualify"].pk,
        "amount": "1200.50",
        "close_date": "2026-03-31",
        "created_date": datetime.date(2026, 1, 5),
    }
    return row | overrides


def test_changing_a_stage_records_from_to_and_who(tenant_a, stages, admin_a):
    with tenant_context(tenant_a):
        deal = DealFactory(stage=stages["qualify"])
        moved = deal_change_stage(deal=deal, stage=stages["won"], actor=admin_a, at=T0)
        assert (moved.status, moved.forecast_category) == (DealStatus.WON, "closed")
        row = DealStageHistory.objects.get(deal=deal)
        assert (row.from_stage, row.to_stage, row.changed_at, row.changed_by) == (
            stages["qualify"], stages["won"], T0, admin_a
        )


def test_moving_a_deal_to_the_stage_it_is_in_records_nothing(tenant_a, stages):
    with tenant_context(tenant_a):
        deal = DealFactory(stage=stages["propose"])
        deal_change_stage(deal=deal, stage=stages["propose"])
        assert not DealStageHistory.objects.filter(deal=deal).exists()


def test_a_stage_of_another_tenant_is_refused(tenant_a, tenant_b, stages):
    with tenant_context(tenant_b):
        foreign = StageFactory(name="Foreign")
    with tenant_context(tenant_a):
        deal = DealFactory(stage=stages["qualify"])
        with pytest.raises(Exception, match="another tenant"):
            deal_change_stage(deal=deal, stage=foreign)


def test_upsert_creates_deals_with_a_first_history_row_and_tenant_defaults(
    tenant_a, stages, refs
):
    with tenant_context(tenant_a):
        result = deals_upsert(rows=[deal_row(refs, stages, 1), deal_row(refs, stages, 2)],
                              actor=None)
        assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
        deal = Deal.objects.get(external_id="OPP-1")
        assert result.ids["OPP-1"] == deal.pk
        assert deal.amount == Decimal("1200.50")
        assert (deal.currency, deal.status, deal.forecast_category) == ("USD", "open", "pipeline")
        assert deal.close_date == datetime.date(2026, 3, 31)
        history = DealStageHistory.objects.get(deal=deal)
        assert (history.from_stage, history.to_stage) == (None, stages["qualify"])


def test_reupserting_the_same_rows_changes_nothing(tenant_a, stages, refs):
    rows = [deal_row(refs, stages, n) for n in range(5)]
    with tenant_context(tenant_a):
        deals_upsert(rows=rows)
        stamps = dict(Deal.objects.values_list("external_id", "updated_at"))
        result = deals_upsert(rows=rows)
        assert (result.created, result.updated, result.unchanged) == (0, 0, 5)
        assert dict(Deal.objects.values_list("external_id", "updated_at")) == stamps
        assert DealStageHistory.objects.count() == 5
        assert set(result.ids) == {f"OPP-{n}" for n in range(5)}


def test_a_stage_change_in_a_reupsert_is_recorded_and_closes_the_deal(tenant_a, stages, refs):
    with tenant_context(tenant_a):
        created_at = T0 - datetime.timedelta(days=30)
        deals_upsert(rows=[deal_row(refs, stages, n, stage_changed_at=created_at) for n in (1, 2)])
        won = deal_row(refs, stages, 1, stage_id=stages["won"].pk, stage_changed_at=T0)
        result = deals_upsert(rows=[won, deal_row(refs, stages, 2)])
        assert (result.updated, result.unchanged, result.stage_changes) == (1, 1, 1)
        deal = Deal.objects.get(external_id="OPP-1")
        assert (deal.status, deal.forecast_category) == ("won", "closed")
        steps = DealStageHistory.objects.filter(deal=deal).order_by("changed_at")
        assert [(h.from_stage, h.to_stage, h.changed_at) for h in steps] == [
            (None, stages["qualify"], created_at),
            (stages["qualify"], stages["won"], T0),
        ]


def test_a_partial_row_updates_only_what_it_names(tenant_a, stages, refs):
    with tenant_context(tenant_a):
        deals_upsert(rows=[deal_row(refs, stages, 1, product_line="Core")])
        deals_upsert(rows=[{"external_id": "OPP-1", "amount": Decimal("999.99")}])
        deal = Deal.objects.get(external_id="OPP-1")
        assert (deal.amount, deal.product_line, deal.stage_id) == (
            Decimal("999.99"), "Core", stages["qualify"].pk
        )
        assert DealStageHistory.objects.filter(deal=deal).count() == 1


def test_every_bad_row_is_named_and_nothing_is_written(tenant_a, tenant_b, stages, refs):
    with tenant_context(tenant_b):
        foreign_owner = PersonFactory()
    rows = [
        deal_row(refs, stages, 1),
        deal_row(refs, stages, 2, amount="-5"),
        deal_row(refs, stages, 3, close_date="31/03/2026"),
        deal_row(refs, stages, 4, owner_id=foreign_owner.pk),
        deal_row(refs, stages, 1),
        deal_row(refs, stages, 6, stage_id=999_999),
        deal_row(refs, stages, 7, amount=12.5),
        {"external_id": "OPP-8", "amount": "10"},
    ]
    with tenant_context(tenant_a):
        with pytest.raises(RowsInvalid) as caught:
            deals_upsert(rows=rows)
        problems = {(e.index, e.field) for e in caught.value.row_errors}
        assert problems == {
            (1, "amount"), (2, "close_date"), (3, "owner_id"), (4, "external_id"),
            (5, "stage_id"), (6, "amount"), (7, "account_id"), (7, "owner_id"),
            (7, "stage_id"), (7, "close_date"),
        }
        assert "cannot be negative" in str(caught.value)
        assert "Row 4, owner_id: no person with id" in str(caught.value)
        assert Deal.objects.count() == 0


def test_the_same_external_id_in_two_tenants_is_two_deals(tenant_a, tenant_b, stages, refs):
    with tenant_context(tenant_b):
        b_stage = StageFactory(name="Qualify")
        b_refs = {"owner": PersonFactory(), "account": AccountFactory()}
        deals_upsert(rows=[deal_row(b_refs, {"qualify": b_stage}, 1, amount="1")])
    with tenant_context(tenant_a):
        result = deals_upsert(rows=[deal_row(refs, stages, 1)])
        assert result.created == 1
        assert Deal.objects.get().amount == Decimal("1200.50")
    with tenant_context(tenant_b):
        assert Deal.objects.get().amount == Decimal("1.00")


def test_upsert_query_count_does_not_grow_with_rows(tenant_a, stages, refs):
    def queries_for(first: int, count: int) -> int:
        rows = [deal_row(refs, stages, n) for n in range(first, first + count)]
        with CaptureQueriesContext(connection) as captured:
            deals_upsert(rows=rows, batch_size=5000)
        return len(captured)

    # SQLite caps a statement at 999 parameters, so there a batch holds ~50 deals; PostgreSQL
    # takes the whole batch_size in one statement.
    many = 400 if connection.vendor == "postgresql" else 50
    with tenant_context(tenant_a):
        small = queries_for(0, 3)
        large = queries_for(1000, many)
        assert large == small


def test_accounts_upsert_reads_choices_by_label_and_rejects_a_bad_country(tenant_a):
    with tenant_context(tenant_a):
        result = accounts_upsert(rows=[{
            "external_id": "A-1", "name": "Initech", "segment": "Mid-market", "country": "de",
            "annual_revenue": "1000000", "employees": "250",
        }])
        account = Account.objects.get(pk=result.ids["A-1"])
        assert (account.segment, account.country, account.employees) == ("mid_market", "DE", 250)
        with pytest.raises(RowsInvalid, match="country"):
            accounts_upsert(rows=[{"external_id": "A-2", "name": "X", "country": "Germany"}])


def test_a_lead_cannot_be_answered_before_it_arrived(tenant_a, refs):
    with tenant_context(tenant_a):
        with pytest.raises(RowsInvalid, match="first_response_at: is before"):
            leads_upsert(rows=[{
                "external_id": "L-1", "owner_id": refs["owner"].pk, "created_at": T0,
                "first_response_at": T0 - datetime.timedelta(hours=1),
            }])
        result = leads_upsert(rows=[{
            "external_id": "L-1", "owner_id": refs["owner"].pk, "created_at": "2026-03-02T09:00",
            "first_response_at": T0 + datetime.timedelta(minutes=5), "source": "web",
        }])
        lead = Lead.objects.get(pk=result.ids["L-1"])
        assert lead.created_at == T0
        assert lead.status == "new"


def test_activities_link_to_deals_of_the_same_tenant_only(tenant_a, tenant_b, stages, refs):
    with tenant_context(tenant_b):
        foreign_deal = DealFactory(stage=StageFactory(name="B stage"))
    with tenant_context(tenant_a):
        deal = DealFactory(stage=stages["qualify"], owner=refs["owner"])
        ok = activities_upsert(rows=[{
            "external_id": "ACT-1", "kind": "Demo", "person_id": refs["owner"].pk,
            "deal_id": deal.pk, "at": T0,
        }])
        assert ok.created == 1
        with pytest.raises(RowsInvalid, match="deal_id: no deal with id"):
            activities_upsert(rows=[{
                "external_id": "ACT-2", "kind": "call", "person_id": refs["owner"].pk,
                "deal_id": foreign_deal.pk, "at": T0,
            }])


def test_upserted_text_and_money_come_back_exactly_as_sent(tenant_a, stages, refs):
    awkward = 'Q3 "big" deal, {renewal} \\ NULL — Zürich'
    rows = [
        deal_row(refs, stages, 1, name=awkward, amount="123456789012.34", margin="-0.01",
                 units="2147483647", lost_reason=""),
        deal_row(refs, stages, 2, name="NULL", amount="0", margin=None),
    ]
    with tenant_context(tenant_a):
        deals_upsert(rows=rows)
        stored = {d.external_id: d for d in Deal.objects.all()}
        assert (stored["OPP-1"].name, stored["OPP-1"].amount, stored["OPP-1"].margin) == (
            awkward, Decimal("123456789012.34"), Decimal("-0.01")
        )
        assert (stored["OPP-1"].units, stored["OPP-1"].lost_reason) == (2_147_483_647, "")
        assert (stored["OPP-2"].name, stored["OPP-2"].amount, stored["OPP-2"].margin) == (
            "NULL", Decimal("0.00"), None
        )


def test_an_update_rewrites_and_stamps_only_the_deals_that_changed(tenant_a, stages, refs):
    with tenant_context(tenant_a):
        deals_upsert(rows=[deal_row(refs, stages, n) for n in (1, 2)])
        before = dict(Deal.objects.values_list("external_id", "updated_at"))
        result = deals_upsert(rows=[
            deal_row(refs, stages, 1, name='Renamed "one"', amount="0.05", margin="7.10"),
            deal_row(refs, stages, 2),
        ])
        assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
        one = Deal.objects.get(external_id="OPP-1")
        assert (one.name, one.amount, one.margin) == (
            'Renamed "one"', Decimal("0.05"), Decimal("7.10")
        )
        assert one.updated_at > before["OPP-1"]
        assert Deal.objects.get(external_id="OPP-2").updated_at == before["OPP-2"]
        assert result.ids == {"OPP-1": one.pk, "OPP-2": Deal.objects.get(external_id="OPP-2").pk}


def test_stage_history_written_by_an_upsert_names_who_sent_it(tenant_a, stages, refs, admin_a):
    with tenant_context(tenant_a):
        deals_upsert(rows=[deal_row(refs, stages, 1)], actor=admin_a)
        deals_upsert(rows=[deal_row(refs, stages, 1, stage_id=stages["lost"].pk)], actor=admin_a)
        deals_upsert(rows=[deal_row(refs, stages, 2)], actor=None)
        who = list(
            DealStageHistory.objects.order_by("pk").values_list("deal__external_id", "changed_by")
        )
        assert who == [("OPP-1", admin_a.pk), ("OPP-1", admin_a.pk), ("OPP-2", None)]
