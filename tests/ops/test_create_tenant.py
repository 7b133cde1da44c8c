"""`manage.py create_tenant`: a platform operator opens a tenant with its first admin."""

from __future__ import annotations

import datetime
import re
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from spm.tenancy.access import membership_for
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Membership, Role, Tenant
from tests.factories import TenantFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

ACME = [
    "--slug", "acme",
    "--name", "Acme",
    "--currency", "USD",
    "--timezone", "Europe/Berlin",
    "--fiscal-start", "2",
    "--admin-email", "boss@acme.example",
]  # fmt: skip


def create_tenant(*args: str) -> str:
    out = StringIO()
    call_command("create_tenant", *args, stdout=out)
    return out.getvalue()


def test_it_creates_the_tenant_with_its_calendar_and_currency():
    create_tenant(*ACME)

    tenant = Tenant.objects.get(slug="acme")
    assert (tenant.name, tenant.currency, tenant.timezone, tenant.fiscal_year_start_month) == (
        "Acme",
        "USD",
        "Europe/Berlin",
        2,
    )
    assert tenant.is_active


def test_a_new_admin_can_sign_in_with_the_password_printed_once(client):
    output = create_tenant(*ACME)

    password = re.search(r"Initial password \(shown once\): (\S+)", output).group(1)
    user = get_user_model().objects.get(email="boss@acme.example")
    assert user.check_password(password)
    assert password not in user.password
    signed_in = client.post(
        "/accounts/login/", {"username": "boss@acme.example", "password": password}
    )
    assert signed_in.status_code == 302
    assert client.get("/t/acme/").status_code == 200


def test_the_admin_gets_the_admin_role_in_that_tenant():
    create_tenant(*ACME)

    user = get_user_model().objects.get(email="boss@acme.example")
    assert membership_for(user, "acme").role == Role.ADMIN


def test_an_existing_user_is_reused_and_no_password_is_printed():
    existing = UserFactory(username="boss", email="Boss@Acme.example")
    hash_before = existing.password

    output = create_tenant(*ACME)

    assert "password" not in output.lower()
    existing.refresh_from_db()
    assert existing.password == hash_before
    assert Membership.objects.get(tenant__slug="acme").user == existing
    assert get_user_model().objects.filter(email__iexact="boss@acme.example").count() == 1


def test_a_taken_slug_is_refused_and_nothing_is_created():
    TenantFactory(slug="acme", name="Original")

    with pytest.raises(CommandError, match="already exists"):
        create_tenant(*ACME)

    assert Tenant.objects.get(slug="acme").name == "Original"
    assert not get_user_model().objects.filter(email="boss@acme.example").exists()


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--currency", "dollars", "three-letter"),
        ("--timezone", "Mars/Olympus", "not a known time zone"),
        ("--slug", "no spaces", "slug"),
        ("--admin-email", "not-an-email", "--admin-email"),
    ],
)
def test_bad_input_is_refused_with_a_message_naming_it(option, value, message):
    args = list(ACME)
    args[args.index(option) + 1] = value

    with pytest.raises(CommandError, match=message):
        create_tenant(*args)

    assert not Tenant.objects.exists()


def test_a_fiscal_start_outside_1_to_12_is_refused():
    args = list(ACME)
    args[args.index("--fiscal-start") + 1] = "13"

    with pytest.raises(CommandError, match="fiscal-start"):
        create_tenant(*args)


def test_the_tenant_is_invisible_to_a_user_of_another_tenant():
    create_tenant(*ACME)
    outsider = UserFactory()
    other = TenantFactory(slug="globex")
    Membership.objects.create(user=outsider, tenant=other, role=Role.ADMIN)

    assert membership_for(outsider, "acme") is None


# -- ready to use: periods and stages ----------------------------------------------------------


def _fiscal_years(tenant) -> list[int]:
    from spm.org.models import Period

    with tenant_context(tenant):
        return list(
            Period.objects.filter(kind="year").order_by("fiscal_year").values_list(
                "fiscal_year", flat=True
            )
        )


