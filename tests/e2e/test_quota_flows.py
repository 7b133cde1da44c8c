"""Quota flows in a real browser: a rep reads and acknowledges their quota, a manager sorts their
team's attainment, an admin allocates and applies a plan — checking that the shown sums add up."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.conf import settings
from django.db.models import Sum
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, expect

from quotas.models import Quota, QuotaAcknowledgement, QuotaAllocation, QuotaPlan
from quotas.services import quota_allocate, quota_plan_apply, quota_plan_create
from spm.org.calendar import fiscal_year_of
from spm.org.models import Period, PeriodKind, Person
from spm.org.services import periods_generate
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Role
from spm.tenancy.today import tenant_today
from spm.tenancy.urls import tenant_reverse
from tests.factories import PASSWORD, AccountFactory, DealFactory, StageFactory
from tests.org.test_views import SalesOrg, build_sales_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Three sellers (Ray and Colin in West, Erin in East) share the target equally, 110% over-assigned
# on sellers: 1,320,000 each a year, phased by two-decimal month percentages, so every quota is a
# whole amount and the team view's whole-unit figures can be summed exactly.
TARGET = Decimal("3600000.00")
RAY_BOOKED = Decimal("33000")
COLIN_BOOKED = Decimal("132000")


@dataclass
class QuotaWorld:
    org: SalesOrg
    plan: QuotaPlan
    today: datetime.date
    quarter: Period  # the fiscal quarter of today, which the pages show by default


def build_world(tenant, make_member, *, applied: bool) -> QuotaWorld:
    """This fiscal year's plan for the sales org; `applied` allocates it equally, applies it and
    books won deals for Ray and Colin on the first day of this quarter.

    Built around today rather than a frozen date: the browser and the live server run on the
    real clock, and the pages default to today's quarter.
    """
    org = build_sales_org(tenant, make_member)
    with tenant_context(tenant):
        # Admin and finance logins have a person each; they sell nothing and carry no quota.
        Person.objects.filter(user__memberships__role__in=[Role.ADMIN, Role.FINANCE]).update(
            role="other")
        today = tenant_today(tenant)
        fiscal_year = fiscal_year_of(today, tenant.fiscal_year_start_month)
        periods_generate(fiscal_years=[fiscal_year])
        quarter = Period.objects.get(kind=PeriodKind.QUARTER, start_date__lte=today,
                                     end_date__gt=today)
        plan = quota_plan_create(fiscal_year=fiscal_year, name=f"FY{fiscal_year} quotas",
                                 target=TARGET, over_assignment_percent=Decimal("110"))
        if applied:
            quota_allocate(plan=plan, method="equal")
            quota_plan_apply(plan=plan)
            won = StageFactory(name="Closed won", order=9, is_won=True,
                               default_probability=Decimal(100), forecast_category="closed")
            for owner, amount in ((org.rep, RAY_BOOKED), (org.colleague, COLIN_BOOKED)):
                DealFactory(owner=owner, amount=amount, stage=won, account=AccountFactory(),
                            close_date=quarter.start_date)
            plan.refresh_from_db()
    return QuotaWorld(org=org, plan=plan, today=today, quarter=quarter)


@pytest.fixture
def draft_world(tenant_a, make_member) -> QuotaWorld:
    return build_world(tenant_a, make_member, applied=False)


@pytest.fixture
def applied_world(tenant_a, make_member) -> QuotaWorld:
    return build_world(tenant_a, make_member, applied=True)


# -- helpers -------------------------------------------------------------------------------------


def url_of(live_server, world: QuotaWorld, name: str, **kwargs) -> str:
    return live_server.url + tenant_reverse(world.org.tenant, name, **kwargs)


def sign_in_with_cookie(page: Page, live_server, user) -> None:
    """A session made on the server, handed to the browser: the login form has its own test."""
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies([{
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": live_server.url,
    }])


def server_errors(page: Page) -> list[str]:
    """Filled as the page loads: every response of 500 or above."""
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 500
            else None)
    return failed


def money(text: str) -> Decimal:
    """An amount as the pages show it ("1,320,000.00", "USD 330,000"), as a Decimal."""
    cleaned = re.sub(r"[^\d.\-]", "", text)
    assert cleaned, f"no amount in {text!r}"
    return Decimal(cleaned)


def percent(text: str) -> int | None:
    """A percentage as the pages show it ("28%"), None for a dash."""
    text = text.strip()
    return None if text == "—" else int(text.rstrip("%"))


def whole_percent(part: Decimal, whole: Decimal) -> int:
    """A ratio as a whole percent, rounded like the pages' {% widthratio %} (Python's round)."""
    return round(part * 100 / whole)


# -- 1. a rep reads their quota and acknowledges the letter --------------------------------------


def test_a_rep_sees_their_attainment_acknowledges_the_letter_and_the_admin_sees_it(
    page, live_server, applied_world
):
    world, org = applied_world, applied_world.org
    failed = server_errors(page)
    with tenant_context(org.tenant):
        quarter_quota = Quota.objects.filter(
            person=org.rep, period__start_date__gte=world.quarter.start_date,
            period__end_date__lte=world.quarter.end_date,
        ).aggregate(total=Sum("amount"))["total"]
        quarter_months = [
            f"{month.start_date:%b %Y}" for month in Period.objects.filter(
                kind=PeriodKind.MONTH, start_date__gte=world.quarter.start_date,
                end_date__lte=world.quarter.end_date)
        ]
    assert quarter_quota, "the applied plan gives the rep a quota this quarter"

    # The one sign-in through the form in this file: the rep lands on their home, then opens
    # their quota.
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(org.users[Role.REP].username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("[data-role-home]")).to_have_attribute("data-role-home", Role.REP)
    page.goto(url_of(live_server, world, "quotas:my"))

    expect(page.get_by_role("heading", name=world.quarter.label, exact=True)).to_be_visible()
    card = page.locator("[data-attainment]")
    summary = card.locator(".stat-label").first.inner_text()
    shown_quota, shown_booked = re.fullmatch(r"of USD ([\d,.]+) · ([\d,.]+) booked",
                                             summary.strip()).groups()
    assert money(shown_quota) == quarter_quota
    assert money(shown_booked) == RAY_BOOKED
    expect(card.locator("[data-stat=attainment]")).to_have_text(
        f"{whole_percent(RAY_BOOKED, quarter_quota)}%")
    assert money(card.locator("[data-stat=gap]").inner_text()) == quarter_quota - RAY_BOOKED
    # The month table covers the year, and this quarter's months add up to the quarter's quota.
    month_rows = page.locator("[data-table=months] tbody tr")
    expect(month_rows).to_have_count(12)
    monthly = {
        cells[0]: money(cells[1])
        for cells in (row.locator("td").all_inner_texts() for row in month_rows.all())
    }
    assert sum(monthly[label] for label in quarter_months) == money(shown_quota)
    assert "Erin East" not in page.content()

    page.get_by_role("link", name=f"FY{world.plan.fiscal_year} quota letter").click()
    annual = money(page.locator("[data-annual]").inner_text())
    quarters = page.locator("[data-table=quarters] tbody td.text-end").all_inner_texts()
    letter_months = page.locator("[data-table=letter-months] tbody td.text-end").all_inner_texts()
    assert len(quarters) == 4
    assert len(letter_months) == 12
    assert sum(map(money, quarters)) == annual
    assert sum(map(money, letter_months)) == annual

    before = timezone.now()
    page.get_by_role("button", name="I acknowledge this quota").click()
    expect(page.get_by_role("alert").filter(has_text="Acknowledged on")).to_be_visible()
    expect(page.locator("[data-acknowledged]")).to_be_visible()
    expect(page.get_by_role("button", name="I acknowledge this quota")).to_have_count(0)
    with tenant_context(org.tenant):
        ack = QuotaAcknowledgement.objects.get(plan=world.plan, person=org.rep)
    assert ack.annual_amount == annual
    assert before - datetime.timedelta(seconds=1) <= ack.acknowledged_at <= timezone.now()
    assert ack.acknowledged_by == org.users[Role.REP]

    # The admin's workspace counts the acknowledgement and dates it on the rep's row.
    sign_in_with_cookie(page, live_server, org.users[Role.ADMIN])
    page.goto(url_of(live_server, world, "quotas:workspace", pk=world.plan.pk))
    with tenant_context(org.tenant):
        people = QuotaAllocation.objects.filter(plan=world.plan, person__isnull=False).count()
    expect(page.locator("[data-stat=acknowledged]")).to_have_text(f"1 / {people}")
    rep_row = page.locator(f"tr[data-node='person:{org.rep.pk}']")
    stamp = timezone.localtime(ack.acknowledged_at, timezone.get_fixed_timezone(0))
    expect(rep_row).to_contain_text(f"{stamp:%-d %b %Y %H:%M}")
    colleague_row = page.locator(f"tr[data-node='person:{org.colleague.pk}']")
    expect(colleague_row).to_contain_text("not yet")
    assert failed == []


# -- 2. a manager's team view --------------------------------------------------------------------


def attainment_table(page: Page) -> list[dict]:
    """The people table as shown: name, whether the row is a manager's, quota, booked, %."""
    rows = []
    for row in page.locator("[data-table=attainment] tbody tr").all():
        cells = row.locator("td")
        name_cell = cells.nth(0)
        is_manager = name_cell.locator(".badge", has_text="manager").count() == 1
        rows.append({
            "name": name_cell.inner_text().replace("manager", "").strip(),
            "manager": is_manager,
            "quota": money(cells.nth(1).inner_text()),
            "booked": money(cells.nth(2).inner_text()),
            "attainment": percent(cells.nth(3).inner_text()),
        })
    return rows


