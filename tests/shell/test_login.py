"""Signing in: wrong passwords get a clear message, and repeated ones lock the door for a while."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

WRONG = "not the password"


def sign_in(client, password: str, username: str = "admin_a"):
    return client.post(reverse("login"), {"username": username, "password": password})


@pytest.mark.smoke
def test_the_right_password_signs_in(client, admin_a):
    response = sign_in(client, PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(admin_a.pk)


@pytest.mark.smoke
def test_a_wrong_password_shows_a_message_on_the_login_page(client, admin_a):
    response = sign_in(client, WRONG)

    assert response.status_code == 200
    assert "enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_failure_limit_is_five(client):
    # The lockout tests below are about this limit; a changed setting should fail loudly here.
    assert settings.AXES_FAILURE_LIMIT == 5


@pytest.mark.smoke
def test_five_wrong_passwords_lock_the_account_out_with_429(client, admin_a):
    for _ in range(4):
        assert sign_in(client, WRONG).status_code == 200

    response = sign_in(client, WRONG)

    assert response.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in response.templates]
    body = response.content.decode()
    assert "Too many failed sign-ins" in body
    assert "about 15 minutes" in body


def test_the_right_password_still_fails_during_the_lockout(client, admin_a):
    for _ in range(5):
        sign_in(client, WRONG)

    response = sign_in(client, PASSWORD)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get("/t/acme/").status_code == 302  # still sent to login


def test_a_lockout_of_one_username_does_not_lock_out_another(
    client, admin_a, make_member, tenant_a
):
    make_member(tenant_a, "rep", username="rep_a")
    for _ in range(5):
        sign_in(client, WRONG)

    response = sign_in(client, PASSWORD, username="rep_a")

    assert response.status_code == 302


def test_a_success_before_the_limit_resets_the_count(client, admin_a):
    for _ in range(4):
        sign_in(client, WRONG)
    assert sign_in(client, PASSWORD).status_code == 302
    client.logout()

    for _ in range(4):
        assert sign_in(client, WRONG).status_code == 200
