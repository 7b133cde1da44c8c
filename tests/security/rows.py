"""Build a valid row of any tenant model, for tests generated over every model.

A factory in tests/factories.py is used when one exists for the model; otherwise values come from
the field types, and required foreign keys get rows of their own in the same tenant. Call inside
tenant_context. A model this cannot build needs a factory: the error says so.
"""

from __future__ import annotations

import datetime
import decimal
import itertools
import uuid
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from spm.tenancy.models import Tenant, TenantModel

_counter = itertools.count(1)


def _factories() -> dict[type[models.Model], type[factory.django.DjangoModelFactory]]:
    from tests import factories as module

    found = {}
    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, factory.django.DjangoModelFactory):
            model = value._meta.model
            if isinstance(model, type):
                found.setdefault(model, value)
    return found


def _value_for(field: models.Field, marker: str, n: int, date_index: int) -> Any:
    if field.choices:
        return field.choices[0][0]
    if isinstance(field, models.EmailField):
        return f"{marker.lower()}-{n}@example.com"
    if isinstance(field, models.SlugField):
        return f"{marker.lower()}-{n}"[: field.max_length]
    if isinstance(field, models.URLField):
        return f"https://example.com/{marker}-{n}"
    if isinstance(field, (models.CharField, models.TextField)):
        text = f"{marker}-{n}"
        return text[: field.max_length] if field.max_length else text
    if isinstance(field, models.BooleanField):
        return False
    if isinstance(field, models.DecimalField):
        return decimal.Decimal("1")
    if isinstance(field, models.FloatField):
        return 1.0
    if isinstance(field, models.IntegerField):
        return 1
    if isinstance(field, models.DateTimeField):
        return datetime.datetime(2026, 1 + date_index % 12, 1, tzinfo=datetime.UTC)
    if isinstance(field, models.DateField):
        return datetime.date(2026, 1 + date_index % 12, 1)
    if isinstance(field, models.DurationField):
        return datetime.timedelta(days=1)
    if isinstance(field, models.UUIDField):
        return uuid.uuid4()
    if isinstance(field, models.JSONField):
        return {}
    raise TypeError(f"no generic value for {field!r}: add a factory for {field.model.__name__}")


def build_row(model: type[TenantModel], *, pk: int | None = None, marker: str = "ROW") -> Any:
    """Create and return one saved row of `model` in the active tenant."""
    known = _factories().get(model)
    if known is not None:
        kwargs: dict[str, Any] = {"pk": pk} if pk is not None else {}
        return known(**kwargs)
    n = next(_counter)
    values: dict[str, Any] = {}
    date_index = 0
    for field in model._meta.concrete_fields:
        if field.primary_key or field.name == "tenant" or not field.editable:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            continue
        if field.is_relation:
            if field.null:
                continue
            related = field.related_model
            if related is Tenant:
                continue
            if related is get_user_model():
                values[field.name] = get_user_model().objects.create(username=f"{marker}-{n}")
            elif issubclass(related, TenantModel):
                # Reuse a row the tenant already has: natural keys (a period, a stage) are
                # unique per tenant, so a second generated one would collide.
                existing = related._default_manager.order_by("pk").first()
                offset = None if pk is None else pk + 1000 + n
                values[field.name] = existing or build_row(related, pk=offset, marker=marker)
            else:
                raise TypeError(f"{model.__name__}.{field.name}: add a factory")
            continue
        if field.has_default() or field.null:
            continue
        if isinstance(field, (models.DateField, models.DateTimeField)):
            date_index += 1
        values[field.name] = _value_for(field, marker, n, date_index)
    obj = model(pk=pk, **values) if pk is not None else model(**values)
    try:
        with transaction.atomic():
            obj.save()
    except (IntegrityError, ValidationError) as exc:
        raise AssertionError(
            f"Cannot build a generic {model._meta.label} ({exc}). Add a factory for it to "
            "tests/factories.py; the generated isolation tests use it."
        ) from exc
    return obj
