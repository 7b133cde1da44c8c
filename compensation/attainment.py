"""Credited bookings for the attainment selector, read from the crediting engine's Credit rows.

Installed by CompensationConfig.ready() through quotas.credits.set_credit_source, so the quota
pages show the same credited amounts (splits, overlays, roll-ups, reversals) as the statements.
A tenant that has never run crediting keeps the won-deals source.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal

from django.db.models import DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce

from quotas.credits import CreditSource, Window, WonDealCredits

from .models import Credit, CreditBuild

ZERO = Decimal("0")


class CreditTableCredits:
    """Sum of Credit.amount (tenant currency, reversals negative) per payee and window."""

    # Crediting writes managers' roll-up credits itself; rolling up again would double count.
    rolls_up_to_managers = False

    def credited(
        self, *, windows: Mapping[str, Window], person_ids: Collection[int] | None
    ) -> dict[int, dict[str, Decimal]]:
        if not windows:
            return {}
        first = min(start for start, _ in windows.values())
        last = max(end for _, end in windows.values())
        credits = Credit.objects.filter(credit_date__gte=first, credit_date__lt=last)
        if person_ids is not None:
            credits = credits.filter(payee_id__in=list(person_ids))
        money = DecimalField(max_digits=18, decimal_places=2)
        rows = credits.order_by().values("payee_id").annotate(**{
            name: Coalesce(
                Sum("amount", filter=Q(credit_date__gte=start, credit_date__lt=end)),
                Value(ZERO), output_field=money,
            )
            for name, (start, end) in windows.items()
        })
        return {row["payee_id"]: {name: row[name] for name in windows} for row in rows}


class CompensationCredits:
    """Chooses per tenant: the Credit table once crediting has run, else won deals."""

    rolls_up_to_managers = True  # only read through resolve()

    def resolve(self) -> CreditSource:
        if CreditBuild.objects.exists():
            return CreditTableCredits()
        return WonDealCredits()

    def credited(
        self, *, windows: Mapping[str, Window], person_ids: Collection[int] | None
    ) -> dict[int, dict[str, Decimal]]:
        return self.resolve().credited(windows=windows, person_ids=person_ids)
