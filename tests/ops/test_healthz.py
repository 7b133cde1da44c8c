"""/healthz: probes see database and Redis health without logging in, and never a secret."""

from __future__ import annotations

from unittest import mock

import pytest
import redis
from django.db import OperationalError

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

SECRET_REDIS_URL = "redis://:hunter2-redis-password@redis.internal:6379/0"


def test_it_answers_ok_without_login_when_everything_is_up(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_it_answers_503_naming_the_database_when_the_database_is_down(client):
    with mock.patch(
        "spm.views.connection.cursor",
        side_effect=OperationalError('connection to server at "db" failed: password=s3cret'),
    ):
        response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "unavailable"
    assert b"s3cret" not in response.content


def test_it_answers_503_naming_redis_when_redis_is_down(client, settings):
    settings.REDIS_URL = SECRET_REDIS_URL
    with mock.patch(
        "redis.Redis.ping",
        side_effect=redis.exceptions.ConnectionError(f"Error connecting to {SECRET_REDIS_URL}"),
    ):
        response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["redis"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert b"hunter2" not in response.content
    assert b"redis.internal" not in response.content


def test_it_answers_ok_when_redis_answers(client, settings):
    settings.REDIS_URL = SECRET_REDIS_URL
    with mock.patch("redis.Redis.ping", return_value=True):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["checks"]["redis"] == "ok"
    assert b"hunter2" not in response.content


def test_without_redis_configured_it_says_so_and_stays_healthy(client, settings):
    settings.REDIS_URL = ""

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["checks"]["redis"].startswith("not configured")


def test_it_is_not_redirected_to_https_behind_a_plain_http_probe(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    response = client.get("/healthz")

    assert response.status_code == 200
