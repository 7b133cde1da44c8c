"""Per-tenant URL configurations.

Each tenant gets a URLconf whose tenant patterns sit under the literal prefix `t/<slug>/`, so
`reverse()` and `{% url %}` (and the Django admin, which reverses without our help) produce the
active tenant's URLs with no slug argument to thread through every call.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from django.urls import include, path, reverse

_urlconfs: dict[str, ModuleType] = {}


def tenant_urlconf(slug: str) -> ModuleType:
    module = _urlconfs.get(slug)
    if module is None:
        from spm import urls as root_urls

        module = ModuleType(f"spm.urls_for_tenant.{slug}")
        module.urlpatterns = [  # type: ignore[attr-defined]
            path(f"t/{slug}/", include("spm.urls_tenant")),
            *root_urls.urlpatterns,
        ]
        _urlconfs[slug] = module
    return module


def tenant_reverse(tenant: Any, viewname: str, *args: Any, **kwargs: Any) -> str:
    """reverse() for a tenant page from anywhere: tasks, emails, tests."""
    return reverse(viewname, urlconf=tenant_urlconf(tenant.slug), args=args or None,
                   kwargs=kwargs or None)
