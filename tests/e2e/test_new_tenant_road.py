"""The whole road on an empty tenant, in a real browser: create the tenant, import a roster,
accounts and opportunities through the pages (mapping a stage the file names its own way),
publish a plan document and import its assignments, recalculate, and read a statement whose
lines add up to 10% of the seller's credited bookings."""

from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Sum
from playwright.sync_api import expect

from compensation.models import Credit, LineItem
from spm.org.models import Period, PeriodKind, Person
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Tenant
from spm.tenancy.urls import tenant_reverse

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PLAN = """\
plan: AE10
version: 1
name: Account executives, 10% of bookings
components:
  - code: commission
    name: Commission
    kind: rate_table
    basis: amount
    tiers:
      - {from: 0, rate: 10%}
"""


def money(text: str) -> Decimal:
    return Decimal(text.strip().replace(",", ""))


def last_month(today: datetime.date) -> datetime.date:
    """A day in the month before today's, so every deal is in a month already open."""
    return today.replace(day=1) - datetime.timedelta(days=20)


def upload(page, base: str, slug: str, kind: str, path: Path) -> None:
    page.goto(f"{base}/t/{slug}/import/{kind}/")
    page.locator('input[type="file"]').set_input_files(str(path))
    page.locator('form[enctype="multipart/form-data"] button[type="submit"]').click()


def apply_import(page) -> None:
    page.locator("[data-import-apply]").click()
    expect(page.locator("[data-import-result]")).to_be_visible()


def test_a_new_tenant_goes_from_raw_exports_to_a_statement_in_the_browser(
        page, live_server, tmp_path, eager_tasks):
    base = live_server.url
    out = io.StringIO()
    call_command("create_tenant", slug="north", name="North Co", admin_email="ops@north.example",
                 stdout=out)
    username = re.search(r"Created admin user (\S+)\.", out.getvalue()).group(1)
    password = re.search(r"Initial password \(shown once\): (\S+)", out.getvalue()).group(1)
    tenant = Tenant.objects.get(slug="north")
    with tenant_context(tenant):
        today = datetime.datetime.now(tz=datetime.UTC).date()
        day = last_month(today)
        month = Period.objects.get(kind=PeriodKind.MONTH, start_date__lte=day,
                                   end_date__gt=day)

    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/t/north/")

    # A roster as an HR system exports it: first and last names, titles, reporting lines.
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "Employee ID,First Name,Last Name,Work Email,Job Title,Manager Email\n"
        "M1,Maria,Rossi,maria@north.example,Regional Sales Manager,\n"
        "R1,Chloé,Okafor,chloe@north.example,Account Executive,maria@north.example\n"
        "R2,Dev,Patel,dev@north.example,Account Executive,maria@north.example\n",
        encoding="utf-8")
    upload(page, base, "north", "people", roster)
    apply_import(page)

    accounts = tmp_path / "accounts.csv"
    accounts.write_text("Account ID,Account Name,Billing Country,Account Owner\n"
                        "A-1,Initech,US,chloe@north.example\n"
                        "A-2,Globex,US,dev@north.example\n", encoding="utf-8")
    upload(page, base, "north", "accounts", accounts)
    apply_import(page)

    # A Salesforce report that names accounts and owners by name, and a stage of its own.
    close = day.strftime("%m/%d/%Y")
    opportunities = tmp_path / "opportunities.csv"
    opportunities.write_text(
        "Opportunity ID,Opportunity Name,Account Name,Amount,Close Date,Stage,"
        "Opportunity Owner\n"
        f"006A,Initech platform,Initech,\"$40,000.00\",{close},Contract Signed,Chloe Okafor\n"
        f"006B,Initech services,initech,\"12,500.50\",{close},Contract Signed,Chloe Okafor\n"
        f"006C,Globex platform,Globex,\"25,000.00\",{close},Contract Signed,Dev Patel\n"
        f"006D,Globex pilot,Globex,\"9,999.99\",{close},Prospecting,Dev Patel\n",
        encoding="utf-8")
    upload(page, base, "north", "deals", opportunities)
    stage_map = page.locator("[data-import-stage-map]")
    expect(stage_map).to_contain_text("Contract Signed")
    stage_map.locator("select").first.select_option(label="Closed Won")
    stage_map.get_by_role("button").first.click()
    apply_import(page)

    plan = tmp_path / "ae10.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    year_start = month.start_date.replace(month=1) if tenant.fiscal_year_start_month == 1 \
        else month.start_date
    call_command("plan_import", str(plan), tenant="north", publish=True,
                 valid_from=year_start.isoformat(), stdout=io.StringIO())

    assignments = tmp_path / "assignments.csv"
    assignments.write_text("Email,Plan Code,Start Date,Target Incentive\n"
                           f"chloe@north.example,AE10,{year_start.isoformat()},50000\n"
                           f"dev@north.example,AE10,{year_start.isoformat()},50000\n",
                           encoding="utf-8")
    page.goto(base + tenant_reverse(tenant, "compensation:assignment-import"))
    page.locator('input[type="file"]').set_input_files(str(assignments))
    page.get_by_role("button", name="Preview").click()
    apply_import(page)

    page.goto(base + tenant_reverse(tenant, "compensation:run-list"))
    page.get_by_label("Period").select_option(label=str(month))
    page.get_by_role("button", name="Recalculate period").click()
    expect(page.get_by_role("alert")).to_contain_text(f"Recalculation of {month} queued")

    with tenant_context(tenant):
        chloe = Person.objects.get(employee_id="R1")
        credited = Credit.objects.filter(payee=chloe, period=month).aggregate(
            s=Sum("amount"))["s"]
        stored = LineItem.objects.filter(payee=chloe, period=month).count()
    assert credited == Decimal("52500.50")  # the won deals only, matched by accent-blind name
    page.goto(base + tenant_reverse(tenant, "compensation:statement", person_id=chloe.pk,
                                    period_id=month.pk))
    expect(page.get_by_role("heading", name="Commission statement")).to_be_visible()
    lines = page.locator("[data-lines] tbody tr")
    expect(lines).to_have_count(stored)
    shown = [money(row.locator("td").nth(5).inner_text()) for row in lines.all()]
    total = money(page.locator("[data-statement-total]").inner_text())
    assert stored == 2
    assert sum(shown, Decimal("0")) == total == Decimal("5250.05")  # 10% of 52,500.50
