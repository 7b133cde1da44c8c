"""In-app notifications and their e-mail twin, sent through Django's mail backend."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import NoReverseMatch
from django.utils import timezone

from compensation.models import Notification
from spm.tenancy.context import require_active_tenant
from spm.tenancy.models import Membership
from spm.tenancy.urls import tenant_reverse


def _url(url_name: str, kwargs: dict | None) -> str:
    try:
        return tenant_reverse(require_active_tenant(), url_name, **(kwargs or {}))
    except NoReverseMatch:
        return ""


def notify(*, recipients: Iterable[Any], message: str, url_name: str = "",
           url_kwargs: dict | None = None, email: bool = True) -> list[Notification]:
    """Tell each distinct user `message` in the app and (unless email=False) by e-mail, once the
    transaction commits, so a refused change sends nothing."""
    url = _url(url_name, url_kwargs) if url_name else ""
    users = {u.pk: u for u in recipients if u is not None}
    made = [Notification.objects.create(recipient=u, message=message[:300], url=url)
            for u in users.values()]
    addresses = sorted({u.email for u in users.values() if u.email})
    if email and addresses:
        subject = message if len(message) <= 120 else message[:117] + "..."
        body = message + (f"\n\nOpen it in SPM: {url}" if url else "")
        transaction.on_commit(lambda: send_mail(
            subject, body, getattr(settings, "DEFAULT_FROM_EMAIL", None), addresses,
            fail_silently=True))
    return made


def notify_roles(*, roles: Iterable[str], message: str, url_name: str = "",
                 url_kwargs: dict | None = None, exclude: Any = None,
                 email: bool = True) -> list[Notification]:
    """Notify every active member of the current tenant with one of `roles`."""
    members = (Membership.objects.filter(tenant=require_active_tenant(), role__in=list(roles),
                                         is_active=True, user__is_active=True)
               .select_related("user"))
    users = [m.user for m in members if exclude is None or m.user_id != exclude.pk]
    return notify(recipients=users, message=message, url_name=url_name, url_kwargs=url_kwargs,
                  email=email)


def notifications_mark_read(*, user: Any, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all, or those of `ids`); the count changed."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())
