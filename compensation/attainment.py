"""Credited bookings for the attainment selector, read from the crediting engine's Credit rows.

Installed by CompensationConfig.ready() through quotas.credits.set_credit_source, so the quota
pages show the same credited amounts (splits, overlays, roll-ups, reversals) as the statements.
A tenant that has never run crediting keeps the won-deals source.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal

from quotas.credits import CreditSource, Window, WonDealCredits, span, sum_by_window

from .models import Credit, CreditBuild


class CreditTableCredits:
    """Sum of Credit.amount (tenant currency, reversals negative) per payee and window."""

    # Crediting writes managers' roll-up credits itself; rolling up again would double count.
    rolls_up_to_managers = False

    def credited(
        self, *, windows: Mapping[str, Window], person_ids: Collection[int] | None
    ) -> dict[int, dict[str, Decimal]]:
        if not windows:
            return {}
        first, last = span(windows)
        credits = Credit.objects.filter(credit_date__gte=first, credit_date__lt=last)
        if person_ids is not None:
            credits = credits.filter(payee_id__in=list(person_ids))
        return sum_by_window(credits, person="payee_id", day="credit_date", amount="amount",
                             windows=windows)


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
