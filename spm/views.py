"""The workspace picker at /, each tenant's role home page at /t/<slug>/, and the health check."""

from __future__ import annotations

import calendar
import logging
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from compensation.models import PayeePeriodResult
from compensation.run_review import finance_attention
from quotas.models import Quota
from spm.onboarding.checklist import setup_checklist
from spm.org.models import Person, Team
from spm.org.selectors import (
    manager_chain,
    people_visible_to,
    person_for_user,
    team_of_person,
)
from spm.tenancy.access import memberships_of
from spm.tenancy.models import Role
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

#: A manager's home lists this many of their people; the count says how many there are in all.
TEAM_LIST_LIMIT = 25


def _quota_and_statement_flags(
    *, role: str, me: Person | None, people: QuerySet[Person]
) -> dict[str, bool]:
    """Whether a rep's or manager's quota and statement cards have something to link to, so
    they never say "nothing yet" while there is (EXISTS: constant cost)."""
    if role == Role.MANAGER:
        return {"has_team_quotas": Quota.objects.filter(person__in=people).exists()}
    if me is None:
        return {"has_quota": False, "has_statements": False}
    return {
        "has_quota": Quota.objects.filter(person=me).exists(),
        "has_statements": PayeePeriodResult.objects.filter(payee=me).exists(),
    }


def tenant_home(request: HttpRequest) -> HttpResponse:
    """The tenant's home page, one per role; shows only what exists, never invented numbers."""
    membership = request.membership
    today = tenant_today(request.tenant)
    me = person_for_user(user=request.user)
    people = people_visible_to(membership=membership, on=today)
    context: dict[str, Any] = {"me": me, "today": today, "people_count": people.count()}
    if me is not None:
        context["my_team"] = team_of_person(person=me, on=today)
        chain = manager_chain(person=me, on=today)
        context["my_manager"] = chain[0] if chain else None
    if membership.role == Role.ADMIN:
        context["team_count"] = Team.objects.count()
        context["fiscal_year_start"] = calendar.month_name[request.tenant.fiscal_year_start_month]
        context["checklist"] = setup_checklist(tenant=request.tenant)
    if membership.role in (Role.REP, Role.MANAGER):
        context.update(_quota_and_statement_flags(role=membership.role, me=me, people=people))
    if membership.role == Role.FINANCE:
        context["attention"] = finance_attention(today=today)
    if membership.role == Role.MANAGER:
        reports = people.exclude(pk=me.pk) if me is not None else people.none()
        context["reports"] = list(reports.order_by("name")[:TEAM_LIST_LIMIT])
        context["reports_count"] = context["people_count"] - (1 if me is not None else 0)
        context["managed_teams"] = (
            list(Team.objects.filter(manager=me).order_by("path")) if me is not None else []
        )
    return render(request, HOME_TEMPLATES[membership.role], context)