@time_machine.travel(datetime.datetime(2026, 5, 10, 12, tzinfo=datetime.UTC), tick=False)
def test_it_creates_periods_for_two_past_years_this_year_and_the_next():
    create_tenant(*ACME)  # fiscal year starts in February: 10 May 2026 is in FY2027

    tenant = Tenant.objects.get(slug="acme")
    assert _fiscal_years(tenant) == [2025, 2026, 2027, 2028]
    with tenant_context(tenant):
        from spm.org.models import Period

        assert Period.objects.count() == 4 * 17
        assert Period.objects.get(kind="year", fiscal_year=2025).start_date == datetime.date(
            2024, 2, 1
        )


@time_machine.travel(datetime.datetime(2026, 5, 10, 12, tzinfo=datetime.UTC), tick=False)
def test_past_years_sets_how_much_history_gets_periods():
    create_tenant(*ACME, "--past-years", "0")

    assert _fiscal_years(Tenant.objects.get(slug="acme")) == [2027, 2028]


def test_past_years_outside_its_range_is_refused():
    with pytest.raises(CommandError, match="--past-years: '11' is not a number of years from 0"):
        create_tenant(*ACME, "--past-years", "11")

    assert not Tenant.objects.exists()


def test_it_creates_the_default_sales_stages():
    from spm.crm.models import Stage

    create_tenant(*ACME)

    with tenant_context(Tenant.objects.get(slug="acme")):
        names = list(Stage.objects.order_by("order").values_list("name", flat=True))
    assert names[0] == "Prospecting"
    assert names[-2:] == ["Closed Won", "Closed Lost"]


def test_it_says_what_it_prepared_and_where_the_admin_continues():
    output = create_tenant(*ACME)

    assert "7 default sales stages" in output
    assert "/t/acme/setup/" in output


@time_machine.travel(datetime.datetime(2026, 5, 10, 12, tzinfo=datetime.UTC), tick=False)
def test_running_it_again_with_the_same_settings_changes_nothing_and_fails_nothing():
    from spm.crm.models import Stage
    from spm.org.models import Period

    create_tenant(*ACME)
    tenant = Tenant.objects.get(slug="acme")
    with tenant_context(tenant):
        periods = set(Period.objects.values_list("pk", flat=True))
        stages = set(Stage.objects.values_list("pk", flat=True))

    output = create_tenant(*ACME)

    assert "already exists with these settings" in output
    assert "password" not in output.lower()
    assert Tenant.objects.count() == 1
    assert Membership.objects.filter(tenant=tenant).count() == 1
    with tenant_context(tenant):
        assert set(Period.objects.values_list("pk", flat=True)) == periods
        assert set(Stage.objects.values_list("pk", flat=True)) == stages


@time_machine.travel(datetime.datetime(2026, 5, 10, 12, tzinfo=datetime.UTC), tick=False)
def test_running_it_again_with_more_history_adds_only_the_older_years():
    create_tenant(*ACME)

    create_tenant(*ACME, "--past-years", "4")

    assert _fiscal_years(Tenant.objects.get(slug="acme")) == [2023, 2024, 2025, 2026, 2027, 2028]


def test_running_it_again_with_other_settings_is_refused_and_names_them():
    create_tenant(*ACME)
    args = list(ACME)
    args[args.index("--currency") + 1] = "EUR"

    with pytest.raises(CommandError, match=r"--currency is 'USD'.*/t/acme/setup/"):
        create_tenant(*args)

    assert Tenant.objects.get(slug="acme").currency == "USD"


def test_running_it_again_for_a_member_with_another_role_is_refused():
    create_tenant(*ACME)
    membership = Membership.objects.get(tenant__slug="acme")
    membership.role = Role.REP
    membership.save()

    with pytest.raises(CommandError, match="already a member of acme as Rep"):
        create_tenant(*ACME)

    membership.refresh_from_db()
    assert membership.role == Role.REP


@time_machine.travel(datetime.datetime(2026, 5, 10, 12, tzinfo=datetime.UTC), tick=False)
def test_periods_on_another_calendar_are_reported_not_raised_as_a_traceback():
    from spm.org.services import periods_generate

    create_tenant(*ACME, "--past-years", "0")
    tenant = Tenant.objects.get(slug="acme")
    tenant.fiscal_year_start_month = 1  # as if changed behind the setup page's back
    tenant.save()
    with tenant_context(tenant):
        periods_generate(fiscal_years=[2024])
    tenant.fiscal_year_start_month = 2
    tenant.save()

    with pytest.raises(CommandError, match="does not match a fiscal year starting in month 2"):
        create_tenant(*ACME, "--past-years", "3")
