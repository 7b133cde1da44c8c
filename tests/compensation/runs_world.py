"""A small compensation world for run, task and statement tests: FY2026 periods, one published
AE plan (graduated 8% / 12% / 15% with a period cap), reps on it, won deals and their credits.

Built through the plan and assignment services; credits are written directly, as the crediting
build would write them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from compensation.models import Credit, CreditBuild, PlanVersion
from compensation.plan_documents import load_plan
from compensation.services.assignments import assignment_create
from compensation.services.plans import plan_version_import, plan_version_publish
from spm.org.models import Period, Person
from spm.org.services import periods_generate
from tests.factories import DealFactory, PersonFactory, QuotaFactory, QuotaPlanFactory, StageFactory

AE_PLAN = """
plan: AE
version: 1
name: Account executives
components:
  - code: commission
    name: Commission
    kind: rate_table
    method: graduated
    tiers:
      - {from: 0%, to: 100%, rate: 8%}
      - {from: 100%, to: 150%, rate: 12%}
      - {from: 150%, rate: 15%}
    caps:
      - {per: period, amount: 20000.00}
"""


@dataclass
class World:
    version: PlanVersion
    months: dict[str, Period]
    quarter: Period
    reps: list[Person]
    deals: list = field(default_factory=list)
    credits: list[Credit] = field(default_factory=list)

    def month(self, key: str) -> Period:
        return self.months[key]


def build_world(*, reps: int = 2, people: list[Person] | None = None) -> World:
    """Call inside tenant_context. Reps get quota 100,000.00 a month in Jan-Mar 2026."""
    periods = periods_generate(fiscal_years=[2026])
    months = {f"{p.start_date:%Y-%m}": p for p in periods if p.kind == "month"}
    quarter = next(p for p in periods if p.kind == "quarter" and p.number == 1)
    version = plan_version_import(document=load_plan(AE_PLAN),
                                  valid_from=datetime.date(2026, 1, 1))
    version = plan_version_publish(version=version)
    team = people if people is not None else [PersonFactory() for _ in range(reps)]
    quota_plan = QuotaPlanFactory(fiscal_year=2026)
    for person in team:
        assignment_create(person=person, plan=version.plan, valid_from=datetime.date(2026, 1, 1),
                          target_incentive=Decimal("60000.00"))
        for key in ("2026-01", "2026-02", "2026-03"):
            QuotaFactory(plan=quota_plan, person=person, period=months[key],
                         amount=Decimal("100000.00"))
    return World(version=version, months=months, quarter=quarter, reps=team)


def credit_deal(world: World, person: Person, amount: str, day: datetime.date,
                *, product_line: str = "platform") -> Credit:
    """A won deal owned by `person`, credited to them in full on its close date."""
    stage = StageFactory(name="Closed Won", is_won=True, order=90,
                         default_probability=Decimal("100"), forecast_category="closed")
    deal = DealFactory(owner=person, stage=stage, amount=Decimal(amount), close_date=day,
                       product_line=product_line)
    month = world.months[f"{day:%Y-%m}"]
    build = CreditBuild.objects.filter(period=month).first() or CreditBuild.objects.create(
        period=month, built_at=datetime.datetime(2026, 4, 1, tzinfo=datetime.UTC))
    credit = Credit.objects.create(
        build=build, period=month, payee=person, deal=deal, role="owner",
        amount=Decimal(amount), credit_date=day, currency="USD", rule_ref="deal owner")
    world.deals.append(deal)
    world.credits.append(credit)
    return credit
