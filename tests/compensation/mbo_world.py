"""A small world for MBO score tests: FY2026 periods (January fiscal year), one published plan
paying a commission and a quarterly MBO, a manager leading Ann, and Zed, who is in no team of
the manager's. All three are on the plan for the whole year with a 60,000.00 target."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from compensation.models import Component, PlanVersion
from compensation.plan_documents import load_plan
from compensation.services.assignments import assignment_create
from compensation.services.plans import plan_version_import, plan_version_publish
from spm.org.models import Period, Person, TeamMembership
from spm.org.services import periods_generate, team_create
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Role

MBO_PLAN = """
plan: AE
version: 1
components:
  - code: commission
    kind: rate_table
    method: graduated
    basis: amount
    tiers:
      - {from: 0, rate: 8%}
  - code: objectives
    name: Quarterly objectives
    kind: mbo
    period: quarter
    weight: 20%
    max_score: 120%
"""


@dataclass
class MboWorld:
    periods: dict[str, Period]  # "2026-01".."2026-12", "Q1".."Q4", "FY2026"
    version: PlanVersion
    commission: Component
    objectives: Component
    boss: Person
    ann: Person
    zed: Person

    def __getitem__(self, key: str) -> Period:
        return self.periods[key]


def build_mbo_world(tenant, make_member) -> MboWorld:
    users = {name: make_member(tenant, role, username=name)
             for name, role in (("boss", Role.MANAGER), ("ann", Role.REP), ("zed", Role.REP))}
    with tenant_context(tenant):
        people = {name: Person.objects.get(user=user) for name, user in users.items()}
        team = team_create(name="West", manager=people["boss"])
        TeamMembership.objects.create(person=people["ann"], team=team,
                                      valid_from=datetime.date(2025, 1, 1))
        periods = {}
        for period in periods_generate(fiscal_years=[2026]):
            key = {"month": f"{period.start_date:%Y-%m}", "quarter": f"Q{period.number}",
                   "year": f"FY{period.fiscal_year}"}[period.kind]
            periods[key] = period
        version = plan_version_publish(version=plan_version_import(
            document=load_plan(MBO_PLAN), valid_from=datetime.date(2026, 1, 1)))
        for person in people.values():
            assignment_create(person=person, plan=version.plan,
                              valid_from=datetime.date(2026, 1, 1),
                              target_incentive=Decimal("60000.00"))
        components = {c.code: c for c in Component.objects.all()}
    return MboWorld(periods=periods, version=version, commission=components["commission"],
                    objectives=components["objectives"], **people)
