"""Finance locks periods in the tenant admin; nobody types periods in or deletes them."""

from __future__ import annotations

import pytest
from django.test import Client

from spm.org.models import Period, PeriodStatus
from spm.org.services import periods_generate
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Role
from spm.tenancy.urls import tenant_reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def periods(tenant_a):
    with tenant_context(tenant_a):
        periods_generate(fiscal_years=[2026])
        return list(Period.objects.filter(kind="month").order_by("start_date")[:2])


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_finance_locks_a_period_with_the_admin_action(tenant_a, make_member, periods):
    finance = make_member(tenant_a, Role.FINANCE)
    url = tenant_reverse(tenant_a, "tenant_admin:org_period_changelist")
    response = client_for(finance).post(
        url, {"action": "lock_periods", "_selected_action": [periods[0].pk]}
    )
    assert response.status_code == 302
    with tenant_context(tenant_a):
        statuses = dict(Period.objects.filter(pk__in=[p.pk for p in periods])
                        .values_list("pk", "status"))
    assert statuses == {periods[0].pk: PeriodStatus.LOCKED, periods[1].pk: PeriodStatus.OPEN}


def test_periods_cannot_be_added_or_deleted_in_the_admin(tenant_a, admin_a, periods):
    client = client_for(admin_a)
    assert client.get(tenant_reverse(tenant_a, "tenant_admin:org_period_add")).status_code == 403
    delete = tenant_reverse(tenant_a, "tenant_admin:org_period_delete", periods[0].pk)
    assert client.post(delete, {"post": "yes"}).status_code == 403
    with tenant_context(tenant_a):
        assert Period.objects.filter(pk=periods[0].pk).exists()


def test_a_rep_cannot_lock_periods(tenant_a, make_member, periods):
    rep = make_member(tenant_a, Role.REP)
    url = tenant_reverse(tenant_a, "tenant_admin:org_period_changelist")
    client_for(rep).post(url, {"action": "lock_periods", "_selected_action": [periods[0].pk]})
    with tenant_context(tenant_a):
        assert Period.objects.get(pk=periods[0].pk).status == PeriodStatus.OPEN
