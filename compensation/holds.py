"""What is held back from pay: reads for the statement, the hold pages and the payroll export.

A hold on a line matches, in every later run, the payee's lines of that month with the same
component, deal and type (runs replace lines, so a line id does not survive a recalculation).
A hold without a line holds everything of the payee's month.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet

from compensation.models import Hold, LineItem
from compensation.selectors import months_of
from spm.org.models import Period

ZERO = Decimal("0.00")


def _key(item: LineItem | Hold) -> tuple:
    return (item.period_id, item.component_id, item.deal_id, item.line_type)


def active_holds(*, period: Period, payee_ids: Iterable[int] | None = None) -> QuerySet[Hold]:
    """Holds not yet released in the months of `period`."""
    holds = Hold.objects.filter(period__in=months_of(period), released_at__isnull=True)
    if payee_ids is not None:
        holds = holds.filter(payee_id__in=list(payee_ids))
    return holds.select_related("period", "component", "deal", "created_by")


def held_line_ids(lines: Iterable[LineItem], holds: Iterable[Hold]) -> dict[int, Hold]:
    """Each held line's id with the hold that holds it (a whole-month hold first)."""
    whole: dict[tuple[int, int], Hold] = {}
    by_key: dict[tuple[int, tuple], Hold] = {}
    for hold in holds:
        if hold.line_type:
            by_key.setdefault((hold.payee_id, _key(hold)), hold)
        else:
            whole.setdefault((hold.payee_id, hold.period_id), hold)
    held: dict[int, Hold] = {}
    for line in lines:
        found = whole.get((line.payee_id, line.period_id)) or by_key.get((line.payee_id,
                                                                          _key(line)))
        if found is not None:
            held[line.pk] = found
    return held


def held_amounts(period: Period) -> dict[int, Decimal]:
    """Per payee, the amount held back in `period` (its months), for payroll to leave out of
    what it pays. Payees with nothing held are absent."""
    holds = list(active_holds(period=period))
    if not holds:
        return {}
    payees = {h.payee_id for h in holds}
    lines = (LineItem.objects.filter(period__in=months_of(period), payee_id__in=payees)
             .only("pk", "payee_id", "period_id", "component_id", "deal_id", "line_type",
                   "amount"))
    lines = list(lines)
    held = held_line_ids(lines, holds)
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        if line.pk in held:
            totals[line.payee_id] += line.amount
    return dict(totals)


@dataclass
class StatementHolds:
    holds: list[Hold]
    held_lines: dict[int, Hold]
    held_total: Decimal
    payable: Decimal


def statement_holds(*, lines: list[LineItem], period: Period, payee_id: int,
                    total: Decimal) -> StatementHolds:
    """The holds on one statement: which lines they hold, how much, and what stays payable."""
    holds = list(active_holds(period=period, payee_ids=[payee_id]))
    held = held_line_ids(lines, holds) if holds else {}
    held_total = sum((line.amount for line in lines if line.pk in held), ZERO)
    return StatementHolds(holds=holds, held_lines=held, held_total=held_total,
                          payable=total - held_total)
