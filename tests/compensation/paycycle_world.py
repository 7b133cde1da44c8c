"""A calculated March 2026 for two reps, and two finance people to review and approve it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from compensation.models import RecomputeRequest
from compensation.services.recompute import recompute_open_months
from spm.org.models import Period
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Role

from .runs_world import World, build_world, credit_deal

TODAY = datetime.datetime(2026, 3, 20, 12, tzinfo=datetime.UTC)


@dataclass
class PayWorld:
    comp: World
    march: Period
    finance: object
    finance2: object


def build_pay_world(tenant, make_member, time_machine) -> PayWorld:
    time_machine.move_to(TODAY)
    finance = make_member(tenant, Role.FINANCE, username="fiona", person=False)
    finance2 = make_member(tenant, Role.FINANCE, username="frank", person=False)
    with tenant_context(tenant):
        comp = build_world(reps=2)
        credit_deal(comp, comp.reps[0], "50000.00", datetime.date(2026, 3, 5))
        credit_deal(comp, comp.reps[1], "120000.00", datetime.date(2026, 3, 9))
        RecomputeRequest.objects.all().delete()
        recompute_open_months()
    return PayWorld(comp=comp, march=comp.month("2026-03"), finance=finance, finance2=finance2)
