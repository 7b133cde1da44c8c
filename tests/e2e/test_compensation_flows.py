"""Compensation flows in a real browser: a rep reads and downloads their statement, finance
recalculates a period, a manager scores their team's objectives."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Sum
from django.test import Client
from playwright.sync_api import expect

from compensation.models import CalculationRun, LineItem, MboScore, RunStatus
from compensation.services.assignments import assignment_create
from compensation.services.runs import calculation_run
from spm.org.models import Person, TeamMembership
from spm.org.services import team_create
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Role
from spm.tenancy.urls import tenant_reverse
from tests.compensation.mbo_world import build_mbo_world
from tests.compensation.runs_world import build_world, credit_deal
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def money(text: str) -> Decimal:
    """An amount as the pages show it ("10,400.00") back to an exact Decimal."""
    return Decimal(text.strip().replace(",", ""))


def sign_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/t/acme/")


def signed_in_as(page, base_url: str, username: str) -> None:
    # The login form has its own test; the other flows start from a session made server-side.
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    page.context.add_cookies([{
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": base_url,
    }])


@pytest.fixture
def statements_world(tenant_a, make_member):
    """Ann and Bob, reps in one team, with won deals in January 2026, calculated."""
    ann_user = make_member(tenant_a, Role.REP, username="ann")
    bob_user = make_member(tenant_a, Role.REP, username="bob")
    boss_user = make_member(tenant_a, Role.MANAGER, username="boss")
    with tenant_context(tenant_a):
        ann, bob, boss = (Person.objects.get(user=u) for u in (ann_user, bob_user, boss_user))
        team = team_create(name="West", manager=boss)
        for person in (ann, bob):
            TeamMembership.objects.create(person=person, team=team,
                                          valid_from=datetime.date(2025, 1, 1))
        world = build_world(people=[ann, bob])
        # The manager is paid on the team's roll-up too, as crediting credits it to them.
        assignment_create(person=boss, plan=world.version.plan,
                          valid_from=datetime.date(2026, 1, 1),
                          target_incentive=Decimal("80000.00"))
        # Over quota, so lines fall in two tiers, and odd cents so rounding shows.
        credit_deal(world, ann, "60000.00", datetime.date(2026, 1, 10))
        credit_deal(world, ann, "47123.45", datetime.date(2026, 1, 20))
        credit_deal(world, ann, "1999.99", datetime.date(2026, 1, 28))
        credit_deal(world, bob, "33333.33", datetime.date(2026, 1, 3))
        run = calculation_run(tenant=tenant_a, period=world.month("2026-01"), actor=None)
        assert run.status == RunStatus.SUCCEEDED, run.error
    world.ann, world.bob = ann, bob
    return world


def test_a_rep_reads_their_statement_whose_lines_add_up_and_downloads_the_same_csv(
        page, live_server, tenant_a, statements_world):
    world = statements_world
    january = world.month("2026-01")
    sign_in(page, live_server.url, "ann")
    page.goto(live_server.url + tenant_reverse(tenant_a, "compensation:statement",
                                               person_id=world.ann.pk, period_id=january.pk))
    expect(page.get_by_role("heading", name="Commission statement")).to_be_visible()

    lines = page.locator("[data-lines] tbody tr")
    with tenant_context(tenant_a):
        stored = list(LineItem.objects.filter(payee=world.ann, period=january)
                      .select_related("deal"))
    expect(lines).to_have_count(len(stored))
    shown_amounts = []
    for row in lines.all():
        cells = row.locator("td")
        deal_cell, explanation = cells.nth(2).inner_text(), cells.nth(4).inner_text()
        line = next(item for item in stored if str(item.pk) == row.get_attribute("data-line"))
        # Every line names its deal and says how it was computed.
        assert line.deal.external_id in deal_cell
        assert explanation.strip()
        assert explanation.strip() == line.explanation_text.strip()
        shown_amounts.append(money(cells.nth(5).inner_text()))
    total = money(page.locator("[data-statement-total]").inner_text())
    assert sum(shown_amounts, Decimal("0")) == total
    assert money(page.locator("[data-lines] tfoot td").last.inner_text()) == total
    assert total == sum((item.amount for item in stored), Decimal("0")) > 0

    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV").click()
    with open(download_info.value.path(), encoding="utf-8") as handle:
        rows = list(csv.reader(io.StringIO(handle.read())))
    header, body, footer = rows[0], rows[1:-1], rows[-1]
    amount = header.index("amount")
    assert len(body) == len(stored)
    assert footer[0] == "total"
    assert money(footer[amount]) == total
    assert sum((money(row[amount]) for row in body), Decimal("0")) == total

    # A colleague's statement does not exist as far as Ann can tell.
    response = page.goto(live_server.url + tenant_reverse(
        tenant_a, "compensation:statement", person_id=world.bob.pk, period_id=january.pk))
    assert response is not None
    assert response.status == 404
    expect(page.locator("body")).not_to_contain_text(world.bob.name)


def test_finance_recalculates_a_period_and_sees_the_run_succeed(
        page, live_server, tenant_a, make_member, statements_world, eager_tasks):
    world = statements_world
    fin = make_member(tenant_a, Role.FINANCE, username="fin")
    february = world.month("2026-02")
    with tenant_context(tenant_a):
        # February has credits of its own, so the new run has lines to show.
        credit_deal(world, world.bob, "150000.00", datetime.date(2026, 2, 5))
        runs_before = set(CalculationRun.objects.values_list("pk", flat=True))
    signed_in_as(page, live_server.url, "fin")
    page.goto(live_server.url + tenant_reverse(tenant_a, "compensation:run-list"))
    expect(page.get_by_role("heading", name="Calculation runs")).to_be_visible()

    page.get_by_label("Period").select_option(label=str(february))
    page.get_by_role("button", name="Recalculate period").click()

    expect(page.get_by_role("alert")).to_contain_text(f"Recalculation of {february} queued")
    with tenant_context(tenant_a):
        run = CalculationRun.objects.exclude(pk__in=runs_before).get()
        line_total = LineItem.objects.filter(run=run).aggregate(s=Sum("amount"))["s"]
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.period_id == february.pk
    assert run.requested_by_id == fin.pk
    assert line_total is not None
    assert line_total > 0
    row = page.locator(f'[data-run="{run.pk}"]')
    expect(row).to_contain_text("Succeeded")
    expect(row).to_contain_text(str(february))
    expect(row.locator("td").nth(7)).to_have_text(f"{line_total:,.2f}")


@pytest.fixture
def mbo_world(tenant_a, make_member):
    """A manager ("boss") leading Ann, both on a plan with a quarterly MBO component."""
    return build_mbo_world(tenant_a, make_member)


def score_label(window) -> str:
    return f"Score of objectives for {window} (%)"


def open_anns_scores(page, live_server, tenant_a, world) -> None:
    """As Ann's manager, from the MBO list of Q1 to Ann's score form."""
    quarter = world["Q1"]
    signed_in_as(page, live_server.url, "boss")
    page.goto(live_server.url + tenant_reverse(tenant_a, "compensation:mbo-list"))
    page.get_by_label("Period").select_option(label=str(quarter))
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name=f"MBO scores · {quarter}")).to_be_visible()
    row = page.locator("[data-mbo-rows] tbody tr").filter(has_text=world.ann.name)
    row.get_by_role("link", name="Enter scores").click()
    expect(page.get_by_role("heading", name=f"{world.ann} · {quarter}")).to_be_visible()


def test_a_manager_scores_someone_in_their_team_and_the_score_is_kept(
        page, live_server, tenant_a, mbo_world):
    open_anns_scores(page, live_server, tenant_a, mbo_world)
    score_field = page.get_by_label(score_label(mbo_world["Q1"]))
    score_field.fill("87.5")
    page.get_by_label("Comment").fill("Ramped two partners")
    page.get_by_role("button", name="Save scores").click()

    expect(page.get_by_role("alert")).to_contain_text("Saved 1 score change")
    with tenant_context(tenant_a):
        score = MboScore.objects.select_related("entered_by").get()
    assert (score.payee_id, score.period_id) == (mbo_world.ann.pk, mbo_world["Q1"].pk)
    assert score.score_pct == Decimal("87.50")
    assert score.comment == "Ramped two partners"
    assert score.entered_by.username == "boss"

    page.reload()
    expect(score_field).to_have_value("87.50")
    expect(page.get_by_label("Comment")).to_have_value("Ramped two partners")


def test_a_manager_entering_1234_sees_the_fields_error_and_nothing_is_stored(
        page, live_server, tenant_a, mbo_world):
    open_anns_scores(page, live_server, tenant_a, mbo_world)
    score_field = page.get_by_label(score_label(mbo_world["Q1"]))
    score_field.fill("1234")
    page.get_by_role("button", name="Save scores").click()

    error = page.locator("[data-mbo-window] .invalid-feedback")
    expect(error).to_be_visible()
    expect(error).to_contain_text("above 1000%")
    expect(score_field).to_have_value("1234")
    with tenant_context(tenant_a):
        assert not MboScore.objects.exists()
