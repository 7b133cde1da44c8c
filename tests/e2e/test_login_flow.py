"""A person signs in through a real browser and lands on their role's home page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from spm.tenancy.models import Role
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.REP])
def test_a_member_signs_in_and_sees_their_role_home(page, live_server, tenant_a, make_member, role):
    make_member(tenant_a, role, username=f"e2e_{role}")
    sign_in(page, live_server.url, f"e2e_{role}")
    expect(page).to_have_url(f"{live_server.url}/t/acme/")
    expect(page.locator("body")).to_contain_text("Acme Corp")
    expect(page.locator("[data-role-home]")).to_have_attribute("data-role-home", role)


def test_a_wrong_password_shows_a_message_and_stays_on_login(page, live_server, admin_a):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("admin_a")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("form")).to_contain_text("enter a correct username and password")


def test_a_rep_on_a_phone_signs_in_and_sees_home(phone_page, live_server, tenant_a, make_member):
    make_member(tenant_a, Role.REP, username="phone_rep")
    sign_in(phone_page, live_server.url, "phone_rep")
    expect(phone_page).to_have_url(f"{live_server.url}/t/acme/")
    # Nothing wider than the screen: the layout is usable at 390 px.
    overflow = phone_page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 390
