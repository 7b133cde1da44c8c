"""A new tenant gets a default sales process; a tenant with stages of its own keeps them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from spm.crm.models import DealStatus, Stage
from spm.crm.services import stages_create_defaults
from spm.tenancy.context import tenant_context
from tests.factories import StageFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def test_a_tenant_without_stages_gets_the_default_funnel_in_order(tenant_a):
    with tenant_context(tenant_a):
        created = stages_create_defaults()

        stages = list(Stage.objects.order_by("order"))
        assert [s.name for s in stages] == [
            "Prospecting", "Qualification", "Discovery", "Proposal", "Negotiation",
            "Closed Won", "Closed Lost",
        ]
        assert len(created) == 7
        assert [s.order for s in stages] == [1, 2, 3, 4, 5, 6, 7]


def test_open_stages_grow_in_probability_and_only_the_closed_ones_end_a_deal(tenant_a):
    with tenant_context(tenant_a):
        stages_create_defaults()
        stages = list(Stage.objects.order_by("order"))

    open_stages = [s for s in stages if s.deal_status == DealStatus.OPEN]
    probabilities = [s.default_probability for s in open_stages]
    assert probabilities == sorted(probabilities)
    assert all(Decimal("0") < p < Decimal("100") for p in probabilities)
    won = [s for s in stages if s.is_won]
    lost = [s for s in stages if s.is_lost]
    assert [(s.name, s.default_probability, s.forecast_category) for s in won] == [
        ("Closed Won", Decimal("100.00"), "closed")
    ]
    assert [(s.name, s.default_probability, s.forecast_category) for s in lost] == [
        ("Closed Lost", Decimal("0.00"), "omitted")
    ]


def test_running_it_again_creates_nothing(tenant_a):
    with tenant_context(tenant_a):
        stages_create_defaults()
        assert stages_create_defaults() == []
        assert Stage.objects.count() == 7


def test_a_tenant_with_its_own_stages_keeps_exactly_them(tenant_a):
    with tenant_context(tenant_a):
        mine = StageFactory(name="Signed", order=1, default_probability=Decimal("100"),
                            forecast_category="closed", is_won=True)

        assert stages_create_defaults() == []
        assert list(Stage.objects.all()) == [mine]
        mine.refresh_from_db()
        assert mine.default_probability == Decimal("100.00")


def test_another_tenants_stages_do_not_stop_the_defaults(tenant_a, tenant_b):
    with tenant_context(tenant_b):
        StageFactory(name="Theirs")
    with tenant_context(tenant_a):
        assert len(stages_create_defaults()) == 7


def test_each_default_stage_starts_its_audit_trail_with_who_created_it(tenant_a):
    user = UserFactory()
    with tenant_context(tenant_a):
        stages_create_defaults(actor=user)

        first = Stage.objects.get(name="Prospecting").history.get()
        assert first.history_type == "+"
        assert first.history_user == user
