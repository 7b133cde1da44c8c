"""`manage.py create_tenant`: a platform operator opens a tenant with its first admin."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from spm.tenancy.access import membership_for
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
