"""Cleaners for bulk rows: each returns the value to store or raises ValueError with a reason
that names what is wrong with the cell."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import models
from django.utils import timezone

CENT = Decimal("0.01")

Cleaner = Callable[[Any], Any]


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(max_length: int, *, required: bool = False) -> Cleaner:
    def clean(value: Any) -> str:
        if _empty(value):
            if required:
                raise ValueError("is required")
            return ""
        if not isinstance(value, str | int):
            raise ValueError("must be text")
        value = str(value).strip()
        if len(value) > max_length:
            raise ValueError(f"is longer than {max_length} characters")
        return value

    return clean


def choice(choices: type[models.TextChoices]) -> Cleaner:
    """Accepts a stored value or its label, ignoring case ("Closed Won" or "won")."""
    lookup = {str(v).lower(): v for v in choices.values}
    lookup.update({str(label).lower(): v for v, label in choices.choices})

    def clean(value: Any) -> str:
        key = str(value).strip().lower() if value is not None else ""
        if key not in lookup:
            allowed = ", ".join(choices.values)
            raise ValueError(f"{value!r} is not one of {allowed}")
        return lookup[key]

    return clean


def money(*, max_digits: int = 14, negative: bool = False, nullable: bool = False) -> Cleaner:
    limit = Decimal(10) ** (max_digits - 2)

    def clean(value: Any) -> Decimal | None:
        if _empty(value):
            if nullable:
                return None
            raise ValueError("is required")
        if isinstance(value, float | bool):
            raise ValueError("must be a decimal number given as text or Decimal, not a float")
        try:
            amount = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
        if not amount.is_finite():
            raise ValueError(f"{value!r} is not a number")
        if amount < 0 and not negative:
            raise ValueError("cannot be negative")
        if abs(amount) >= limit:
            raise ValueError(f"is too large (at most {max_digits - 2} digits before the point)")
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)

    return clean


def day(*, nullable: bool = False) -> Cleaner:
    def clean(value: Any) -> datetime.date | None:
        if _empty(value):
            if nullable:
                return None
            raise ValueError("is required")
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        try:
            return datetime.date.fromisoformat(str(value).strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a date (use YYYY-MM-DD)") from None

    return clean


def moment(*, nullable: bool = False) -> Cleaner:
    """A point in time; naive values are read as UTC."""

    def clean(value: Any) -> datetime.datetime | None:
        if _empty(value):
            if nullable:
                return None
            raise ValueError("is required")
        if isinstance(value, datetime.datetime):
            stamp = value
        elif isinstance(value, datetime.date):
            stamp = datetime.datetime.combine(value, datetime.time())
        else:
            try:
                stamp = datetime.datetime.fromisoformat(str(value).strip())
            except ValueError:
                raise ValueError(f"{value!r} is not a date and time (use ISO 8601)") from None
        if timezone.is_naive(stamp):
            stamp = stamp.replace(tzinfo=datetime.UTC)
        return stamp

    return clean


def count(*, nullable: bool = False) -> Cleaner:
    def clean(value: Any) -> int | None:
        if _empty(value):
            if nullable:
                return None
            raise ValueError("is required")
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(f"{value!r} is not a whole number")
        try:
            number = int(str(int(value)) if isinstance(value, float) else str(value).strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a whole number") from None
        if number < 0:
            raise ValueError("cannot be negative")
        if number > 2_147_483_647:
            raise ValueError("is too large")
        return number

    return clean


def reference(*, nullable: bool = False) -> Cleaner:
    """A primary key; whether it belongs to the active tenant is checked for all rows at once."""

    def clean(value: Any) -> int | None:
        if _empty(value):
            if nullable:
                return None
            raise ValueError("is required")
        if isinstance(value, models.Model):
            return value.pk
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not an id")
        try:
            return int(str(value).strip())
        except ValueError:
            raise ValueError(f"{value!r} is not an id") from None

    return clean
