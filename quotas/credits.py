"""Where "credited bookings" come from for attainment: one swappable source.

Until crediting exists, a person's credited bookings are the amounts of the won deals they own,
by close date. The compensation app will register a source that reads its Credit table
(`set_credit_source` from its AppConfig.ready); callers of the attainment selector never change.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Protocol

from django.db.models import DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from spm.crm.models import Deal, DealStatus

Window = tuple[datetime.date, datetime.date]  # start inclusive, end exclusive
ZERO = Decimal("0")


class CreditSource(Protocol):
    #: True when managers get no credits of their own from this source, so the attainment
    #: selector rolls their people's credits up to them. A crediting engine that writes
    #: manager credits itself says False.
    rolls_up_to_managers: bool

    def credited(
        self, *, windows: Mapping[str, Window], person_ids: Collection[int] | None
    ) -> dict[int, dict[str, Decimal]]:
        """Credited amount per person and named window, in one query.

        `person_ids` None means everyone. People with nothing credited may be left out.
        """


def sum_by_window(
    rows: QuerySet, *, person: str, day: str, amount: str, windows: Mapping[str, Window]
) -> dict[int, dict[str, Decimal]]:
    """One grouped query: the sum of `amount` per `person` for each named window of `day`."""
    money = DecimalField(max_digits=18, decimal_places=2)
    totals = rows.order_by().values(person).annotate(**{
        name: Coalesce(
            Sum(amount, filter=Q(**{f"{day}__gte": start, f"{day}__lt": end})),
            Value(ZERO), output_field=money,
        )
        for name, (start, end) in windows.items()
    })
    return {row[person]: {name: row[name] for name in windows} for row in totals}


def span(windows: Mapping[str, Window]) -> Window:
    return min(start for start, _ in windows.values()), max(end for _, end in windows.values())


class WonDealCredits:
    """Won deals' amount, credited in full to the deal owner on the close date."""

    rolls_up_to_managers = True

    def credited(
        self, *, windows: Mapping[str, Window], person_ids: Collection[int] | None
    ) -> dict[int, dict[str, Decimal]]:
        if not windows:
            return {}
        first, last = span(windows)
        deals = Deal.objects.filter(
            status=DealStatus.WON, close_date__gte=first, close_date__lt=last
        )
        if person_ids is not None:
            deals = deals.filter(owner_id__in=list(person_ids))
        return sum_by_window(deals, person="owner_id", day="close_date", amount="amount",
                             windows=windows)


_source: CreditSource = WonDealCredits()


def credit_source() -> CreditSource:
    """The source for the active tenant. An installed source may choose per tenant (one query):
    compensation's reads the Credit table once crediting has run, won deals before that."""
    resolve = getattr(_source, "resolve", None)
    return resolve() if callable(resolve) else _source


def set_credit_source(source: CreditSource) -> CreditSource:
    """Install `source` for every attainment read; returns the one it replaces."""
    global _source
    previous, _source = _source, source
    return previous
