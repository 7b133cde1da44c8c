"""Calculation runs tell the truth: a run that could not pay a credit says so in its status, each
issue opens to the person, the deal, the reason and the fix, people credited much but paid
nothing are flagged with the likely reason, and finance's home shows what needs attention."""

from __future__ import annotations

import datetime
import html
from decimal import Decimal
from fractions import Fraction

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compensation.models import CalculationRun, PayeePeriodResult, RunStatus
from compensation.plan_documents import load_plan
from compensation.run_review import finance_attention
from compensation.services import runs as runs_service
from compensation.services.assignments import assignment_create
from compensation.services.crediting import credits_build
from compensation.services.plans import plan_version_import, plan_version_publish
from compensation.services.runs import calculation_run
from compensation.unpaid import credited_but_unpaid
from spm.org.models import Period
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Role
from spm.tenancy.urls import tenant_reverse
from tests.factories import DealFactory, PersonFactory, StageFactory

from .runs_world import build_world, credit_deal

pytestmark = pytest.mark.django_db

D = datetime.date
JAN_15 = D(2026, 1, 15)

GATED_PLAN = """
plan: GATED
version: 1
components:
  - code: big-deals
    kind: rate_table
    basis: amount
    gate: {min_deal_amount: 500000.00}
    tiers:
      - {from: 0, rate: 5%}
"""

QUARTERLY_PLAN = """
plan: QTR
version: 1
components:
  - code: quarter-bonus
    kind: rate_table
    period: quarter
    basis: amount
    tiers:
      - {from: 0, rate: 5%}
"""


def _plan(document: str):
    version = plan_version_import(document=load_plan(document), valid_from=D(2026, 1, 1))
    return plan_version_publish(version=version).plan


@pytest.fixture
def world(tenant_a):
    """Ann and Bob on the AE plan with quotas (paid: 60,000 and 40,000 credited, so the bar is
    their median, 50,000), and people who earn nothing in January for different reasons."""
    with tenant_context(tenant_a):
        ann, bob = PersonFactory(name="Ann Paid"), PersonFactory(name="Bob Paid")
        world = build_world(people=[ann, bob])
        credit_deal(world, ann, "60000.00", D(2026, 1, 10))
        credit_deal(world, bob, "40000.00", D(2026, 1, 12))
        world.nora = PersonFactory(name="Nora Noplan")  # no plan at all
        world.olga = PersonFactory(name="Olga Late")  # a plan from the 15th, credit on the 10th
        assignment_create(person=world.olga, plan=world.version.plan, valid_from=JAN_15)
        world.gus = PersonFactory(name="Gus Gated")  # on a plan whose gate no deal passes
        assignment_create(person=world.gus, plan=_plan(GATED_PLAN), valid_from=D(2026, 1, 1))
        world.quinn = PersonFactory(name="Quinn Quarterly")  # paid when the quarter closes
        assignment_create(person=world.quinn, plan=_plan(QUARTERLY_PLAN),
                          valid_from=D(2026, 1, 1))
        world.sam = PersonFactory(name="Sam Small")  # no plan, but credited below the bar
        world.nora_credit = credit_deal(world, world.nora, "100000.00", D(2026, 1, 20))
        credit_deal(world, world.olga, "70000.00", D(2026, 1, 10))
        credit_deal(world, world.gus, "80000.00", D(2026, 1, 8))
        credit_deal(world, world.quinn, "90000.00", D(2026, 1, 9))
        credit_deal(world, world.sam, "10000.00", D(2026, 1, 5))
    return world


def _run(tenant, period) -> CalculationRun:
    with tenant_context(tenant):
        return calculation_run(tenant=tenant, period=period, actor=None)


def _login(client, tenant, make_member, role: str):
    client.force_login(make_member(tenant, role, username=f"{role}_{tenant.slug}"))
    return client


def _detail(tenant, run) -> str:
    return tenant_reverse(tenant, "compensation:run-detail", run_id=run.pk)


# -- the status ------------------------------------------------------------------------------


