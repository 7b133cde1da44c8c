"""Deal splits: a deal's credit shared between people, always adding up to exactly 100%."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from compensation.models import DealSplit, DealSplitSet
from spm.crm.models import Deal
from spm.org.models import Person
from spm.tenancy.actors import acting_user
from spm.tenancy.history import record_author

HUNDRED = Decimal(100)


def split_total_error(percents: Sequence[Decimal | None]) -> str | None:
    """The message when shares do not add up to 100%, or None."""
    total = sum((p for p in percents if p is not None), Decimal(0))
    if percents and total != HUNDRED:
        return (f"The splits add up to {total.normalize():f}%, not 100%: a deal's credit is "
                "split in full, no more and no less.")
    return None


@transaction.atomic
def deal_splits_set(*, deal: Deal, splits: Sequence[tuple[Person, Decimal]], reason: str = "",
                    actor: Any = None) -> DealSplitSet | None:
    """Replace the deal's splits; an empty list removes them (the owner is credited again)."""
    history_user = acting_user(actor)
    existing = DealSplitSet.objects.select_for_update().filter(deal=deal).first()
    if not splits:
        if existing is not None:
            record_author(existing, history_user)
            existing.delete()
        return None
    people = [p.pk for p, _ in splits]
    if len(set(people)) != len(people):
        raise ValidationError("Each person appears once in a deal's splits.")
    for _, percent in splits:
        if not Decimal(0) < percent <= HUNDRED:
            raise ValidationError(f"A split is more than 0% and at most 100%, not {percent}%.")
    problem = split_total_error([p for _, p in splits])
    if problem:
        raise ValidationError(problem)
    split_set = existing or DealSplitSet(deal=deal)
    split_set.reason = reason
    record_author(split_set, history_user)
    split_set.save()
    for old in DealSplit.objects.filter(split_set=split_set):
        record_author(old, history_user)
        old.delete()
    for person, percent in splits:
        split = DealSplit(split_set=split_set, person=person, percent=percent)
        record_author(split, history_user)
        split.save()
    return split_set
