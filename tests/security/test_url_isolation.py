"""Generated over every URL pattern of a tenant: another tenant's rows are never reachable.

Tenant B gets one row of every tenant model, with primary keys above anything tenant A has, and
text that carries a marker. Then, signed in as A's admin:
- every tenant URL that takes an object id answers 404 when given the id of one of B's rows;
- every tenant URL without an id renders without a trace of B's marker;
- every tenant URL under B's slug answers 404 (A's admin is not a member of B).
New views and new models are covered without touching this file.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.apps import apps
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from spm.tenancy.context import tenant_context
from spm.tenancy.models import TenantModel
from spm.tenancy.rls import is_tenant_model
from spm.tenancy.urls import tenant_urlconf
from tests.security.rows import build_row

pytestmark = pytest.mark.django_db

MARKER = "GLOBEXSECRET"
B_PK_BASE = 1_000_000
NEVER_A_PK = 987_654_321  # no tenant has a row with this id


@dataclass(frozen=True)
class Route:
    name: str  # namespaced URL name
    kwargs: tuple[str, ...]
    positional: int  # unnamed regex groups (django-simple-history's admin URLs use them)
    callback: object

    def reverse(self, urlconf, value: str | None) -> str:
        if value is None:
            return reverse(self.name, urlconf=urlconf)
        return reverse(
            self.name,
            urlconf=urlconf,
            args=[value] * self.positional if self.positional else None,
            kwargs=dict.fromkeys(self.kwargs, value) if not self.positional else None,
        )

    @property
    def takes_arguments(self) -> bool:
        return bool(self.kwargs or self.positional)


def tenant_routes() -> list[Route]:
    """Every named pattern under /t/<slug>/, with its keyword arguments."""
    routes: list[Route] = []

    def walk(patterns, namespace: str, kwargs: tuple[str, ...], positional: int) -> None:
        for entry in patterns:
            regex = entry.pattern.regex
            own = tuple(regex.groupindex.keys())
            unnamed = regex.groups - len(own)
            if isinstance(entry, URLResolver):
                ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, ns, kwargs + own, positional + unnamed)
            elif isinstance(entry, URLPattern) and entry.name:
                routes.append(
                    Route(namespace + entry.name, kwargs + own, positional + unnamed,
                          entry.callback)
                )

    root = get_resolver(tenant_urlconf("acme"))
    for entry in root.url_patterns:
        if isinstance(entry, URLResolver) and str(entry.pattern) == "t/acme/":
            walk(entry.url_patterns, "", (), 0)
    return routes


def tenant_models() -> list[type[TenantModel]]:
    return [m for m in apps.get_models() if is_tenant_model(m) and issubclass(m, TenantModel)]


@pytest.fixture
def b_rows(tenant_b):
    rows = {}
    with tenant_context(tenant_b):
        for index, model in enumerate(tenant_models()):
            if not model._default_manager.exists():
                rows[model] = build_row(model, pk=B_PK_BASE * (index + 1), marker=MARKER)
            else:
                rows[model] = model._default_manager.order_by("-pk").first()
    return rows


@pytest.fixture
def client_a(admin_a):
    client = Client(raise_request_exception=False)
    client.force_login(admin_a)
    return client


def model_of(route: Route) -> type | None:
    """The model a route's id refers to, when the route says so."""
    view_class = getattr(route.callback, "view_class", None)
    model = getattr(view_class, "model", None) or getattr(route.callback, "model", None)
    if model is not None:
        return model
    model_admin = getattr(route.callback, "model_admin", None)
    if model_admin is None and hasattr(route.callback, "__self__"):
        model_admin = getattr(route.callback.__self__, "model", None)
        return model_admin
    return getattr(model_admin, "model", None)


def admin_model_of(route: Route) -> type | None:
    if not route.name.startswith("tenant_admin:"):
        return None
    from spm.tenancy.admin_site import tenant_admin_site

    for model in tenant_admin_site._registry:
        prefix = f"tenant_admin:{model._meta.app_label}_{model._meta.model_name}_"
        if route.name.startswith(prefix):
            return model
    return None


def test_the_generated_routes_include_the_admin_and_app_pages():
    names = {r.name for r in tenant_routes()}
    assert "tenant-home" in names
    assert "tenant_admin:org_person_change" in names


def test_every_id_taking_url_answers_404_for_another_tenants_row(client_a, b_rows):
    checked = 0
    failures = []
    for route in tenant_routes():
        if not route.takes_arguments:
            continue
        model = admin_model_of(route) or model_of(route)
        candidates = [b_rows[model]] if model in b_rows else list(b_rows.values())
        for row in candidates:
            try:
                url = route.reverse(tenant_urlconf("acme"), str(row.pk))
            except NoReverseMatch:
                break  # the arguments are not ids (e.g. the admin's app label)
            checked += 1
            # B's row must be indistinguishable from a row that does not exist: the same
            # refusal (404, or a 403/405 given before any lookup) for every method.
            missing = route.reverse(tenant_urlconf("acme"), str(NEVER_A_PK))
            statuses = {method: getattr(client_a, method)(url).status_code
                        for method in ("get", "post")}
            expected = {method: getattr(client_a, method)(missing).status_code
                        for method in ("get", "post")}
            if set(statuses.values()) - {403, 404, 405} or statuses != expected:
                failures.append(f"{url} ({route.name}) -> {statuses}, missing row {expected}")
    assert checked > 0
    assert failures == []


def test_pages_without_ids_never_show_another_tenants_rows(client_a, b_rows):
    failures = []
    for route in tenant_routes():
        if route.takes_arguments:
            continue
        url = route.reverse(tenant_urlconf("acme"), None)
        response = client_a.get(url)
        if response.status_code >= 500:
            failures.append(f"GET {url} -> {response.status_code}")
        elif MARKER.encode() in response.content:
            failures.append(f"GET {url} shows tenant B's data")
    assert failures == []


def test_every_url_of_another_tenant_is_404_for_a_non_member(client_a, b_rows):
    failures = []
    for route in tenant_routes():
        value = str(B_PK_BASE) if route.takes_arguments else None
        try:
            url = route.reverse(tenant_urlconf("globex"), value)
        except NoReverseMatch:
            continue
        status = client_a.get(url).status_code
        if status != 404:
            failures.append(f"GET {url} -> {status}")
    assert failures == []
