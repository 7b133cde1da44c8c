"""Audit trail for tenant-owned configuration: django-simple-history, scoped like its model.

Chosen over django-auditlog because each model gets its own history table carrying `tenant_id`
(so the RLS policy and the scoped managers apply to history exactly as to the data), and because
`as_of()` answers "what did this plan look like on that date", which auditors of pay ask.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from simple_history.manager import HistoryManager
from simple_history.models import HistoricalRecords

from .context import require_active_tenant


class TenantHistoryManager(HistoryManager):
    def get_super_queryset(self):
        return super().get_super_queryset().filter(tenant_id=require_active_tenant().pk)


class _ScopedManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(tenant_id=require_active_tenant().pk)


class TenantHistoryBase(models.Model):
    objects = _ScopedManager()
    unscoped = models.Manager()  # noqa: DJ012

    class Meta:
        abstract = True


class TenantHistoricalRecords(HistoricalRecords):
    """HistoricalRecords for TenantModel subclasses."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("history_manager", TenantHistoryManager)
        kwargs.setdefault("bases", (TenantHistoryBase,))
        super().__init__(*args, **kwargs)


def record_author(obj: models.Model, user: Any) -> None:
    """Name `user` (None for the system) as the author of the history row that `obj`'s next
    save writes. simple-history reads it from an attribute that the model does not declare."""
    obj._history_user = user  # type: ignore[attr-defined]  # undeclared, read by simple-history
