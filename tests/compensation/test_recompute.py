"""The one road from a change to the statements: every change is recorded in its own
transaction, applied for the deals, payees and months it touches, and gives the lines the nightly
run of everyone gives."""

from __future__ import annotations

import contextlib
import datetime
import threading
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection

from compensation import tasks
from compensation.models import (
    CalculationRun,
    Credit,
    LineItem,
    PayeePeriodResult,
    RecomputeRequest,
    RunScope,
    RunStatus,
)
from compensation.services.recompute import (
    open_months,
    period_recompute,
    recompute_open_months,
    recompute_pending,
)
from compensation.services.splits import deal_splits_set
from compensation.statements import payee_statement
from quotas.selectors import attainment_by_person
from spm.crm.imports.service import import_apply, import_preview
from spm.crm.models import Deal
from spm.crm.services import deals_upsert
from spm.org.models import Team
from spm.org.services import person_assign_team, team_create
from spm.tenancy.context import tenant_context
from tests.factories import AccountFactory, PersonFactory, StageFactory

from .runs_world import build_world

pytestmark = pytest.mark.django_db
TODAY = datetime.datetime(2026, 3, 20, 12, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def sent(monkeypatch) -> list[int]:
    """The tenants a recompute task was sent for (none really is: tests apply it themselves)."""
    cache.clear()
    sent: list[int] = []
    monkeypatch.setattr(tasks.recompute_pending, "apply_async",
                        lambda kwargs, countdown=None: sent.append(kwargs["tenant_id"]))
    return sent


@pytest.fixture(autouse=True)
def _changes_commit(request, django_capture_on_commit_callbacks):
    """What a change sends on commit is run at once (tests live inside one transaction)."""
    request.node.commit = lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def world(tenant_a, time_machine, request):
    time_machine.move_to(TODAY)
    with tenant_context(tenant_a):
        world = build_world(reps=2)
        world.won = StageFactory(name="Closed Won", is_won=True, order=90,
                                 default_probability=Decimal("100"), forecast_category="closed")
        world.open = StageFactory(name="Proposal", order=40, default_probability=Decimal("50"))
        world.account = AccountFactory(name="Initech")
        world.manager = PersonFactory(name="Maria Manager", role="manager")
        team = team_create(name="West", manager=world.manager)
        for rep in world.reps:
            person_assign_team(person=rep, team=team, valid_from=datetime.date(2025, 1, 1))
        RecomputeRequest.objects.all().delete()  # the world is calculated below, whole
        recompute_open_months()
    world.commit = request.node.commit
    return world


def upsert(world, external_id: str, owner, amount: str, close: datetime.date, *, won=True):
    """A deal pushed as the API and imports push them; what it sends on commit is run."""
    with world.commit():
        return deals_upsert(rows=[{
            "external_id": external_id, "name": external_id, "account_id": world.account.pk,
            "owner_id": owner.pk, "stage_id": (world.won if won else world.open).pk,
            "amount": amount, "close_date": close.isoformat(), "created_date": "2026-01-02"}])


def lines_snapshot() -> list[tuple]:
    """Every line and result as a statement shows it: no row ids, runs or credit ids."""
    lines = sorted(LineItem.objects.values_list(
        "payee_id", "period_id", "window", "component_id", "kind", "deal_id", "basis",
        "amount", "explanation_text"), key=repr)
    results = sorted(PayeePeriodResult.objects.values_list(
        "payee_id", "period_id", "credited", "quota", "attainment", "earnings", "total",
        "line_count"), key=repr)
    credits = sorted(Credit.objects.values_list(
        "payee_id", "deal_id", "period_id", "kind", "role", "amount", "credit_date"), key=repr)
    return [lines, results, credits]


def apply_pending(tenant):
    with tenant_context(tenant):
        return recompute_pending()


def test_a_deal_won_after_the_first_build_counts_in_attainment_and_on_the_statement(
        tenant_a, world, django_capture_on_commit_callbacks):
    rep = world.reps[0]
    march = world.month("2026-03")
    with tenant_context(tenant_a):
        upsert(world, "OPP-1", rep, "40000.00", datetime.date(2026, 3, 10))
    with tenant_context(tenant_a):
        assert RecomputeRequest.objects.count() == 1
    outcome = apply_pending(tenant_a)
    with tenant_context(tenant_a):
        statement = payee_statement(person=rep, period=march)
        mine = {a.person_id: a for a in attainment_by_person(period=march)}
        deal = Deal.objects.get(external_id="OPP-1")
        assert RecomputeRequest.objects.count() == 0
    assert [r.scope for r in outcome.runs] == [RunScope.PAYEES]
    assert [line.deal_id for line in statement.lines] == [deal.pk]
    assert statement.lines[0].amount == Decimal("3200.00")  # 8% of 40,000
    assert mine[rep.pk].credited == Decimal("40000.00")
    assert mine[world.manager.pk].credited == Decimal("40000.00")  # the manager's roll-up


def test_only_the_payees_the_change_touches_are_recalculated(tenant_a, world):
    one, other = world.reps
    with tenant_context(tenant_a):
        upsert(world, "OPP-1", other, "10000.00", datetime.date(2026, 3, 3))
        recompute_pending()
        untouched = set(LineItem.objects.filter(payee=other).values_list("run_id", flat=True))
        upsert(world, "OPP-2", one, "20000.00", datetime.date(2026, 3, 4))
        outcome = recompute_pending()
        after = set(LineItem.objects.filter(payee=other).values_list("run_id", flat=True))
        payees = outcome.runs[0].inputs["payee_ids"]
    assert after == untouched
    assert set(payees) == {one.pk, world.manager.pk}


def test_incremental_recomputes_give_the_lines_of_the_nightly_run_of_everyone(tenant_a, world):
    one, other = world.reps
    with tenant_context(tenant_a):
        upsert(world, "OPP-1", one, "70000.00", datetime.date(2026, 1, 15))
        upsert(world, "OPP-2", other, "130000.00", datetime.date(2026, 2, 11))
        upsert(world, "OPP-3", one, "50000.00", datetime.date(2026, 3, 2))
        recompute_pending()
        # Moved back a month, re-owned, grown, split and lost: each applied on its own.
        upsert(world, "OPP-3", one, "55000.00", datetime.date(2026, 2, 27))
        recompute_pending()
        upsert(world, "OPP-1", other, "70000.00", datetime.date(2026, 1, 15))
        recompute_pending()
        deal_splits_set(deal=Deal.objects.get(external_id="OPP-2"),
                        splits=[(one, Decimal("40")), (other, Decimal("60"))])
        recompute_pending()
        upsert(world, "OPP-3", one, "55000.00", datetime.date(2026, 2, 27), won=False)
        recompute_pending()
        assert RecomputeRequest.objects.count() == 0
        incremental = lines_snapshot()
        recompute_open_months()
        nightly = lines_snapshot()
    assert incremental == nightly
    assert len(incremental[0]) == 3  # OPP-1 moved to January, OPP-2 split in two


def test_a_preview_records_nothing_and_an_apply_right_after_still_recomputes(
        tenant_a, world, django_capture_on_commit_callbacks, sent):
    rep = world.reps[0]
    content = (
        "Opportunity ID,Opportunity Name,Account ID,Amount,Close Date,Stage,Opportunity Owner\n"
        f"006A,Big one,{world.account.external_id},25000,2026-03-05,Closed Won,{rep.email}\n"
    ).encode()
    with django_capture_on_commit_callbacks(execute=True), tenant_context(tenant_a):
        batch = import_preview(kind="deals", content=content, file_name="opps.csv")
    with tenant_context(tenant_a):
        assert RecomputeRequest.objects.count() == 0
    assert sent == []
    with django_capture_on_commit_callbacks(execute=True), tenant_context(tenant_a):
        import_apply(batch=batch)
    assert sent == [tenant_a.pk]
    outcome = apply_pending(tenant_a)
    with tenant_context(tenant_a):
        lines = list(LineItem.objects.filter(deal__external_id="006A", payee=rep))
    assert outcome.requests == 1
    assert [line.amount for line in lines] == [Decimal("2000.00")]


def test_a_burst_of_changes_sends_one_task_and_the_task_lets_the_next_change_send_again(
        tenant_a, world, django_capture_on_commit_callbacks, sent):
    with django_capture_on_commit_callbacks(execute=True), tenant_context(tenant_a):
        for n in range(5):
            upsert(world, f"OPP-{n}", world.reps[0], "1000.00", datetime.date(2026, 3, 1))
    assert sent == [tenant_a.pk]
    tasks.recompute_pending.run(tenant_id=tenant_a.pk)
    with tenant_context(tenant_a):
        assert RecomputeRequest.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True), tenant_context(tenant_a):
        upsert(world, "OPP-9", world.reps[0], "1000.00", datetime.date(2026, 3, 1))
    assert sent == [tenant_a.pk, tenant_a.pk]


