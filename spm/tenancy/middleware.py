"""Activates the tenant named in `/t/<slug>/…` for members only; everyone else gets a 404."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse

from .access import membership_for
from .context import tenant_context
from .urls import tenant_urlconf

TENANT_PATH = re.compile(r"^/t/(?P<slug>[^/]*)(?:/|$)")
VALID_SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,50}$")


class TenantMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        match = TENANT_PATH.match(request.path_info)
        if match is None:
            request.tenant = None  # type: ignore[attr-defined]  # what every view reads
            request.membership = None  # type: ignore[attr-defined]  # what every view reads
            return self.get_response(request)
        if not request.user.is_authenticated:
            # Same answer for every slug, existing or not, so nothing is revealed.
            return redirect_to_login(request.get_full_path())
        slug = match["slug"]
        membership = membership_for(request.user, slug) if VALID_SLUG.match(slug) else None
        if membership is None:
            raise Http404("No such workspace.")
        tenant = membership.tenant
        request.tenant = tenant  # type: ignore[attr-defined]  # what every view reads
        request.membership = membership  # type: ignore[attr-defined]  # what every view reads
        request.urlconf = tenant_urlconf(tenant.slug)  # type: ignore[attr-defined]  # Django reads it
        with tenant_context(tenant):
            response = self.get_response(request)
            # Lazy querysets in templates must be evaluated while the tenant is still active.
            render = getattr(response, "render", None)
            if callable(render) and not getattr(response, "is_rendered", True):
                response = render()
            if response.status_code >= 500:
                transaction.set_rollback(True)
        return response
