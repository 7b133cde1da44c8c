"""Reads over CRM facts for pages and APIs: role-aware deal lists, bookings and pipeline."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from spm.org.selectors import visible_person_ids
from spm.tenancy.models import Membership

from .models import Account, Activity, Deal, DealStageHistory, DealStatus, Stage

ZERO = Value(Decimal("0.00"), output_field=DecimalField(max_digits=14, decimal_places=2))


def stages_in_order() -> QuerySet[Stage]:
    return Stage.objects.order_by("order", "name")


def deals_visible_to(*, membership: Membership, on: datetime.date) -> QuerySet[Deal]:
    """Deals a member may see: all for admin and finance, a manager's subtree, a rep's own."""
    deals = Deal.objects.select_related("account", "owner", "stage")
    ids = visible_person_ids(membership=membership, on=on)
    return deals if ids is None else deals.filter(owner_id__in=ids)


def deal_with_history(*, deal_id: int) -> Deal:
    """One deal with its stage history in change order (three queries, however long)."""
    history = DealStageHistory.objects.select_related("from_stage", "to_stage", "changed_by")
    return (
        Deal.objects.select_related("account", "owner", "stage")
        .prefetch_related(Prefetch("stage_history", queryset=history.order_by("changed_at", "pk")))
        .get(pk=deal_id)
    )


def deal_visible_to(*, membership: Membership, deal_id: int, on: datetime.date) -> Deal | None:
    """One deal with its history when the member may see it, else None: missing and not-yours
    look the same."""
    ids = visible_person_ids(membership=membership, on=on)
    try:
        deal = deal_with_history(deal_id=deal_id)
    except Deal.DoesNotExist:
        return None
    return deal if ids is None or deal.owner_id in ids else None


def deal_recent_activities(*, deal: Deal, limit: int) -> tuple[list[Activity], int]:
    """The deal's newest `limit` activities and how many it has in all."""
    activities = deal.activities.select_related("person").order_by("-at")
    return list(activities[:limit]), activities.count()


def bookings_by_owner(
    *, start: datetime.date, end: datetime.date
) -> dict[int, Decimal]:
    """Won amount per owner with close dates from `start` (inclusive) to `end` (exclusive)."""
    rows = (
        Deal.objects.filter(status=DealStatus.WON, close_date__gte=start, close_date__lt=end)
        .values("owner_id")
        .annotate(total=Coalesce(Sum("amount"), ZERO))
        .order_by()
    )
    return {row["owner_id"]: row["total"] for row in rows}


def pipeline_by_stage(
    *, close_from: datetime.date, close_to: datetime.date
) -> list[dict]:
    """Open deals per stage expected to close from `close_from` to `close_to` (exclusive)."""
    rows = (
        Deal.objects.filter(
            status=DealStatus.OPEN, close_date__gte=close_from, close_date__lt=close_to
        )
        .values("stage_id", "stage__name", "stage__order")
        .annotate(deals=Count("pk"), amount=Coalesce(Sum("amount"), ZERO))
        .order_by("stage__order")
    )
    return list(rows)


# -- pages: account and deal lists, totals, a deal's stage history ------------------------------


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    amount: Decimal
    deals: int


def deal_amount_totals(*, deals: QuerySet[Deal], currency: str) -> list[CurrencyTotal]:
    """Amount and count of `deals` per currency, `currency` (the tenant's) first (one query).

    Amounts in different currencies are never added together: there is no exchange rate here.
    """
    rows = (
        deals.order_by()
        .values("currency")
        .annotate(amount=Coalesce(Sum("amount"), ZERO), deals=Count("pk"))
        .values_list("currency", "amount", "deals")
    )
    totals = [CurrencyTotal(code, amount, count) for code, amount, count in rows]
    totals.sort(key=lambda total: (total.currency != currency, total.currency))
    return totals


def accounts_visible_to(*, membership: Membership, on: datetime.date) -> QuerySet[Account]:
    """Accounts a member may see, with how many of their visible deals each has.

    Admin and finance see every account; a manager or rep only accounts with a deal owned by
    someone they may see, and the counts include only those deals.
    """
    ids = visible_person_ids(membership=membership, on=on)
    deals = Deal.objects.filter(account=OuterRef("pk"))
    if ids is not None:
        deals = deals.filter(owner_id__in=ids)

    def count_of(subset: QuerySet[Deal]) -> Coalesce:
        counted = subset.order_by().values("account").annotate(n=Count("pk")).values("n")
        return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))

    accounts = Account.objects.annotate(
        deal_count=count_of(deals), open_deal_count=count_of(deals.filter(status=DealStatus.OPEN))
    )
    return accounts if ids is None else accounts.filter(Exists(deals))


def account_visible_to(*, membership: Membership, account_id: int, on: datetime.date
                       ) -> Account | None:
    return (accounts_visible_to(membership=membership, on=on).select_related("owner")
            .filter(pk=account_id).first())


def account_deals_visible_to(*, membership: Membership, account: Account, on: datetime.date
                             ) -> QuerySet[Deal]:
    return deals_visible_to(membership=membership, on=on).filter(account=account)


def deal_product_lines(*, deals: QuerySet[Deal]) -> list[str]:
    """The product lines that occur in `deals` (pass the member's visible deals: a rep's few
    hundred are read in a blink, where every deal of a large tenant takes a full scan)."""
    return list(
        deals.exclude(product_line="")
        .order_by("product_line")
        .values_list("product_line", flat=True)
        .distinct()
    )


def account_industries() -> list[str]:
    return list(
        Account.objects.exclude(industry="")
        .order_by("industry")
        .values_list("industry", flat=True)
        .distinct()
    )


def account_countries() -> list[str]:
    return list(
        Account.objects.exclude(country="")
        .order_by("country")
        .values_list("country", flat=True)
        .distinct()
    )


@dataclass(frozen=True)
class StageStep:
    """One stay of a deal in a stage: how it got there, when, who moved it, and for how long."""

    from_stage: Stage | None
    to_stage: Stage
    changed_at: datetime.datetime
    changed_by: Any
    days_in_stage: int | None
    is_current: bool


def deal_stage_steps(*, deal: Deal, now: datetime.datetime) -> list[StageStep]:
    """The deal's stage history with days spent in each stage, oldest first.

    Uses the history `deal_with_history` prefetched, so it costs no query. A stage lasts until the
    next change; an open deal's current stage counts up to `now`, and a closed deal's final stage
    has no duration (the deal stays there).
    """
    history = list(deal.stage_history.all())
    steps: list[StageStep] = []
    for index, row in enumerate(history):
        is_last = index == len(history) - 1
        if not is_last:
            ended: datetime.datetime | None = history[index + 1].changed_at
        else:
            ended = now if deal.status == DealStatus.OPEN else None
        days = max((ended - row.changed_at).days, 0) if ended is not None else None
        steps.append(
            StageStep(
                from_stage=row.from_stage,
                to_stage=row.to_stage,
                changed_at=row.changed_at,
                changed_by=row.changed_by,
                days_in_stage=days,
                is_current=is_last and deal.status == DealStatus.OPEN,
            )
        )
    return steps