@pytest.mark.smoke
def test_a_run_with_a_credit_for_a_person_without_a_plan_succeeds_with_errors(tenant_a, world):
    run = _run(tenant_a, world.month("2026-01"))

    assert run.status == RunStatus.SUCCEEDED_WITH_ERRORS, run.error
    assert run.has_results
    unassigned = [i for i in run.issues if i["code"] == "unassigned_credit"]
    assert {(i["payee_id"], i["deal_id"]) for i in unassigned} >= {
        (world.nora.pk, world.nora_credit.deal_id)}
    assert all(i["severity"] == "error" for i in unassigned)
    assert run.error_count == 3  # Nora, Olga before her plan starts, Sam
    with tenant_context(tenant_a):
        assert run.lines.exists()  # the others are still paid


def test_warnings_alone_keep_a_run_succeeded(tenant_a):
    with tenant_context(tenant_a):
        ann = PersonFactory(name="Ann Paid")
        world = build_world(people=[ann])
        credit_deal(world, ann, "60000.00", D(2026, 1, 10))
        # Quotas stop in March: a credit in April raises a no-quota warning.
        credit_deal(world, ann, "5000.00", D(2026, 4, 10))
        year = Period.objects.get(kind="year", fiscal_year=2026)
    run = _run(tenant_a, year)

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.error_count == 0
    assert run.warning_count > 0


def test_a_new_run_supersedes_one_that_succeeded_with_errors(tenant_a, world):
    first = _run(tenant_a, world.month("2026-01"))
    second = _run(tenant_a, world.month("2026-01"))

    with tenant_context(tenant_a):
        first.refresh_from_db()
    assert first.status == RunStatus.SUPERSEDED
    assert second.status == RunStatus.SUCCEEDED_WITH_ERRORS


def test_a_deal_crediting_could_not_convert_makes_the_run_succeed_with_errors(tenant_a):
    with tenant_context(tenant_a):
        ann = PersonFactory(name="Ann Paid")
        world = build_world(people=[ann])
        won = StageFactory(name="Won", is_won=True, forecast_category="closed",
                           default_probability=Decimal(100))
        DealFactory(owner=ann, stage=won, amount=Decimal("5000.00"), currency="USD",
                    close_date=D(2026, 1, 7))
        DealFactory(owner=ann, stage=won, amount=Decimal("9000.00"), currency="EUR",
                    close_date=D(2026, 1, 9), external_id="DEAL-EUR")
        build = credits_build(period=world.month("2026-01"))
    assert [i["code"] for i in build.issues] == ["missing_rate"]

    run = _run(tenant_a, world.month("2026-01"))

    # The engine computed every credit it was given; the error is crediting's.
    assert not [i for i in run.issues if i["severity"] == "error"]
    assert run.status == RunStatus.SUCCEEDED_WITH_ERRORS
    assert run.inputs["credit_builds"] == [build.pk]
    assert run.error_count == 1


def test_errors_are_kept_before_warnings_when_a_run_keeps_only_some(tenant_a, world,
                                                                     monkeypatch):
    monkeypatch.setattr(runs_service, "MAX_ISSUES_KEPT", 2)
    with tenant_context(tenant_a):
        for day in (D(2026, 4, 3), D(2026, 5, 3), D(2026, 6, 3)):  # no quota: warnings
            credit_deal(world, world.reps[0], "100.00", day)
        year = Period.objects.get(kind="year", fiscal_year=2026)

    run = _run(tenant_a, year)

    assert [i["severity"] for i in run.issues] == ["error", "error"]
    assert run.error_count == 3
    assert run.warning_count > 0


# -- the run's page --------------------------------------------------------------------------


