"""Error pages answer with the right status and render without touching the database."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory

from spm import errors


@pytest.mark.smoke
def test_the_404_page_renders_without_the_database():
    # No django_db mark: any query here would raise, so this proves the page needs no database.
    response = errors.not_found(RequestFactory().get("/nowhere/"), Exception("gone"))

    assert response.status_code == 404
    body = response.content.decode()
    assert "Page not found" in body
    assert "/nowhere/" in body


@pytest.mark.smoke
def test_the_500_page_renders_without_the_database():
    response = errors.server_error(RequestFactory().get("/"))

    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


def test_the_403_page_renders_without_the_database():
    response = errors.forbidden(RequestFactory().get("/"), Exception("no"))

    assert response.status_code == 403
    assert "Your role does not open this page" in response.content.decode()


def test_error_pages_link_no_static_file_so_a_broken_manifest_cannot_break_them():
    for render in (errors.not_found, errors.forbidden):
        body = render(RequestFactory().get("/"), Exception()).content.decode()
        assert "/static/" not in body
    assert "/static/" not in errors.server_error(RequestFactory().get("/")).content.decode()


def test_the_404_page_escapes_the_requested_path():
    response = errors.not_found(RequestFactory().get("/<script>alert(1)</script>/"))

    assert "<script>alert(1)</script>" not in response.content.decode()


@pytest.mark.django_db
def test_an_unknown_url_answers_404_with_the_page(client):
    response = client.get("/no/such/page/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.urls("tests.shell.urls")
def test_a_refused_page_answers_403_with_the_page(client):
    response = client.get("/test-shell/forbidden/")

    assert response.status_code == 403
    assert "Your role does not open this page" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.urls("tests.shell.urls")
def test_a_crash_answers_500_with_the_page_and_its_request_id():
    client = Client(raise_request_exception=False)

    response = client.get("/test-shell/crash/", HTTP_X_REQUEST_ID="req-123")

    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert "req-123" in body
    assert "boom" not in body  # no internals leak to the visitor


@pytest.mark.django_db
def test_a_non_member_gets_the_same_404_page_inside_a_tenant_path(client, tenant_a, admin_b):
    client.force_login(admin_b)

    response = client.get("/t/acme/admin/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
