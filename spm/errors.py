"""Error pages that never need the database, so they render even when it is the problem."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template import loader

from spm.logging import NO_REQUEST_ID, current_request_id


def _render(template: str, status: int, request: HttpRequest) -> HttpResponse:
    # Rendered without the request on purpose: context processors would query memberships.
    request_id = current_request_id()
    body = loader.get_template(template).render(
        {
            "request_path": request.path,
            "request_id": "" if request_id == NO_REQUEST_ID else request_id,
        }
    )
    return HttpResponse(body, status=status)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _render("errors/404.html", 404, request)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _render("errors/403.html", 403, request)


def server_error(request: HttpRequest) -> HttpResponse:
    return _render("errors/500.html", 500, request)
