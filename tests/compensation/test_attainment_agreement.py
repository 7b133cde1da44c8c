"""The statements and the quota pages show the same numbers: a calculation run reads each
month's quota by the attainment selector's rule, and a manager's credits follow the team a
seller was in on each booking's date whether or not crediting has run."""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest

from compensation.models import PayeePeriodResult, RunStatus
from compensation.services import credits_build
from compensation.services.runs import calculation_run
from quotas.models import Quota
from quotas.selectors import attainment_by_person, attainment_by_team
from quotas.services import quota_change
from spm.org.models import Period
from spm.org.services import person_assign_team
from spm.tenancy.context import tenant_context
from tests.factories import PersonFactory, QuotaFactory, QuotaPlanFactory, TeamFactory

from .runs_world import build_world, credit_deal
from .samples import won_deal
from .test_crediting import Org

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = datetime.datetime(2026, 6, 15, 12, tzinfo=datetime.UTC)
ZERO = Decimal("0")


def _row(person, period: Period, as_of: datetime.date):
    rows = attainment_by_person(period=period, as_of=as_of, person_ids={person.pk})
    return rows[0]


def test_statements_show_the_quota_and_attainment_the_quota_pages_show(tenant_a, time_machine):
    time_machine.move_to(TODAY)
    with tenant_context(tenant_a):
        world = build_world(reps=2)
        ann, bob = world.reps
        for person, amount, day in ((ann, "60000.00", D(2026, 1, 10)),
                                    (ann, "90000.00", D(2026, 2, 20)),
                                    (ann, "70000.00", D(2026, 3, 5)),
                                    (bob, "30000.00", D(2026, 2, 3)),
                                    (bob, "45000.00", D(2026, 3, 25))):
            credit_deal(world, person, amount, day)
        plan = Quota.objects.filter(person=ann).first().plan
        # Ann is promoted from 15 February: January keeps its quota, February on is rephased.
        quota_change(plan=plan, person=ann, annual_amount=Decimal("1800000.00"),
                     effective=D(2026, 2, 15), reason="Promotion")
        march = world.month("2026-03")
        ann_march = Quota.objects.get(person=ann, period=march, valid_to=None).amount
        # A second change after March has closed must not rewrite March.
        quota_change(plan=plan, person=ann, annual_amount=Decimal("2400000.00"),
                     effective=D(2026, 4, 10), reason="Territory grew")
        # Bob's March quota is set only in April: it still counts.
        Quota.objects.filter(person=bob, period=march).delete()
        Quota.objects.create(plan=plan, person=bob, period=march, amount=Decimal("50000.00"),
                             valid_from=D(2026, 4, 7), reason="Set late")

        run = calculation_run(tenant=tenant_a, period=world.quarter, actor=None)
        assert run.status == RunStatus.SUCCEEDED, run.error
        results = {(r.payee_id, r.period_id): r
                   for r in PayeePeriodResult.objects.filter(run=run)}
        months = [world.month(k) for k in ("2026-01", "2026-02", "2026-03")]
        rows = {(p.pk, m.pk): _row(p, m, TODAY.date()) for p in (ann, bob) for m in months}
        quarter = {p.pk: _row(p, world.quarter, TODAY.date()) for p in (ann, bob)}

    assert rows[ann.pk, months[0].pk].quota == Decimal("100000.00")
    assert rows[ann.pk, months[1].pk].quota not in (Decimal("100000.00"), ZERO)
    assert rows[ann.pk, months[2].pk].quota == ann_march
    assert rows[bob.pk, months[2].pk].quota == Decimal("50000.00")
    for key, row in rows.items():
        result = results[key]
        assert result.quota == row.quota, key
        assert result.credited == row.credited, key
        assert result.attainment == (row.credited / row.quota).quantize(
            Decimal("0.000001"), rounding=ROUND_HALF_UP), key
    for person in (ann, bob):
        assert quarter[person.pk].quota == sum(
            (results[person.pk, m.pk].quota for m in months), ZERO)


MARCH_31 = D(2026, 3, 31)


def test_a_manager_sees_the_same_credits_before_and_after_crediting(tenant_a):
    with tenant_context(tenant_a):
        org = Org()  # Vera over East (Max) with Ann and Bob since 2025
        wes = PersonFactory(name="Wes West", role="manager")
        west = TeamFactory(name="West", parent=org.sales, manager=wes)
        person_assign_team(person=wes, team=west, valid_from=D(2025, 1, 1))
        person_assign_team(person=org.bob, team=west, valid_from=D(2026, 3, 15))
        won_deal(owner=org.bob, amount=Decimal("1000.00"), units=1, close_date=D(2026, 3, 10))
        won_deal(owner=org.bob, amount=Decimal("2000.00"), units=1, close_date=D(2026, 3, 20))
        won_deal(owner=org.ann, amount=Decimal("500.00"), units=1, close_date=D(2026, 3, 12))
        march = Period.objects.get(kind="month", start_date=D(2026, 3, 1))
        plan = QuotaPlanFactory(fiscal_year=2026)
        for person in (org.vp, org.manager, wes, org.ann, org.bob):
            QuotaFactory(plan=plan, person=person, period=march, valid_from=D(2026, 1, 1))

        def numbers():
            rows = attainment_by_person(period=march, as_of=MARCH_31)
            teams = attainment_by_team(rows=rows, teams=[org.east, west], period=march,
                                       on=MARCH_31)
            return ({r.name: r.credited for r in rows},
                    {t.team.name: (t.credited, t.quota) for t in teams})

        before = numbers()
        credits_build(period=march)
        after = numbers()

    people, teams = before
    assert people["Max Manager"] == Decimal("1500.00")  # Ann, and Bob's deal while in East
    assert people["Wes West"] == Decimal("2000.00")  # Bob's deal after he moved
    assert people["Vera VP"] == Decimal("3500.00")
    assert teams["East"][0] == Decimal("1500.00")
    assert teams["West"][0] == Decimal("2000.00")
    # Bob's 10,000.00 March quota by his days: 14 in East (4,516.129...), 17 in West
    # (5,483.870...); the cent left over goes to the larger remainder, East's.
    assert teams["West"][1] == Decimal("5483.87")
    assert teams["East"][1] == Decimal("10000.00") + Decimal("4516.13")  # Ann's and Bob's part
    assert after == before
