"""Who may enter a tenant, and with which role."""

from __future__ import annotations

from typing import cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User

from .models import Membership, Role, Tenant


def membership_for(user: AbstractBaseUser | AnonymousUser, slug: str) -> Membership | None:
    """The user's active membership in the tenant `slug`, or None (unknown and foreign alike).

    A platform superuser may enter any active tenant and acts as its admin.
    """
    if not user.is_authenticated or not user.is_active:
        return None
    account = cast(User, user)  # signed in: an account of the project's user model
    membership = (
        Membership.objects.select_related("tenant")
        .filter(user=account, tenant__slug=slug, tenant__is_active=True, is_active=True)
        .first()
    )
    if membership is None and account.is_superuser:
        tenant = Tenant.objects.filter(slug=slug, is_active=True).first()
        if tenant is not None:
            membership = Membership(user=account, tenant=tenant, role=Role.ADMIN)
    return membership


def memberships_of(user: AbstractBaseUser | AnonymousUser) -> list[Membership]:
    if not user.is_authenticated:
        return []
    account = cast(User, user)  # signed in: an account of the project's user model
    return list(
        Membership.objects.select_related("tenant")
        .filter(user=account, is_active=True, tenant__is_active=True)
        .order_by("tenant__name")
    )
