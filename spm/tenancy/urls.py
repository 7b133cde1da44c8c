"""Per-tenant URL configurations.

Each tenant gets a URLconf whose tenant patterns sit under the literal prefix `t/<slug>/`, so
`reverse()` and `{% url %}` (and the Django admin, which reverses without our help) produce the
active tenant's URLs with no slug argument to thread through every call.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType
from typing import Any

from django.conf import settings
from django.urls import include, path, reverse

_urlconfs: dict[str, ModuleType] = {}


def tenant_urlconf(slug: str) -> ModuleType:
    module = _urlconfs.get(slug)
    if module is None:
        # Named by settings, not imported: the URLconfs sit above every app, tenancy below them.
        root_urls = import_module(settings.ROOT_URLCONF)
        module = ModuleType(f"spm.urls_for_tenant.{slug}")
        module.urlpatterns = [  # type: ignore[attr-defined]
            path(f"t/{slug}/", include(settings.TENANT_URLCONF)),
            *root_urls.urlpatterns,
        ]
        for handler in ("handler400", "handler403", "handler404", "handler500"):
            if hasattr(root_urls, handler):
                setattr(module, handler, getattr(root_urls, handler))
        _urlconfs[slug] = module
    return module


def tenant_reverse(tenant: Any, viewname: str, *args: Any, **kwargs: Any) -> str:
    """reverse() for a tenant page from anywhere: tasks, emails, tests."""
    return reverse(viewname, urlconf=tenant_urlconf(tenant.slug), args=args or None,
                   kwargs=kwargs or None)
