"""A calculated January for the operations tests: a manager (boss) leading two reps (ann, bob),
two finance members (fin, fin2), reason codes, all in tenant A."""

from __future__ import annotations

import datetime
from decimal import Decimal
from types import SimpleNamespace

from django.contrib.auth import get_user_model

from compensation.models import AdjustmentReason, RunStatus
from compensation.services.runs import calculation_run
from spm.org.models import Person, TeamMembership
from spm.org.services import team_create
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Role

from .runs_world import build_world, credit_deal


def build_ops_world(tenant, make_member) -> SimpleNamespace:
    boss_user = make_member(tenant, Role.MANAGER, username="boss")
    ann_user = make_member(tenant, Role.REP, username="ann")
    bob_user = make_member(tenant, Role.REP, username="bob")
    fin = make_member(tenant, Role.FINANCE, username="fin", person=False)
    fin2 = make_member(tenant, Role.FINANCE, username="fin2", person=False)
    with tenant_context(tenant):
        boss = Person.objects.get(user=boss_user)
        ann = Person.objects.get(user=ann_user)
        bob = Person.objects.get(user=bob_user)
        team = team_create(name="West", manager=boss)
        for person in (ann, bob):
            TeamMembership.objects.create(person=person, team=team,
                                          valid_from=datetime.date(2025, 1, 1))
        world = build_world(people=[ann, bob])
        credit_deal(world, ann, "60000.00", datetime.date(2026, 1, 10))
        credit_deal(world, ann, "20000.00", datetime.date(2026, 1, 20))
        credit_deal(world, bob, "30000.00", datetime.date(2026, 1, 3))
        run = calculation_run(tenant=tenant, period=world.month("2026-01"), actor=None)
        assert run.status == RunStatus.SUCCEEDED, run.error
        spiff = AdjustmentReason.objects.create(code="spiff", label="SPIFF")
        correction = AdjustmentReason.objects.create(code="correction", label="Correction")
    return SimpleNamespace(world=world, tenant=tenant, boss=boss, ann=ann, bob=bob,
                           ann_user=ann_user, bob_user=bob_user, boss_user=boss_user, fin=fin,
                           fin2=fin2, spiff=spiff, correction=correction,
                           jan=world.month("2026-01"), feb=world.month("2026-02"),
                           mar=world.month("2026-03"))


def login(client, username: str) -> None:
    client.force_login(get_user_model().objects.get(username=username))


def recalculate(ops: SimpleNamespace, month=None) -> None:
    with tenant_context(ops.tenant):
        run = calculation_run(tenant=ops.tenant, period=month or ops.jan, actor=None)
        assert run.status == RunStatus.SUCCEEDED, run.error


ZERO = Decimal("0.00")