@pytest.mark.smoke
def test_its_issue_page_names_the_person_the_deal_the_reason_and_the_fix(
        client, tenant_a, world, make_member):
    run = _run(tenant_a, world.month("2026-01"))
    _login(client, tenant_a, make_member, Role.FINANCE)

    response = client.get(_detail(tenant_a, run))

    assert response.status_code == 200
    review = response.context["review"]
    nora = next(i for i in review.issues if i.payee is not None and i.payee.pk == world.nora.pk)
    assert nora.deal.pk == world.nora_credit.deal_id
    assert nora.severity == "error"
    assert nora.title == "Credit with no plan"
    assert "no plan assignment covers" in nora.reason
    assert nora.fix.text.startswith("Assign a plan to Nora Noplan covering 2026-01-20: "
                                    "Compensation \u203a Plan assignments")
    body = html.unescape(response.content.decode())
    item = body[body.index(f'id="{nora.anchor}"'):]
    item = item[:item.index("</li>")]
    person_url = tenant_reverse(tenant_a, "org:person-detail", pk=world.nora.pk)
    deal_url = tenant_reverse(tenant_a, "crm:deal-detail", pk=world.nora_credit.deal_id)
    assert f'href="{person_url}" data-issue-payee>Nora Noplan<' in item
    assert f'href="{deal_url}" data-issue-deal>{nora.deal.external_id}' in item
    assert "No plan assignment covers this credit" in item
    assert "Assign a plan to Nora Noplan covering 2026-01-20" in item
    add_url = tenant_reverse(tenant_a, "tenant_admin:compensation_planassignment_add")
    assert f'href="{add_url}?person={world.nora.pk}&valid_from=2026-01-01"' in item
    assert "Succeeded with errors" in body


def test_the_run_page_lists_the_months_crediting_issues_with_their_fix(client, tenant_a,
                                                                       make_member):
    with tenant_context(tenant_a):
        ann = PersonFactory(name="Ann Paid")
        world = build_world(people=[ann])
        won = StageFactory(name="Won", is_won=True, forecast_category="closed",
                           default_probability=Decimal(100))
        deal = DealFactory(owner=ann, stage=won, amount=Decimal("9000.00"), currency="EUR",
                           close_date=D(2026, 1, 9), external_id="DEAL-EUR")
        credits_build(period=world.month("2026-01"))
    run = _run(tenant_a, world.month("2026-01"))
    _login(client, tenant_a, make_member, Role.ADMIN)

    response = client.get(_detail(tenant_a, run))

    issue = response.context["review"].issues[0]
    assert (issue.source, issue.code, issue.deal.pk, issue.payee.pk) == (
        "crediting", "missing_rate", deal.pk, ann.pk)
    assert issue.fix.text.startswith("Add an exchange rate for EUR on 2026-01-09")
    assert "currency=EUR&amp;valid_from=2026-01-09" in response.content.decode()


def test_people_credited_above_the_median_of_those_paid_who_earned_nothing_are_flagged(
        client, tenant_a, world, make_member):
    run = _run(tenant_a, world.month("2026-01"))
    _login(client, tenant_a, make_member, Role.FINANCE)

    response = client.get(_detail(tenant_a, run))

    flags = response.context["review"].flags
    assert [(f.name, f.credited, f.reason) for f in flags] == [
        ("Nora Noplan", Decimal("100000.00"), "no_assignment"),
        ("Gus Gated", Decimal("80000.00"), "gates"),
        ("Olga Late", Decimal("70000.00"), "outside_dates"),
    ]
    # The bar is the median credit of those paid; Sam (10,000) is below it, Quinn's
    # quarterly plan pays when the quarter closes, Ann and Bob were paid.
    assert {f.bar for f in flags} == {Decimal("50000.00")}
    assert all(f.earnings == 0 for f in flags)
    olga = flags[2]
    assert "does not cover credits dated 10 Jan 2026" in olga.explanation
    body = html.unescape(response.content.decode())
    assert "Quinn" not in body[body.index('id="flags"'):body.index('id="issues"')]


def test_nobody_paid_holds_every_credit_to_the_one_cent_floor(tenant_a):
    with tenant_context(tenant_a):
        ann = PersonFactory(name="Ann")
        world = build_world(people=[])
        credit_deal(world, ann, "0.50", D(2026, 1, 3))
        january = world.month("2026-01")
    _run(tenant_a, january)
    with tenant_context(tenant_a):
        flags = credited_but_unpaid(periods=[january])[january.pk]

    assert [(f.name, f.bar, f.reason) for f in flags] == [("Ann", Decimal("0.01"),
                                                          "no_assignment")]


