"""Database rules of the CRM facts: per-tenant keys, non-negative money, sane stages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from spm.crm.models import Stage
from spm.crm.selectors import bookings_by_owner, pipeline_by_stage
from spm.tenancy.context import tenant_context
from spm.tenancy.rls import missing_policies, tenant_tables
from tests.factories import AccountFactory, DealFactory, PersonFactory, StageFactory

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def test_an_external_id_is_unique_within_a_tenant_only(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        AccountFactory(external_id="ACC-1")
        with pytest.raises(IntegrityError), transaction.atomic():
            AccountFactory(external_id="ACC-1")
    with tenant_context(tenant_b):
        AccountFactory(external_id="ACC-1")


def test_a_deal_amount_cannot_be_negative(tenant_a):
    with tenant_context(tenant_a), pytest.raises(IntegrityError), transaction.atomic():
        DealFactory(amount=Decimal("-0.01"))


def test_a_stage_cannot_be_both_won_and_lost_or_above_100_percent(tenant_a):
    with tenant_context(tenant_a):
        with pytest.raises(IntegrityError), transaction.atomic():
            StageFactory(name="Both", is_won=True, is_lost=True)
        with pytest.raises(IntegrityError), transaction.atomic():
            StageFactory(name="Sure thing", default_probability=Decimal("100.01"))


def test_stage_edits_are_audited(tenant_a):
    with tenant_context(tenant_a):
        stage = StageFactory(name="Proposal", default_probability=Decimal("40"))
        stage.default_probability = Decimal("45")
        stage.save()
        assert [h.default_probability for h in Stage.history.order_by("history_id")] == [
            Decimal("40.00"), Decimal("45.00")
        ]


def test_bookings_count_won_deals_of_each_owner_in_the_dates(tenant_a):
    import datetime

    with tenant_context(tenant_a):
        won = StageFactory(name="Won", is_won=True, forecast_category="closed")
        open_stage = StageFactory(name="Open")
        ann, bob = PersonFactory(), PersonFactory()
        DealFactory(owner=ann, stage=won, amount=Decimal("100.10"),
                    close_date=datetime.date(2026, 1, 31))
        DealFactory(owner=ann, stage=won, amount=Decimal("0.20"),
                    close_date=datetime.date(2026, 1, 1))
        DealFactory(owner=ann, stage=won, amount=Decimal("5"), close_date=datetime.date(2026, 2, 1))
        DealFactory(owner=bob, stage=open_stage, amount=Decimal("7"),
                    close_date=datetime.date(2026, 1, 15))
        totals = bookings_by_owner(start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
        assert totals == {ann.pk: Decimal("100.30")}
        pipeline = pipeline_by_stage(
            close_from=datetime.date(2026, 1, 1), close_to=datetime.date(2026, 2, 1)
        )
        assert [(p["stage__name"], p["deals"], p["amount"]) for p in pipeline] == [
            ("Open", 1, Decimal("7.00"))
        ]


def test_every_crm_table_is_under_row_level_security():
    if connection.vendor != "postgresql":
        pytest.skip("row-level security is a PostgreSQL feature")
    crm = {t for t in tenant_tables() if t.startswith("crm_")}
    assert {"crm_deal", "crm_dealstagehistory", "crm_historicalstage", "crm_activity"} <= crm
    assert set(missing_policies()) & crm == set()