def test_a_failed_recompute_keeps_the_previous_results_and_the_requests(
        tenant_a, world, monkeypatch):
    rep = world.reps[0]
    with tenant_context(tenant_a):
        upsert(world, "OPP-1", rep, "10000.00", datetime.date(2026, 3, 3))
        recompute_pending()
        before = lines_snapshot()
        upsert(world, "OPP-1", rep, "99000.00", datetime.date(2026, 3, 3))
    import compensation.services.runs as runs

    def broken(**kwargs):
        raise ValueError("the engine fell over")

    monkeypatch.setattr(runs, "calculate", broken)
    outcome = apply_pending(tenant_a)
    with tenant_context(tenant_a):
        after = lines_snapshot()
        waiting = RecomputeRequest.objects.count()
        failed = CalculationRun.objects.get(pk=outcome.failed.pk)
    assert after == before
    assert waiting == 1
    assert failed.status == RunStatus.FAILED
    assert "the engine fell over" in failed.error
    monkeypatch.undo()
    outcome = apply_pending(tenant_a)
    with tenant_context(tenant_a):
        amounts = list(LineItem.objects.filter(payee=rep, deal__external_id="OPP-1")
                       .values_list("basis", flat=True))
    assert outcome.failed is None
    assert amounts == [Decimal("99000.00")]


