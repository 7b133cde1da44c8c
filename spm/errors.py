"""Error pages that never need the database, so they render even when it is the problem."""

from django.http import HttpRequest, HttpResponse
from django.template import loader


def _render(template: str, status: int, request: HttpRequest) -> HttpResponse:
    body = loader.get_template(template).render({"request_path": request.path})
    return HttpResponse(body, status=status)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _render("errors/404.html", 404, request)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _render("errors/403.html", 403, request)


def server_error(request: HttpRequest) -> HttpResponse:
    return _render("errors/500.html", 500, request)
