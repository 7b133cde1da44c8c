"""Role rules, in one place, used by every view.

admin: everything in the tenant. finance: read everything, approve, lock, export.
manager: read their team subtree, write coaching. rep: themselves.
Whom a manager or rep may see is answered by spm.org.selectors.visible_person_ids.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from .models import Membership, Role

ALL_ROLES = frozenset(Role.values)


def has_role(membership: Membership | None, *roles: str) -> bool:
    return membership is not None and membership.role in roles


def can_configure(membership: Membership | None) -> bool:
    return has_role(membership, Role.ADMIN)


def can_approve(membership: Membership | None) -> bool:
    return has_role(membership, Role.ADMIN, Role.FINANCE)


def can_export_payroll(membership: Membership | None) -> bool:
    return has_role(membership, Role.ADMIN, Role.FINANCE)


def can_see_everyone(membership: Membership | None) -> bool:
    return has_role(membership, Role.ADMIN, Role.FINANCE)


def can_coach(membership: Membership | None) -> bool:
    return has_role(membership, Role.ADMIN, Role.MANAGER)


def can_use_admin(membership: Membership | None) -> bool:
    return has_role(membership, Role.ADMIN, Role.FINANCE)


def role_required(*roles: str) -> Callable:
    """View decorator: members without one of `roles` get 403 (non-members never get here)."""
    unknown = set(roles) - ALL_ROLES
    if unknown:
        raise ValueError(f"Unknown roles: {sorted(unknown)}")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any):
            if not has_role(getattr(request, "membership", None), *roles):
                raise PermissionDenied("Your role does not give access to this page.")
            return view(request, *args, **kwargs)

        wrapped.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]
        return wrapped

    return decorator


class RoleRequiredMixin:
    """Class-based counterpart of role_required."""

    allowed_roles: frozenset[str] = ALL_ROLES

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any):
        if not has_role(getattr(request, "membership", None), *self.allowed_roles):
            raise PermissionDenied("Your role does not give access to this page.")
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
