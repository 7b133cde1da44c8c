"""Sales plan pages: who may open them, what they show, and an outsider's 404."""

from __future__ import annotations

from decimal import Decimal

import pytest

from planning.services import sales_plan_create, scenario_save, segment_mix_set
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Role
from spm.tenancy.urls import tenant_reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(tenant_a, admin_a):
    with tenant_context(tenant_a):
        plan = sales_plan_create(fiscal_year=2026, name="Grow", bookings_target=Decimal("9000000"),
                                 full_quota=Decimal("900000"), actor=admin_a)
        segment_mix_set(plan=plan, shares={"smb": Decimal(30), "enterprise": Decimal(70)})
        scenario_save(plan=plan, name="Stretch", bookings_target=Decimal("12000000"))
    return plan


@pytest.mark.smoke
def test_admin_sees_the_plan_with_scenarios_side_by_side(client, tenant_a, admin_a, plan):
    client.force_login(admin_a)

    listing = client.get(tenant_reverse(tenant_a, "planning:plan-list"))
    detail = client.get(tenant_reverse(tenant_a, "planning:plan-detail", pk=plan.pk))

    assert listing.status_code == 200
    assert "Grow" in listing.content.decode()
    assert detail.status_code == 200
    body = detail.content.decode()
    assert 'data-scenario="Plan"' in body
    assert 'data-scenario="Stretch"' in body
    assert [s.name for s in detail.context["overview"].scenarios] == ["Plan", "Stretch"]
    assert len(detail.context["months"]) == 12
    assert "2,700,000" in body  # the smb target: 30% of 9,000,000


@pytest.mark.parametrize(("role", "status"), [(Role.FINANCE, 200), (Role.MANAGER, 403),
                                              (Role.REP, 403)])
def test_finance_reads_plans_and_sellers_may_not(client, tenant_a, make_member, plan, role,
                                                 status):
    client.force_login(make_member(tenant_a, role))

    assert client.get(tenant_reverse(tenant_a, "planning:plan-list")).status_code == status
    assert client.get(
        tenant_reverse(tenant_a, "planning:plan-detail", pk=plan.pk)).status_code == status


def test_another_tenants_plan_is_404(client, tenant_b, admin_b, plan):
    client.force_login(admin_b)

    assert client.get(tenant_reverse(tenant_b, "planning:plan-detail", pk=plan.pk)).status_code \
        == 404


def test_an_empty_list_says_what_will_appear(client, tenant_a, admin_a):
    client.force_login(admin_a)

    response = client.get(tenant_reverse(tenant_a, "planning:plan-list"))

    assert b'data-empty="sales-plans"' in response.content
