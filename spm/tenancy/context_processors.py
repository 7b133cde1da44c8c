from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .access import memberships_of


def tenancy(request: HttpRequest) -> dict:
    membership = getattr(request, "membership", None)
    return {
        "tenant": getattr(request, "tenant", None),
        "membership": membership,
        "role": membership.role if membership is not None else None,
        # Evaluated only if a template shows the switcher.
        "my_memberships": SimpleLazyObject(lambda: memberships_of(request.user)),
    }
