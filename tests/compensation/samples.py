"""Sample plans and a won-deal helper shared by the compensation model, version and crediting
tests."""

from __future__ import annotations

import datetime
from decimal import Decimal

from compensation.engine.plans import (
    Cap,
    Clawback,
    Component,
    CreditFilter,
    PlanVersion,
    RateTable,
    Spiff,
    Tier,
)
from tests.factories import DealFactory, StageFactory

D = Decimal

AE_COMMISSION = Component(
    code="ae-commission", name="Commission on bookings",
    formula=RateTable(tiers=(Tier(D("0"), D("1"), rate=D("0.08")),
                             Tier(D("1"), D("1.5"), rate=D("0.12")),
                             Tier(D("1.5"), None, rate=D("0.15"))),
                      basis="attainment", method="graduated"),
    period="quarter", caps=(Cap(per="year", target_multiple=D("2")),),
    clawback=Clawback(within_days=90, method="prorated"),
)
AE_NEW_LOGO = Component(
    code="ae-new-logo", name="New logo spiff", formula=Spiff(per_deal=D("500.00")),
    filter=CreditFilter(new_logo=True, deal_types=("new",)),
)
AE_PLAN = PlanVersion(plan="AE-2026", version=1, name="Account executives 2026",
                      components=(AE_COMMISSION, AE_NEW_LOGO))

BROKEN_DOCUMENT = """\
plan: AE-2026
version: 3
components:
  - code: commission
    kind: rate_table
    basis: attainment
    tiers:
      - {from: 0%, to: 100%, rate: 8%}
      - {from: 110%, rate: -2%}
  - code: new-logo
    kind: spiff
    per_deal: 500.00
    percent: 2%
"""


def won_deal(*, close_date: datetime.date = datetime.date(2026, 3, 10), **fields):
    """A won deal (closed on `close_date`); inside tenant_context."""
    stage = StageFactory(name="Closed won", is_won=True, default_probability=D("100"),
                         forecast_category="closed")
    fields.setdefault("created_date", close_date - datetime.timedelta(days=40))
    return DealFactory(stage=stage, close_date=close_date, **fields)
