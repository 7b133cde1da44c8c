"""Platform pages outside any tenant: the workspace picker and the health check."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from spm.tenancy.access import memberships_of

logger = logging.getLogger(__name__)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    memberships = memberships_of(request.user)
    if len(memberships) == 1:
        return redirect(f"/t/{memberships[0].tenant.slug}/")
    return render(request, "home_picker.html", {"memberships": memberships})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
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

            redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
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
    from django.utils import timezone

    from spm.org.selectors import people_visible_to, person_for_user

    membership = request.membership
    today = timezone.localdate()
    context = {
        "me": person_for_user(user=request.user),
        "people_count": people_visible_to(membership=membership, on=today).count(),
    }
    return render(request, HOME_TEMPLATES[membership.role], context)
