""""Today" is the tenant's calendar day, not the server's: pages and services agree on it.

Kiritimati (UTC+14) and Pago Pago (UTC-11) are a day apart for most of every UTC day, so around
UTC midnight at least one of them is on a different date from the server.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine

from spm.crm.models import Deal
from spm.crm.services import deals_upsert
from spm.tenancy.context import TenantNotActiveError, tenant_context
from spm.tenancy.models import Role
from spm.tenancy.today import tenant_today
from spm.tenancy.urls import tenant_reverse
from tests.factories import AccountFactory, PersonFactory, StageFactory

pytestmark = pytest.mark.django_db

MARCH_31 = datetime.date(2026, 3, 31)
APRIL_1 = datetime.date(2026, 4, 1)
BEFORE_UTC_MIDNIGHT = datetime.datetime(2026, 3, 31, 23, 30, tzinfo=datetime.UTC)
AFTER_UTC_MIDNIGHT = datetime.datetime(2026, 4, 1, 0, 30, tzinfo=datetime.UTC)


@pytest.fixture
def kiritimati(tenant_a):
    tenant_a.timezone = "Pacific/Kiritimati"
    tenant_a.save(update_fields=["timezone"])
    return tenant_a


@pytest.fixture
def pago_pago(tenant_b):
    tenant_b.timezone = "Pacific/Pago_Pago"
    tenant_b.save(update_fields=["timezone"])
    return tenant_b


@pytest.mark.parametrize("moment", [BEFORE_UTC_MIDNIGHT, AFTER_UTC_MIDNIGHT])
def test_each_tenant_lives_on_its_own_day_on_both_sides_of_utc_midnight(
    moment, kiritimati, pago_pago
):
    with time_machine.travel(moment, tick=False):
        assert tenant_today(kiritimati) == APRIL_1
        assert tenant_today(pago_pago) == MARCH_31


def test_without_a_tenant_given_it_is_the_active_tenants_day(kiritimati, pago_pago):
    with time_machine.travel(BEFORE_UTC_MIDNIGHT, tick=False):
        with tenant_context(kiritimati):
            assert tenant_today() == APRIL_1
        with tenant_context(pago_pago):
            assert tenant_today() == MARCH_31


def test_a_given_moment_is_read_on_the_tenants_clock(kiritimati, pago_pago):
    assert tenant_today(kiritimati, now=AFTER_UTC_MIDNIGHT) == APRIL_1
    assert tenant_today(pago_pago, now=AFTER_UTC_MIDNIGHT) == MARCH_31


def test_with_no_tenant_active_there_is_no_today_to_guess():
    with pytest.raises(TenantNotActiveError):
        tenant_today()


@pytest.mark.parametrize("moment", [BEFORE_UTC_MIDNIGHT, AFTER_UTC_MIDNIGHT])
def test_the_home_page_shows_the_tenants_date(moment, client, kiritimati, pago_pago, make_member):
    east = make_member(kiritimati, Role.ADMIN)
    west = make_member(pago_pago, Role.ADMIN)
    with time_machine.travel(moment, tick=False):
        client.force_login(east)
        east_page = client.get(tenant_reverse(kiritimati, "tenant-home")).content.decode()
        client.force_login(west)
        west_page = client.get(tenant_reverse(pago_pago, "tenant-home")).content.decode()
    assert "Wednesday 1 April 2026" in east_page
    assert "Tuesday 31 March 2026" in west_page


def test_an_imported_deal_without_a_created_date_is_created_on_the_tenants_day(
    kiritimati, pago_pago
):
    created = {}
    with time_machine.travel(BEFORE_UTC_MIDNIGHT, tick=False):
        for tenant in (kiritimati, pago_pago):
            with tenant_context(tenant):
                stage = StageFactory(name="Qualify", order=1, default_probability=Decimal("10"),
                                     forecast_category="pipeline")
                deals_upsert(rows=[{
                    "external_id": "OPP-1", "name": "First", "account_id": AccountFactory().pk,
                    "owner_id": PersonFactory().pk, "stage_id": stage.pk, "amount": "100.00",
                    "close_date": "2026-06-30",
                }])
                created[tenant.slug] = Deal.objects.get(external_id="OPP-1").created_date
    assert created == {kiritimati.slug: APRIL_1, pago_pago.slug: MARCH_31}
