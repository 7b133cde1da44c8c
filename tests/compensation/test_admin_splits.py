"""A deal split added in the admin is written by deal_splits_set, with who did it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from compensation.models import DealSplitSet
from spm.tenancy.context import tenant_context
from spm.tenancy.urls import tenant_reverse
from tests.factories import DealFactory, PersonFactory, StageFactory

pytestmark = pytest.mark.django_db


def test_a_split_added_in_the_admin_goes_through_the_service(tenant_a, admin_a):
    with tenant_context(tenant_a):
        deal = DealFactory(stage=StageFactory(name="Qualify"))
        ann, bob = PersonFactory(), PersonFactory()
    client = Client()
    client.force_login(admin_a)

    response = client.post(tenant_reverse(tenant_a, "tenant_admin:compensation_dealsplitset_add"), {
        "deal": deal.pk, "reason": "Overlay",
        "splits-TOTAL_FORMS": "2", "splits-INITIAL_FORMS": "0",
        "splits-0-person": ann.pk, "splits-0-percent": "60",
        "splits-1-person": bob.pk, "splits-1-percent": "40",
    })

    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_context(tenant_a):
        split_set = DealSplitSet.objects.get(deal=deal)
        assert split_set.reason == "Overlay"
        assert split_set.history.get().history_user == admin_a
        assert {(s.person_id, s.percent) for s in split_set.splits.all()} == {
            (ann.pk, Decimal("60.00")), (bob.pk, Decimal("40.00"))}