def test_a_failed_run_says_so_and_flags_nothing(client, tenant_a, world, make_member,
                                                monkeypatch):
    def fail(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(runs_service, "_write_balances", fail)
    with tenant_context(tenant_a):
        run = calculation_run(tenant=tenant_a, period=world.month("2026-01"), actor=None)
    _login(client, tenant_a, make_member, Role.FINANCE)

    response = client.get(_detail(tenant_a, run))

    assert run.status == RunStatus.FAILED
    body = response.content.decode()
    assert "This run failed" in body
    assert "disk full" in body
    assert response.context["review"].flags == []


@pytest.mark.parametrize(("role", "status"), [
    (Role.ADMIN, 200), (Role.FINANCE, 200), (Role.MANAGER, 403), (Role.REP, 403)])
def test_run_pages_are_for_admin_and_finance(client, tenant_a, world, make_member, role,
                                             status):
    run = _run(tenant_a, world.month("2026-01"))
    _login(client, tenant_a, make_member, role)

    assert client.get(_detail(tenant_a, run)).status_code == status
    assert client.get(tenant_reverse(tenant_a, "compensation:run-list")).status_code == status


def test_an_outsider_gets_404_for_a_run_and_nobody_gets_a_missing_one(client, tenant_a, world,
                                                                        admin_b, make_member):
    run = _run(tenant_a, world.month("2026-01"))
    client.force_login(admin_b)
    assert client.get(_detail(tenant_a, run)).status_code == 404
    _login(client, tenant_a, make_member, Role.FINANCE)
    missing = tenant_reverse(tenant_a, "compensation:run-detail", run_id=run.pk + 1000)
    assert client.get(missing).status_code == 404


def test_the_run_list_links_each_run_and_filters_by_status(client, tenant_a, world,
                                                           make_member):
    run = _run(tenant_a, world.month("2026-01"))
    _login(client, tenant_a, make_member, Role.FINANCE)
    url = tenant_reverse(tenant_a, "compensation:run-list")

    everything = client.get(url).content.decode()
    with_errors = client.get(url, {"status": "succeeded_with_errors"})
    clean = client.get(url, {"status": "succeeded"})
    junk = client.get(url, {"status": "drop table"})

    assert _detail(tenant_a, run) in everything
    assert "3 errors" in everything
    assert [r.pk for r in with_errors.context["runs"]] == [run.pk]
    assert list(clean.context["runs"]) == []
    assert [r.pk for r in junk.context["runs"]] == [run.pk]


def test_recalc_reports_a_run_with_errors_without_failing(tenant_a, world, capsys):
    call_command("recalc", tenant=tenant_a.slug, period="2026-01")

    captured = capsys.readouterr()
    assert "succeeded with 3 error(s)" in captured.err
    with tenant_context(tenant_a):
        assert CalculationRun.objects.get().status == RunStatus.SUCCEEDED_WITH_ERRORS


# -- finance's home --------------------------------------------------------------------------


MID_FEBRUARY = datetime.datetime(2026, 2, 14, 12, tzinfo=datetime.UTC)


@time_machine.travel(MID_FEBRUARY, tick=False)
def test_finance_home_shows_each_open_months_latest_run_errors_and_flags(client, tenant_a,
                                                                        world, make_member):
    run = _run(tenant_a, world.month("2026-01"))
    _login(client, tenant_a, make_member, Role.FINANCE)

    response = client.get(tenant_reverse(tenant_a, "tenant-home"))

    attention = response.context["attention"]
    assert [(m.month.label, m.run.pk if m.run else None, m.flagged)
            for m in attention.months] == [
        (world.month("2026-02").label, None, 0), (world.month("2026-01").label, run.pk, 3)]
    assert [r.pk for r in attention.runs_with_errors] == [run.pk]
    body = response.content.decode()
    assert 'data-stat="runs-with-errors">1<' in body
    assert 'data-stat="flagged">3<' in body
    assert f'{_detail(tenant_a, run)}#flags' in body
    assert "Not calculated yet" in body
    assert "?status=succeeded_with_errors" in body


@time_machine.travel(MID_FEBRUARY, tick=False)
def test_a_locked_month_leaves_finances_list(tenant_a, world):
    with tenant_context(tenant_a):
        january = world.month("2026-01")
        january.status = "locked"
        january.save()
        attention = finance_attention(today=D(2026, 2, 14))

    assert [m.month.pk for m in attention.months] == [world.month("2026-02").pk]


@pytest.mark.parametrize("more", [0, 1])
@time_machine.travel(MID_FEBRUARY, tick=False)
def test_finance_home_takes_a_constant_number_of_queries(client, tenant_a, world, make_member,
                                                         more, django_assert_max_num_queries):
    _run(tenant_a, world.month("2026-01"))
    if more:  # more runs, months calculated, people credited and flagged
        with tenant_context(tenant_a):
            for i in range(8):
                credit_deal(world, PersonFactory(name=f"Extra {i}"), "150000.00",
                            D(2026, 2, 2 + i))
                credit_deal(world, world.reps[i % 2], "1000.00", D(2026, 2, 2 + i))
        _run(tenant_a, world.month("2026-02"))
        _run(tenant_a, world.quarter)
    _login(client, tenant_a, make_member, Role.FINANCE)

    with django_assert_max_num_queries(25):
        response = client.get(tenant_reverse(tenant_a, "tenant-home"))

    assert response.status_code == 200
    assert len(response.context["attention"].months) == 2


def test_other_roles_homes_do_not_compute_finances_list(client, tenant_a, world, make_member):
    for role in (Role.ADMIN, Role.MANAGER, Role.REP):
        _login(client, tenant_a, make_member, role)
        response = client.get(tenant_reverse(tenant_a, "tenant-home"))
        assert response.status_code == 200
        assert "attention" not in response.context
        assert b"data-attention" not in response.content


def test_a_runs_page_takes_a_constant_number_of_queries(client, tenant_a, world, make_member,
                                                        django_assert_max_num_queries):
    def queries_for_run() -> int:
        run = _run(tenant_a, world.month("2026-01"))
        with django_assert_max_num_queries(25) as captured:
            assert client.get(_detail(tenant_a, run)).status_code == 200
        return len(captured)

    _login(client, tenant_a, make_member, Role.FINANCE)
    few = queries_for_run()
    with tenant_context(tenant_a):
        for i in range(12):  # more unassigned credits, flagged people and issues
            credit_deal(world, PersonFactory(name=f"Extra {i}"), "150000.00", D(2026, 1, 3))
    assert queries_for_run() == few


# -- the flag rule, against a reference --------------------------------------------------------


@pytest.fixture
def empty_world(tenant_a):
    with tenant_context(tenant_a):
        return build_world(people=[])


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(payees=st.lists(st.tuples(st.integers(min_value=0, max_value=10_000_000),
                                 st.sampled_from([0, 0, 1, 250_000])), min_size=1, max_size=9))
def test_the_bar_is_the_median_credit_of_those_paid_and_flags_the_unpaid_at_or_above_it(
        tenant_a, empty_world, payees):
    """Random credits (cents) and earnings per payee, none on a plan: the flags are exactly the
    payees at or above the bar who earned nothing, the bar being the median credit of those
    paid (credited and earning), half-up to the cent, or one cent when nobody is."""
    world = empty_world
    with tenant_context(tenant_a), transaction.atomic():
        january = world.month("2026-01")
        run = CalculationRun.objects.create(period=january, status=RunStatus.SUCCEEDED,
                                            requested_at=timezone.now())
        people = []
        for index, (credited, earned) in enumerate(payees):
            person = PersonFactory(name=f"Payee {index}")
            people.append(person)
            if credited:
                credit_deal(world, person, str(Decimal(credited) / 100), D(2026, 1, 5))
            PayeePeriodResult.objects.create(
                run=run, payee=person, period=january, credited=Decimal(credited) / 100,
                earnings=Decimal(earned) / 100, total=Decimal(earned) / 100)
        flags = credited_but_unpaid(periods=[january])[january.pk]
        transaction.set_rollback(True)

    paid = sorted(Fraction(c, 100) for c, e in payees if e > 0 and c > 0)
    if paid:
        middle = len(paid) // 2
        median = paid[middle] if len(paid) % 2 else (paid[middle - 1] + paid[middle]) / 2
        bar = Decimal(int(median * 100 + Fraction(1, 2))) / 100  # half-up to the cent
    else:
        bar = Decimal("0.01")
    expected = sorted(((Decimal(c) / 100, f"Payee {i}") for i, (c, e) in enumerate(payees)
                       if e == 0 and c > 0 and Decimal(c) / 100 >= bar),
                      key=lambda pair: (-pair[0], pair[1]))
    assert [(f.credited, f.name) for f in flags] == expected
    assert all(f.bar == bar for f in flags)
    assert all(f.reason == "no_assignment" for f in flags)
