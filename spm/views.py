"""The workspace picker at /, each tenant's role home page at /t/<slug>/, and the health check."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from spm.home import home_cards
from spm.tenancy.access import memberships_of
from spm.tenancy.today import tenant_today
from spm.tenancy.urls import tenant_reverse

logger = logging.getLogger(__name__)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Straight into the only workspace; a picker for several; a friendly page for none."""
    memberships = memberships_of(request.user)
    if len(memberships) == 1:
        return redirect(tenant_reverse(memberships[0].tenant, "tenant-home"))
    workspaces = [
        {"membership": m, "url": tenant_reverse(m.tenant, "tenant-home")} for m in memberships
    ]
    return render(request, "home_picker.html", {"workspaces": workspaces})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database and Redis reachability for probes: no login, and no error text in the answer."""
    from django.conf import settings

    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except DatabaseError as exc:
        logger.error("healthz: database unavailable: %s", exc)
        checks["database"] = "unavailable"
    if settings.REDIS_URL:
        try:
            import redis

            # Both timeouts: an unroutable host would otherwise hang the probe on connect.
            client = redis.Redis.from_url(
                settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
            )
            try:
                client.ping()
            finally:
                client.close()
            checks["redis"] = "ok"
        except Exception as exc:  # any failure to reach Redis is "unavailable"
            logger.error("healthz: redis unavailable: %s", exc)
            checks["redis"] = "unavailable"
    else:
        checks["redis"] = "not configured (tasks run eagerly)"
    healthy = all(value != "unavailable" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )


HOME_TEMPLATES = {
    "admin": "home/admin.html",
    "finance": "home/finance.html",
    "manager": "home/manager.html",
    "rep": "home/rep.html",
}



def tenant_home(request: HttpRequest) -> HttpResponse:
    """The tenant's home page, one per role; shows only what exists, never invented numbers."""
    membership = request.membership
    cards = home_cards(tenant=request.tenant, membership=membership, user=request.user,
                       today=tenant_today(request.tenant))
    return render(request, HOME_TEMPLATES[membership.role], cards)