def test_a_manager_sees_only_their_team_sorted_by_attainment_with_totals_that_add_up(
    page, live_server, applied_world
):
    world, org = applied_world, applied_world.org
    failed = server_errors(page)
    sign_in_with_cookie(page, live_server, org.users[Role.MANAGER])
    page.goto(url_of(live_server, world, "quotas:team"))

    table = page.locator("[data-table=attainment]")
    expect(table).to_be_visible()
    rows = attainment_table(page)
    assert {r["name"] for r in rows} == {"Mona Manager", "Ray Rep", "Colin Colleague"}
    body = page.locator("body")
    expect(body).not_to_contain_text("Erin East")
    expect(body).not_to_contain_text("Vera Vice")

    # Each row's percentage is its own booked over quota.
    for r in rows:
        assert r["attainment"] == whole_percent(r["booked"], r["quota"]), r

    header = table.get_by_role("columnheader", name=re.compile("^Attainment"))
    header.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"sort=attainment"))
    expect(table.locator("th[aria-sort=ascending]")).to_have_text(re.compile("Attainment"))
    ascending = attainment_table(page)
    shown = [r["attainment"] for r in ascending]
    assert shown == sorted(shown)
    assert len(set(shown)) == len(shown), "distinct attainments make the order meaningful"
    assert [r["name"] for r in ascending] != sorted(r["name"] for r in ascending)

    header.get_by_role("link").click()
    expect(table.locator("th[aria-sort=descending]")).to_have_text(re.compile("Attainment"))
    descending = [r["attainment"] for r in attainment_table(page)]
    assert descending == sorted(shown, reverse=True)

    # The team totals count the sellers' rows; the manager's own row rolls up the same bookings.
    sellers = [r for r in ascending if not r["manager"]]
    assert {r["name"] for r in sellers} == {"Ray Rep", "Colin Colleague"}
    total_quota = sum(r["quota"] for r in sellers)
    total_booked = sum(r["booked"] for r in sellers)
    assert total_booked == RAY_BOOKED + COLIN_BOOKED
    booked_card = page.locator(".card-body").filter(has_text="booked of USD")
    assert money(booked_card.locator(".stat-value").inner_text()) == total_booked
    assert money(booked_card.locator(".stat-label").inner_text()) == total_quota
    expect(page.locator("[data-stat=team-attainment]")).to_have_text(
        f"{whole_percent(total_booked, total_quota)}%")
    expect(page.get_by_text(f"attainment of {len(sellers)} sellers")).to_be_visible()
    assert money(page.locator("[data-stat=team-gap]").inner_text()) == sum(
        max(r["quota"] - r["booked"], Decimal(0)) for r in sellers)
    assert failed == []


