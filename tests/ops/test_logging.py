"""Structured logs: one JSON object per line, carrying the request id and the tenant."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from django.conf import settings
from django.db import connection
from django.utils.module_loading import import_string

from .conftest import clean_env, run_python

pytestmark = pytest.mark.smoke

LOG_KEYS = {"time", "level", "logger", "message", "request_id", "tenant"}
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def configured_json_handler(stream: io.StringIO) -> logging.Handler:
    """A handler built from settings.LOGGING's JSON formatter and console filters."""
    formatter_config = dict(settings.LOGGING["formatters"]["json"])
    handler = logging.StreamHandler(stream)
    handler.setFormatter(import_string(formatter_config.pop("()"))(**formatter_config))
    for name in settings.LOGGING["handlers"]["console"]["filters"]:
        filter_config = dict(settings.LOGGING["filters"][name])
        handler.addFilter(import_string(filter_config.pop("()"))(**filter_config))
    return handler


@pytest.fixture
def query_log_lines():
    """JSON lines of every SQL query, formatted as production formats them."""
    stream = io.StringIO()
    handler = configured_json_handler(stream)
    logger = logging.getLogger("django.db.backends")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    connection.force_debug_cursor = True
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    connection.force_debug_cursor = False
    logger.setLevel(level)
    logger.removeHandler(handler)


@pytest.mark.django_db
def test_a_log_line_inside_a_tenant_request_carries_the_tenant_and_request_id(
    client, tenant_a, admin_a, query_log_lines
):
    client.force_login(admin_a)

    response = client.get("/t/acme/", headers={"X-Request-ID": "edge-7f3a"})

    assert response.status_code == 200
    assert response["X-Request-ID"] == "edge-7f3a"
    # The page reads the tenant's people, so those queries ran with the tenant active.
    lines = [line for line in query_log_lines() if "org_person" in line["message"]]
    assert lines
    for line in lines:
        assert set(line) >= LOG_KEYS
        assert (line["tenant"], line["request_id"]) == ("acme", "edge-7f3a")
        assert (line["level"], line["logger"]) == ("DEBUG", "django.db.backends")
        assert ISO_UTC.match(line["time"])


@pytest.mark.django_db
def test_a_request_without_an_id_gets_a_fresh_one(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]

    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


@pytest.mark.django_db
def test_an_unprintable_or_oversized_request_id_is_replaced(client):
    oversized = client.get("/healthz", headers={"X-Request-ID": "x" * 65})["X-Request-ID"]

    assert re.fullmatch(r"[0-9a-f]{32}", oversized)


def test_production_processes_log_json_lines_with_every_field():
    script = (
        "import logging, django; django.setup()\n"
        "logging.getLogger('spm.probe').warning('disk %s is full', 'sda')\n"
    )
    result = run_python(["-c", script], clean_env(DEBUG="0", SECRET_KEY="k" * 50))

    assert result.returncode == 0, result.stderr
    (line,) = [json.loads(text) for text in result.stderr.splitlines() if text.startswith("{")]
    assert set(line) == LOG_KEYS
    assert line["message"] == "disk sda is full"
    assert (line["level"], line["logger"], line["tenant"], line["request_id"]) == (
        "WARNING",
        "spm.probe",
        "-",
        "-",
    )
    assert ISO_UTC.match(line["time"])
