"""Sales plans added in the admin are written by the planning services, with who did it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from planning.models import SalesPlan
from spm.tenancy.context import tenant_context
from spm.tenancy.urls import tenant_reverse

pytestmark = pytest.mark.django_db


def plan_form(**overrides: str) -> dict[str, str]:
    return {
        "fiscal_year": "2027", "name": "FY27", "bookings_target": "1000000.00",
        "full_quota": "800000.00", "expected_attainment_percent": "85",
        "attrition_percent": "", "ramp_schedule": "", "max_hires_per_month": "",
        "segments-TOTAL_FORMS": "2", "segments-INITIAL_FORMS": "0",
        "segments-0-segment": "smb", "segments-0-share_percent": "40",
        "segments-1-segment": "enterprise", "segments-1-share_percent": "60",
        "scenarios-TOTAL_FORMS": "1", "scenarios-INITIAL_FORMS": "0",
        "scenarios-0-name": "Stretch", "scenarios-0-order": "1",
        "scenarios-0-bookings_target": "1200000.00",
    } | overrides


def test_a_plan_added_in_the_admin_gets_its_mix_and_scenarios_through_the_services(
    tenant_a, admin_a
):
    client = Client()
    client.force_login(admin_a)

    response = client.post(tenant_reverse(tenant_a, "tenant_admin:planning_salesplan_add"),
                           plan_form())

    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_context(tenant_a):
        plan = SalesPlan.objects.get(fiscal_year=2027)
        assert plan.history.get().history_user == admin_a
        shares = {s.segment: s.share_percent for s in plan.segments.all()}
        assert shares == {"smb": Decimal("40.00"), "enterprise": Decimal("60.00")}
        stretch = plan.scenarios.get()
        assert (stretch.name, stretch.bookings_target) == ("Stretch", Decimal("1200000.00"))
        assert stretch.history.get().history_user == admin_a


def test_a_mix_that_does_not_add_up_is_refused_and_nothing_is_written(tenant_a, admin_a):
    client = Client()
    client.force_login(admin_a)

    response = client.post(tenant_reverse(tenant_a, "tenant_admin:planning_salesplan_add"),
                           plan_form(**{"segments-1-share_percent": "50"}))

    assert response.status_code == 200
    assert "they must add up to exactly 100%" in response.content.decode()
    with tenant_context(tenant_a):
        assert not SalesPlan.objects.exists()
