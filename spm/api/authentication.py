"""API key authentication: `Authorization: Bearer <key>` (or `Api-Key <key>`) names one tenant.

The key is resolved once per request, before any tenant is active (keys are platform rows); the
views then run everything else inside that key's tenant (see views.TenantApiViewSet.dispatch).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from spm.tenancy.models import ApiKey

SCHEMES = {"bearer", "api-key"}
_RESOLVED = "_spm_api_key"
_NOT_GIVEN = object()


class ApiKeyPrincipal:
    """Stands in for request.user: the calling system, not a person, so it owns no user row."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, api_key: ApiKey) -> None:
        self.api_key = api_key
        self.tenant = api_key.tenant
        self.username = f"api-key:{api_key.prefix}"

    def __str__(self) -> str:
        return f"API key {self.api_key.name!r} ({self.api_key.prefix})"

    def get_username(self) -> str:
        return self.username


def presented_key(request: HttpRequest) -> str | None:
    """The raw key in the Authorization header, or None when the header names no API key."""
    header = get_authorization_header(request).split()
    if len(header) != 2:
        return None
    try:
        scheme, value = header[0].decode("ascii").lower(), header[1].decode("ascii")
    except UnicodeDecodeError:
        return ""  # a header was sent, and it cannot be a key
    return value if scheme in SCHEMES else None


def resolve_api_key(request: HttpRequest) -> ApiKey | object | None:
    """The usable key of this request; None for a wrong one; _NOT_GIVEN when none was sent.

    Cached on the request so the view wrapper and the DRF authentication class agree.
    """
    cached = getattr(request, _RESOLVED, None)
    if cached is not None:
        return cached[0]
    raw = presented_key(request)
    result: ApiKey | object | None = _NOT_GIVEN if raw is None else ApiKey.match(raw)
    setattr(request, _RESOLVED, (result,))
    return result


class ApiKeyAuthentication(BaseAuthentication):
    """DRF authentication for API keys: 401 for a missing, unknown or revoked key."""

    def authenticate(self, request: Request) -> tuple[ApiKeyPrincipal, ApiKey] | None:
        key = resolve_api_key(request._request)
        if key is _NOT_GIVEN:
            return None
        if not isinstance(key, ApiKey):
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return ApiKeyPrincipal(key), key

    def authenticate_header(self, request: Request) -> str:
        # Its presence makes DRF answer 401 (not 403) when no key was sent.
        return 'Bearer realm="api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes the key to OpenAPI as an HTTP bearer token."""

    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "A tenant API key, created by a tenant admin under Settings → API keys: "
                "`Authorization: Bearer spm_…`. `Authorization: Api-Key spm_…` works too."
            ),
        }
