"""Rate limits per API key, so one busy integration cannot starve the others."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from spm.tenancy.models import ApiKey

DEFAULT_RATE = "600/min"


class ApiKeyRateThrottle(SimpleRateThrottle):
    """REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api_key"] requests per key (default 600/min)."""

    scope = "api_key"

    def get_rate(self) -> str | None:
        # Read at call time (DRF reloads api_settings when settings change), not at import.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope, DEFAULT_RATE)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        key = request.auth
        if not isinstance(key, ApiKey):
            return None
        # The prefix is random and never reused, unlike a primary key after a rollback.
        return self.cache_format % {"scope": self.scope, "ident": key.prefix}