# -- 3. an admin allocates and applies a plan ----------------------------------------------------


def allocation_table(page: Page) -> dict[str, dict]:
    """The allocation tree as shown, by node key: amount, what is below it and what it must be."""
    nodes = {}
    for row in page.locator("[data-table=allocation] tbody tr").all():
        cells = row.locator("td").all_inner_texts()
        nodes[row.get_attribute("data-node")] = {
            "amount": money(cells[1]),
            "below": money(cells[2]) if cells[2].strip() else None,
            "must": money(cells[3]) if cells[3].strip() else None,
            "in_force": money(cells[5]) if re.search(r"\d", cells[5]) else None,
        }
    return nodes


def test_an_admin_allocates_equally_and_applies_and_every_level_adds_up(
    page, live_server, draft_world
):
    world, org = draft_world, draft_world.org
    failed = server_errors(page)
    sign_in_with_cookie(page, live_server, org.users[Role.ADMIN])
    page.goto(url_of(live_server, world, "quotas:workspace", pk=world.plan.pk))
    expect(page.locator("[data-empty=allocation]")).to_be_visible()
    expect(page.get_by_role("button", name="Apply")).to_be_disabled()

    page.get_by_label("Split each quota by").select_option(label="Equal")
    page.get_by_role("button", name="Allocate").click()
    expect(page.get_by_role("alert").filter(has_text="Allocated. Every level adds up.")) \
        .to_be_visible()
    expect(page.locator("[data-adds-up]")).to_be_visible()
    expect(page.locator("[data-problems]")).to_have_count(0)

    with tenant_context(org.tenant):
        stored = list(QuotaAllocation.objects.filter(plan=world.plan)
                      .select_related("parent", "person", "team"))
    parent_of = {row.key: row.parent.key if row.parent else None for row in stored}
    shown = allocation_table(page)
    assert set(shown) == set(parent_of)
    sellers = {f"person:{p.pk}" for p in (org.rep, org.colleague, org.east_rep)}
    assert {key for key in shown if key.startswith("person:")} == sellers

    assert shown["root"]["amount"] == TARGET
    assert money(page.locator("[data-stat=target]").inner_text()) == TARGET
    factor = Decimal("1.10")
    for key, node in shown.items():
        children = [shown[k] for k, parent in parent_of.items() if parent == key]
        if not children:
            continue
        # Every level adds up: what its children carry is shown, and it is what they owe.
        assert node["below"] == sum(c["amount"] for c in children), key
        assert node["must"] == node["below"], key
        people = [shown[k]["amount"] for k, parent in parent_of.items()
                  if parent == key and k.startswith("person:")]
        teams = [shown[k]["amount"] for k, parent in parent_of.items()
                 if parent == key and not k.startswith("person:")]
        if people and key != "root":
            # Sellers carry their team's share over-assigned by 110%.
            assert sum(people) == (node["amount"] - sum(teams)) * factor, key
    people_total = sum(shown[k]["amount"] for k in sellers)
    assert money(page.locator("[data-stat=people-total]").inner_text()) == people_total

    page.get_by_role("button", name="Apply").click()
    applied = page.get_by_role("alert").filter(has_text="monthly quotas written")
    expect(applied).to_be_visible()
    written = int(re.search(r"(\d+) monthly quotas written", applied.inner_text()).group(1))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Published")
    expect(page.get_by_role("link", name="Quota letter")).to_be_visible()

    with tenant_context(org.tenant):
        world.plan.refresh_from_db()
        assert world.plan.is_published
        assert Quota.objects.filter(plan=world.plan).count() == written
        for key in sellers:
            monthly = Quota.objects.filter(plan=world.plan, person_id=int(key.split(":")[1]))
            assert monthly.count() == 12, key
            assert monthly.aggregate(total=Sum("amount"))["total"] == shown[key]["amount"], key
    # The workspace now shows each seller's quota in force, the same as allocated.
    after = allocation_table(page)
    for key in sellers:
        assert after[key]["in_force"] == shown[key]["amount"], key
    assert failed == []
