"""A URLconf for shell tests: the real routes plus views that fail or leave a message on purpose."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path

from spm import urls as project_urls


def leave_messages(request: HttpRequest) -> HttpResponse:
    messages.error(request, "Nothing was imported: row 3 has no amount.")
    messages.success(request, "Saved.")
    return redirect("login")


def deny(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied("Your role does not give access to this page.")


def crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


urlpatterns = [
    path("test-shell/message/", leave_messages),
    path("test-shell/forbidden/", deny),
    path("test-shell/crash/", crash),
    *project_urls.urlpatterns,
]

handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500
