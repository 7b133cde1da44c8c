"""The admin's first-run page: settings that generate the periods and default stages, idempotent,
and a fiscal calendar or currency that cannot move once data depends on it."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.test import Client

from spm.crm.models import Stage
from spm.org.models import Period
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Role, Tenant
from spm.tenancy.urls import tenant_reverse
from tests.factories import CompPlanFactory, QuotaFactory, QuotaPlanFactory

pytestmark = pytest.mark.django_db

# 10 May 2026: FY2026 with a January start, FY2027 with an April start.
NOW = datetime.datetime(2026, 5, 10, 12, tzinfo=datetime.UTC)
SETTINGS = {
    "fiscal_year_start_month": "1",
    "currency": "usd",
    "timezone": "Europe/Berlin",
    "past_years": "2",
}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def setup_url(tenant) -> str:
    return tenant_reverse(tenant, "onboarding:setup")


def fiscal_years(tenant) -> list[int]:
    with tenant_context(tenant):
        return list(
            Period.objects.filter(kind="year").order_by("fiscal_year").values_list(
                "fiscal_year", flat=True
            )
        )


@pytest.mark.smoke
def test_the_admin_sees_the_settings_and_that_no_periods_exist_yet(admin_a, tenant_a):
    response = logged_in(admin_a).get(setup_url(tenant_a))

    assert response.status_code == 200
    assert response.context["form"].initial["currency"] == "USD"
    assert response.context["form"].initial["past_years"] == 2
    assert b'data-empty="periods"' in response.content
    assert b'data-empty="stages"' in response.content


@pytest.mark.smoke
@time_machine.travel(NOW, tick=False)
def test_saving_creates_the_periods_and_stages_and_stores_the_settings(admin_a, tenant_a):
    response = logged_in(admin_a).post(setup_url(tenant_a), SETTINGS, follow=True)

    assert response.redirect_chain[-1][0] == tenant_reverse(tenant_a, "tenant-home")
    assert "Periods cover FY2024 to FY2027" in response.content.decode()
    tenant_a.refresh_from_db()
    assert (tenant_a.currency, tenant_a.timezone) == ("USD", "Europe/Berlin")
    assert fiscal_years(tenant_a) == [2024, 2025, 2026, 2027]
    with tenant_context(tenant_a):
        assert Stage.objects.count() == 7


@time_machine.travel(NOW, tick=False)
def test_saving_again_adds_nothing_and_shows_what_exists(admin_a, tenant_a):
    client = logged_in(admin_a)
    client.post(setup_url(tenant_a), SETTINGS)
    with tenant_context(tenant_a):
        before = set(Period.objects.values_list("pk", flat=True))

    response = client.post(setup_url(tenant_a), SETTINGS, follow=True)

    assert "no new fiscal periods" in response.content.decode()
    with tenant_context(tenant_a):
        assert set(Period.objects.values_list("pk", flat=True)) == before
        assert Stage.objects.count() == 7
    page = client.get(setup_url(tenant_a))
    assert page.context["form"].initial["past_years"] == 2
    assert b"FY2024" in page.content
    assert b"Prospecting" in page.content


@time_machine.travel(NOW, tick=False)
def test_the_fiscal_start_can_change_while_no_period_holds_data(admin_a, tenant_a):
    client = logged_in(admin_a)
    client.post(setup_url(tenant_a), SETTINGS)

    response = client.post(setup_url(tenant_a), {**SETTINGS, "fiscal_year_start_month": "4"})

    assert response.status_code == 302
    tenant_a.refresh_from_db()
    assert tenant_a.fiscal_year_start_month == 4
    assert fiscal_years(tenant_a) == [2025, 2026, 2027, 2028]
    with tenant_context(tenant_a):
        year = Period.objects.get(kind="year", fiscal_year=2027)
        assert (year.start_date, year.end_date) == (
            datetime.date(2026, 4, 1), datetime.date(2027, 4, 1)
        )
        assert Period.objects.count() == 4 * 17


@time_machine.travel(NOW, tick=False)
def test_the_fiscal_start_is_refused_once_quotas_use_the_periods(admin_a, tenant_a):
    client = logged_in(admin_a)
    client.post(setup_url(tenant_a), SETTINGS)
    with tenant_context(tenant_a):
        QuotaFactory(plan=QuotaPlanFactory(fiscal_year=2026))
        before = set(Period.objects.values_list("pk", flat=True))

    response = client.post(setup_url(tenant_a), {**SETTINGS, "fiscal_year_start_month": "4"})

    assert response.status_code == 400
    error = " ".join(response.context["form"].errors["fiscal_year_start_month"])
    assert "cannot change any more" in error
    assert "quotas" in error
    assert Tenant.objects.get(pk=tenant_a.pk).fiscal_year_start_month == 1
    with tenant_context(tenant_a):
        assert set(Period.objects.values_list("pk", flat=True)) == before
    assert b"data-calendar-fixed" in response.content


@time_machine.travel(NOW, tick=False)
def test_a_refused_calendar_change_saves_none_of_the_other_settings(admin_a, tenant_a):
    client = logged_in(admin_a)
    client.post(setup_url(tenant_a), SETTINGS)
    with tenant_context(tenant_a):
        QuotaFactory(plan=QuotaPlanFactory(fiscal_year=2026))

    client.post(setup_url(tenant_a), {
        **SETTINGS, "fiscal_year_start_month": "4", "timezone": "Asia/Tokyo",
    })

    assert Tenant.objects.get(pk=tenant_a.pk).timezone == "Europe/Berlin"


@time_machine.travel(NOW, tick=False)
def test_the_currency_is_refused_once_amounts_are_recorded_in_it(admin_a, tenant_a):
    with tenant_context(tenant_a):
        CompPlanFactory()

    response = logged_in(admin_a).post(setup_url(tenant_a), {**SETTINGS, "currency": "EUR"})

    assert response.status_code == 400
    error = " ".join(response.context["form"].errors["currency"])
    assert "comp plans are already recorded in USD" in error
    assert Tenant.objects.get(pk=tenant_a.pk).currency == "USD"


def test_bad_input_is_refused_on_its_field_and_nothing_is_written(admin_a, tenant_a):
    response = logged_in(admin_a).post(setup_url(tenant_a), {
        "fiscal_year_start_month": "13", "currency": "dollars", "timezone": "Mars/Olympus",
        "past_years": "-1",
    })

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {
        "fiscal_year_start_month", "currency", "timezone", "past_years",
    }
    assert fiscal_years(tenant_a) == []


@pytest.mark.parametrize("role", [Role.FINANCE, Role.MANAGER, Role.REP])
def test_members_who_are_not_admins_get_403_and_change_nothing(make_member, tenant_a, role):
    client = logged_in(make_member(tenant_a, role))

    assert client.get(setup_url(tenant_a)).status_code == 403
    assert client.post(setup_url(tenant_a), SETTINGS).status_code == 403
    assert fiscal_years(tenant_a) == []


def test_an_admin_of_another_tenant_gets_404(admin_b, tenant_a):
    client = logged_in(admin_b)

    assert client.get(setup_url(tenant_a)).status_code == 404
    assert client.post(setup_url(tenant_a), SETTINGS).status_code == 404
    assert fiscal_years(tenant_a) == []


def test_a_visitor_who_is_not_signed_in_is_sent_to_the_login(client, tenant_a):
    response = client.get(setup_url(tenant_a))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_admin_menu_links_to_the_setup_page(admin_a, tenant_a):
    body = logged_in(admin_a).get(tenant_reverse(tenant_a, "tenant-home")).content.decode()

    assert f'href="{setup_url(tenant_a)}"' in body
