"""Request ids and the active tenant on every log record."""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import logging
import uuid
from collections.abc import Callable, Iterator

from django.http import HttpRequest, HttpResponse
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from spm.tenancy.context import get_active_tenant

NO_REQUEST_ID = "-"
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "spm_request_id", default=NO_REQUEST_ID
)


def current_request_id() -> str:
    """The id of the request (or task) being served, "-" outside one."""
    return _request_id.get()


@contextlib.contextmanager
def bound_request_id(request_id: str) -> Iterator[str]:
    """Tag every log line of the block with `request_id` (tasks use it; requests get the header)."""
    token = _request_id.set(request_id)
    try:
        yield request_id
    finally:
        _request_id.reset(token)


class JsonFormatter(_JsonFormatter):
    """JSON lines whose time is ISO 8601 in UTC with milliseconds, whatever the host's zone."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        tenant = get_active_tenant()
        record.tenant = tenant.slug if tenant is not None else "-"
        return True


class RequestIdMiddleware:
    """Takes X-Request-ID from the proxy (or makes one) and echoes it in the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else ""
        token = _request_id.set(request_id or uuid.uuid4().hex)
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = _request_id.get()
            return response
        finally:
            _request_id.reset(token)
