"""Tenant, Membership with its role, API keys, and the abstract base of tenant-owned models."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from .context import require_active_tenant

CURRENCY_VALIDATOR = RegexValidator(r"^[A-Z]{3}$", "Use a three-letter ISO 4217 code, e.g. USD.")


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (e.g. Europe/Berlin).")


class Tenant(models.Model):
    """A customer organisation. Platform-owned: not itself scoped."""

    slug = models.SlugField(max_length=50, unique=True, help_text="Used in URLs: /t/<slug>/")
    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, default="USD", validators=[CURRENCY_VALIDATOR])
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text="1 = January. A fiscal year is named after the calendar year it ends in.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    FINANCE = "finance", "Finance"
    MANAGER = "manager", "Manager"
    REP = "rep", "Rep"


class Membership(models.Model):
    """A user's role in one tenant. A user may belong to several tenants with different roles."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_one_per_user"),
        ]
        indexes = [models.Index(fields=["user", "tenant"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.tenant} · {self.get_role_display()}"


class TenantQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):  # type: ignore[override]
        tenant = require_active_tenant()
        for obj in objs:
            _claim_for_tenant(obj, tenant)
        return super().bulk_create(objs, *args, **kwargs)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    """Default manager of tenant-owned models: the active tenant's rows, or an error."""

    def get_queryset(self) -> models.QuerySet:
        tenant = require_active_tenant()
        return super().get_queryset().filter(tenant_id=tenant.pk)


class UnscopedManager(models.Manager):
    """Every tenant's rows. For platform code only (and still bound by RLS on PostgreSQL)."""


def _claim_for_tenant(obj: TenantModel, tenant: Tenant) -> None:
    if obj.tenant_id is None:
        obj.tenant = tenant
    elif obj.tenant_id != tenant.pk:
        raise ValidationError(
            f"Cannot write a {obj._meta.verbose_name} of another tenant while {tenant} is active."
        )


class TenantModel(models.Model):
    """Base for every tenant-owned model.

    `objects` (the default manager, so also admin, forms and related lookups) sees only the active
    tenant and raises when none is active; `unscoped` is the explicit door for platform code.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", editable=False)

    objects = TenantManager()
    unscoped = UnscopedManager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        tenant = require_active_tenant()
        _claim_for_tenant(self, tenant)
        self._check_related_tenants()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        tenant = require_active_tenant()
        _claim_for_tenant(self, tenant)
        return super().delete(*args, **kwargs)

    def _check_related_tenants(self) -> None:
        # Forms and the API choose related rows through scoped querysets; this catches code that
        # wires objects together by hand. Only related objects already loaded are checked, so a
        # save costs no extra query.
        for field in self._meta.concrete_fields:
            if not field.is_relation or field.name == "tenant":
                continue
            if not field.is_cached(self):
                continue
            related = field.get_cached_value(self)
            related_tenant_id = getattr(related, "tenant_id", None)
            if related is not None and related_tenant_id not in (None, self.tenant_id):
                raise ValidationError(
                    {field.name: "Refers to a record of another tenant."}
                )


class ApiKeyQuerySet(models.QuerySet):
    def usable(self) -> ApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True, tenant__is_active=True)


class ApiKey(models.Model):
    """A secret that lets another system (a CRM) use the REST API of one tenant.

    Platform-level like Membership: it is looked up before any tenant is active, by its public
    `prefix`. Only a SHA-256 digest of the secret part is stored, so a leaked table does not leak
    working keys; the full key is shown once, when it is issued. The secret carries 256 random
    bits, which is why a fast digest is enough here where a password would need a slow one.
    """

    PREFIX_LENGTH = 12

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, help_text="Which system uses it, e.g. Salesforce sync.")
    prefix = models.CharField(max_length=PREFIX_LENGTH, unique=True, editable=False)
    secret_sha256 = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "API key"
        indexes = [models.Index(fields=["tenant", "created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @staticmethod
    def digest(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @classmethod
    def issue(cls, *, tenant: Tenant, name: str, created_by: Any = None) -> tuple[ApiKey, str]:
        """Create a key; returns it with the full secret, which is never available again."""
        prefix = secrets.token_hex(cls.PREFIX_LENGTH // 2)
        secret = secrets.token_urlsafe(32)
        key = cls.objects.create(
            tenant=tenant,
            name=name,
            prefix=prefix,
            secret_sha256=cls.digest(secret),
            created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
        )
        return key, f"spm_{prefix}_{secret}"

    @classmethod
    def match(cls, raw: str) -> ApiKey | None:
        """The usable key `raw` spells, or None (malformed, unknown, wrong secret or revoked)."""
        scheme, _, rest = raw.partition("_")
        prefix, _, secret = rest.partition("_")
        if scheme != "spm" or len(prefix) != cls.PREFIX_LENGTH or not secret:
            return None
        if not all(c in "0123456789abcdef" for c in prefix):
            return None
        key = cls.objects.usable().select_related("tenant").filter(prefix=prefix).first()
        # The digest is compared even for an unknown prefix, so timing does not tell the two apart.
        expected = key.secret_sha256 if key is not None else "0" * 64
        if not hmac.compare_digest(expected, cls.digest(secret)) or key is None:
            return None
        return key

    def touch(self, *, now: Any = None, every_seconds: int = 60) -> None:
        """Record use, at most once a minute, so a busy sync does not write on every request."""
        now = now or timezone.now()
        stale = now - datetime.timedelta(seconds=every_seconds)
        if self.last_used_at is None or self.last_used_at < stale:
            ApiKey.objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            ApiKey.objects.filter(pk=self.pk, revoked_at__isnull=True).update(
                revoked_at=self.revoked_at
            )
