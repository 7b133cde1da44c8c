"""Effective dating, written once: a row is in force from `valid_from` (inclusive) to `valid_to`
(exclusive, open when empty). The "valid on" and overlap filters, the scoped queryset that
offers them, and the one overlap validator every dated model and service uses.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any, ClassVar, Self

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from .models import TenantManager, TenantModel, TenantQuerySet

ONE_DAY = datetime.timedelta(days=1)

# A bound is a date, or an expression such as OuterRef("valid_from") inside a subquery.
Bound = datetime.date | Any


def valid_on_q(day: Bound, prefix: str = "") -> Q:
    """Rows whose [valid_from, valid_to) contains `day`.

    `prefix` reaches the dated rows through a relation ("owners__") when they must be matched
    in the same filter() as other conditions on that relation (one join, not two).
    """
    return Q(**{f"{prefix}valid_from__lte": day}) & (
        Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gt": day})
    )


def overlapping_q(start: Bound, end: Bound | None, prefix: str = "") -> Q:
    """Rows whose [valid_from, valid_to) shares a day with [start, end); `end` None is open.

    Ranges that touch (one ends the day the other starts) do not overlap.
    """
    q = Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gt": start})
    if end is not None:
        q &= Q(**{f"{prefix}valid_from__lt": end})
    return q


def ranges_overlap(a_from: datetime.date, a_to: datetime.date | None,
                   b_from: datetime.date, b_to: datetime.date | None) -> bool:
    """Whether [a_from, a_to) and [b_from, b_to) share a day (None = open end), in Python."""
    return (a_to is None or b_from < a_to) and (b_to is None or a_from < b_to)


def span_text(valid_from: datetime.date | None, valid_to: datetime.date | None) -> str:
    """How messages name a row's dates: "from 2026-01-01 until 2026-07-01" (the end being the
    first day no longer in force) or "from 2026-01-01 with no end date"."""
    until = f"until {valid_to}" if valid_to else "with no end date"
    return f"from {valid_from} {until}"


class EffectiveDatedQuerySet(TenantQuerySet):
    def valid_on(self, day: datetime.date) -> Self:
        """The rows in force on `day`."""
        return self.filter(valid_on_q(day))

    def overlapping(self, start: Bound, end: Bound | None) -> Self:
        """The rows in force on some day of [start, end) (`end` None = open)."""
        return self.filter(overlapping_q(start, end))

    def in_force_between(self, first: datetime.date, last: datetime.date) -> Self:
        """The rows in force on some day from `first` to `last`, both included."""
        return self.filter(Q(valid_from__lte=last) & overlapping_q(first, None))


class EffectiveDatedManager(TenantManager.from_queryset(EffectiveDatedQuerySet)):  # type: ignore[misc]
    """The tenant manager (it still fails closed with no active tenant) with dated filters."""


class EffectiveDatedModel(TenantModel):
    """Base of tenant-owned rows in force from `valid_from` (inclusive) to `valid_to`
    (exclusive, null = open).

    Each model declares the two fields itself, so their columns, help texts and nullability stay
    its own; the base gives them one meaning, one queryset and one overlap check.
    """

    valid_from: Any
    valid_to: Any

    objects: ClassVar[EffectiveDatedManager] = EffectiveDatedManager()

    class Meta:
        abstract = True

    def is_valid_on(self, day: datetime.date) -> bool:
        return (self.valid_from is not None and self.valid_from <= day
                and (self.valid_to is None or day < self.valid_to))

    def range_errors(self) -> dict[str, str]:
        """{"valid_to": ...} when the range is empty or backwards, for a clean() to report."""
        if self.valid_to and self.valid_from and self.valid_to <= self.valid_from:
            return {"valid_to": "Must be after valid from."}
        return {}

    def clean_range(self) -> None:
        errors = self.range_errors()
        if errors:
            raise ValidationError(errors)


def first_overlap(row: Any, siblings: models.QuerySet) -> Any | None:
    """The earliest of `siblings` (other than `row` itself) sharing a day with `row`'s range."""
    if row.valid_from is None:
        return None
    return (siblings.exclude(pk=row.pk).filter(overlapping_q(row.valid_from, row.valid_to))
            .order_by("valid_from", "pk").first())


def validate_no_overlap(row: Any, siblings: models.QuerySet, *,
                        message: Callable[[Any, str], str] | None = None,
                        field: str = "valid_from") -> None:
    """Refuse `row` when one of `siblings` is in force on one of its days (one query).

    `siblings` are the rows that compete for the same days (one person's memberships, one
    territory's owners in a role). The error, on `field`, names the other row's dates:
    `message(other, span)` words it for the model, `span` being span_text of the other row.
    """
    other = first_overlap(row, siblings)
    if other is None:
        return
    span = span_text(other.valid_from, other.valid_to)
    if message is None:
        text = (f"{other} is in force {span}, which overlaps these dates; end it first or "
                "choose dates that do not overlap.")
    else:
        text = message(other, span)
    raise ValidationError({field: text})
