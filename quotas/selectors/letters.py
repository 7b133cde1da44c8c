"""Quota letters: a person's quota in a plan by month and quarter, and its acknowledgement."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from planning.selectors import fiscal_year_bounds
from spm.org.models import Period, Person

from ..models import Quota, QuotaAcknowledgement, QuotaPlan
from .common import ZERO


@dataclass(frozen=True)
class QuotaLetter:
    plan: QuotaPlan
    person: Person
    annual: Decimal
    months: list[tuple[Period, Decimal]]
    quarters: list[tuple[str, Decimal]]
    acknowledgement: QuotaAcknowledgement | None

    @property
    def acknowledged(self) -> bool:
        """Acknowledged as it stands now (an earlier acknowledgement of another amount is not)."""
        ack = self.acknowledgement
        return ack is not None and ack.annual_amount == self.annual


def quota_letter(*, plan: QuotaPlan, person: Person, on: datetime.date) -> QuotaLetter | None:
    """The person's quota in the plan as in force on `on`, by month and quarter (three queries).

    None when the person has no quota in the plan.
    """
    year_start, year_end = fiscal_year_bounds(plan.fiscal_year)
    known_on = min(max(on, year_start), year_end - datetime.timedelta(days=1))
    rows = list(
        Quota.objects.valid_on(known_on).filter(plan=plan, person=person)
        .select_related("period").order_by("period__start_date")
    )
    if not rows:
        return None
    quarters: dict[int, Decimal] = {}
    for row in rows:
        quarter = (row.period.number - 1) // 3 + 1
        quarters[quarter] = quarters.get(quarter, ZERO) + row.amount
    ack = (
        QuotaAcknowledgement.objects.filter(plan=plan, person=person)
        .order_by("-acknowledged_at").first()
    )
    return QuotaLetter(
        plan=plan, person=person,
        annual=sum((r.amount for r in rows), ZERO),
        months=[(r.period, r.amount) for r in rows],
        quarters=[(f"Q{q}", amount) for q, amount in sorted(quarters.items())],
        acknowledgement=ack,
    )


def published_plans_of(*, person: Person) -> list[QuotaPlan]:
    """Published plans in which the person has a quota, latest year first."""
    return list(
        QuotaPlan.objects.filter(status="published", quotas__person=person)
        .distinct().order_by("-fiscal_year")
    )
