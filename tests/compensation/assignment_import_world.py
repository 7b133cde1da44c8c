"""A world for assignment import tests: FY2026 periods, the published AE plan of runs_world (from
2026-01-01), an SE plan published from 2026-07-01, a plan with only a draft, and three people."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from compensation.models import CompPlan, PlanAssignment
from compensation.plan_documents import load_plan
from compensation.services.plans import plan_create, plan_version_import, plan_version_publish
from spm.org.models import Person
from tests.factories import PersonFactory

from .runs_world import AE_PLAN, World, build_world

JAN = datetime.date(2026, 1, 1)
JUL = datetime.date(2026, 7, 1)


@dataclass
class ImportWorld:
    runs: World
    ae: CompPlan
    se: CompPlan
    ann: Person
    bob: Person
    cy: Person


def build_import_world() -> ImportWorld:
    """Call inside tenant_context."""
    runs = build_world(people=[])
    se = plan_version_publish(version=plan_version_import(
        document=load_plan(AE_PLAN.replace("plan: AE", "plan: SE")), valid_from=JUL)).plan
    plan_create(code="DRAFTY", name="Not published yet")
    return ImportWorld(
        runs=runs, ae=runs.version.plan, se=se,
        ann=PersonFactory(employee_id="E100", name="Ann Lee", email="ann@example.com"),
        bob=PersonFactory(employee_id="E200", name="Bob Ray", email="Bob.Ray@Example.com"),
        cy=PersonFactory(employee_id="e300", name="Cy Diaz", email="cy@example.com"),
    )


def held(person: Person) -> list[tuple]:
    """The person's assignments as (plan, valid_from, valid_to, target)."""
    return [(a.plan.code, a.valid_from, a.valid_to, a.target_incentive)
            for a in PlanAssignment.objects.filter(person=person).select_related("plan")
            .order_by("valid_from")]