def test_a_locked_month_never_changes(tenant_a, world):
    rep = world.reps[0]
    with tenant_context(tenant_a):
        upsert(world, "OPP-1", rep, "10000.00", datetime.date(2026, 1, 20))
        recompute_pending()
        january = world.month("2026-01")
        january.status = "locked"
        january.save()
        before = list(LineItem.objects.filter(period=january).values_list("amount", flat=True))
        upsert(world, "OPP-1", rep, "50000.00", datetime.date(2026, 1, 20))
        outcome = recompute_pending()
        after = list(LineItem.objects.filter(period=january).values_list("amount", flat=True))
    assert after == before == [Decimal("800.00")]
    assert outcome.skipped_locked == [str(january)]


def test_the_months_open_so_far_are_recomputed_and_a_period_can_be_recomputed_whole(
        tenant_a, world):
    with tenant_context(tenant_a):
        assert [str(m) for m in open_months(on=datetime.date(2026, 3, 20))] == [
            str(world.month(k)) for k in ("2026-01", "2026-02", "2026-03")]
        run = period_recompute(period=world.quarter)
    assert run.status == RunStatus.SUCCEEDED
    assert run.scope == RunScope.FULL


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_recomputes_at_once_give_one_consistent_result(tenant_a, time_machine):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL")
    time_machine.move_to(TODAY)
    with tenant_context(tenant_a):
        world = build_world(reps=2)
        world.won = StageFactory(name="Closed Won", is_won=True, order=90,
                                 default_probability=Decimal("100"), forecast_category="closed")
        world.open = StageFactory(name="Proposal", order=40)
        world.account = AccountFactory(name="Initech")
        world.commit = contextlib.nullcontext  # real commits: what they send runs by itself
        recompute_open_months()
        for n, rep in enumerate(world.reps):
            upsert(world, f"OPP-{n}", rep, f"{(n + 1) * 30000}.00", datetime.date(2026, 2, 9))
    errors: list[BaseException] = []

    def worker():
        try:
            apply_pending(tenant_a)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with tenant_context(tenant_a):
        together = lines_snapshot()
        waiting = RecomputeRequest.objects.count()
        recompute_open_months()
        nightly = lines_snapshot()
        Team.objects.all().delete()
    assert waiting == 0
    assert together == nightly


def test_every_kind_of_change_records_what_it_touches(tenant_a, world):
    from compensation.models import Adjustment, CreditRule, ExchangeRate
    from compensation.services.assignments import assignment_end

    rep = world.reps[0]
    with tenant_context(tenant_a):
        deal = Deal.objects.get(pk=upsert(world, "OPP-1", rep, "1000.00",
                                          datetime.date(2026, 3, 1)).ids["OPP-1"])

        def recorded(change) -> set[tuple]:
            RecomputeRequest.objects.all().delete()
            change()
            return set(RecomputeRequest.objects.values_list("deal_id", "payee_id", "everything"))

        assert recorded(lambda: deal_splits_set(deal=deal, splits=[(rep, Decimal("100"))])) \
            == {(deal.pk, None, False)}
        assert recorded(lambda: Deal.objects.get(pk=deal.pk).save()) == {(deal.pk, None, False)}
        assert recorded(lambda: assignment_end(
            assignment=rep_assignment(rep), valid_to=datetime.date(2026, 12, 1))) \
            == {(None, rep.pk, False)}
        assert recorded(lambda: Adjustment.objects.create(
            payee=rep, period=world.month("2026-03"), amount=Decimal("10.00"),
            reason="bonus")) == {(None, rep.pk, False)}
        assert recorded(lambda: ExchangeRate.objects.create(
            currency="EUR", valid_from=datetime.date(2026, 1, 1), rate=Decimal("1.1"))) \
            == {(None, None, True)}
        assert recorded(lambda: CreditRule.objects.create(
            name="Overlay", target="person", person=world.manager,
            valid_from=datetime.date(2026, 1, 1))) == {(None, None, True)}


def rep_assignment(rep):
    from compensation.models import PlanAssignment

    return PlanAssignment.objects.get(person=rep)
