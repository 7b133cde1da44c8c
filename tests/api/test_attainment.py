"""GET /api/v1/attainment/: the attainment selector's numbers over the API, for the key's own
workspace only, with a 400 or 404 (never a 500) for bad input and constant queries."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import schemathesis
import time_machine
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext

from quotas.selectors import attainment_by_person, attainment_window
from quotas.services import quota_allocate, quota_plan_apply, quota_plan_create
from spm.org.models import Period, Person
from spm.org.services import periods_generate
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Role
from spm.tenancy.urls import tenant_reverse
from spm.wsgi import application
from tests.factories import AccountFactory, DealFactory, PersonFactory, StageFactory
from tests.org.test_views import SalesOrg, build_sales_org

from .conftest import client_with

pytestmark = pytest.mark.django_db

D = datetime.date
URL = "/api/v1/attainment/"
MONEY = ["quota", "credited", "expected", "gap", "ytd_quota", "ytd_credited", "ytd_expected",
         "ytd_gap"]
RATIOS = ["attainment", "pace", "ytd_attainment", "ytd_pace"]
# Uneven months, so "expected" (what is due by as_of) follows the plan's seasonality.
SEASONALITY = "6, 7, 9, 7, 8, 9, 8, 8, 9, 8, 9, 12"


@pytest.fixture
def booked(tenant_a, make_member, admin_a) -> SalesOrg:
    """Acme's sales org with an applied FY2025 plan (equal split, 110%) and won deals in Q1."""
    org = build_sales_org(tenant_a, make_member)
    with tenant_context(tenant_a):
        Person.objects.filter(user__memberships__role__in=["admin", "finance"]).update(
            role="other")
        periods_generate(fiscal_years=[2024, 2025])
        plan = quota_plan_create(
            fiscal_year=2025, name="FY2025 quotas", target=Decimal("1000000.00"),
            over_assignment_percent=Decimal("110"), seasonality_percent=SEASONALITY,
        )
        quota_allocate(plan=plan, method="equal", actor=admin_a)
        quota_plan_apply(plan=plan, actor=admin_a)
        won = StageFactory(name="Closed won", order=9, is_won=True,
                           default_probability=Decimal(100), forecast_category="closed")
        lost = StageFactory(name="Closed lost", order=10, is_lost=True,
                            default_probability=Decimal(0), forecast_category="omitted")
        for owner, amount, close, stage in (
            (org.rep, "10000.00", D(2025, 1, 10), won),
            (org.rep, "5000.50", D(2025, 2, 20), won),
            (org.rep, "99999.00", D(2025, 2, 1), lost),
            (org.colleague, "3000.25", D(2025, 2, 1), won),
            (org.east_rep, "1000.00", D(2025, 1, 31), won),
            (org.rep, "777.00", D(2024, 12, 31), won),  # the year before
        ):
            DealFactory(owner=owner, amount=Decimal(amount), close_date=close, stage=stage,
                        account=AccountFactory())
    return org


def get(client, **params):
    response = client.get(URL, params)
    assert response["Content-Type"] == "application/json", response.content
    return response


def ok(client, **params) -> dict:
    response = get(client, **params)
    assert response.status_code == 200, response.content
    return response.json()


def assert_row_is(api_row: dict, row) -> None:
    """Every number of the API row is exactly the selector's (Decimal equality, no rounding)."""
    assert api_row["person_id"] == row.person_id
    assert api_row["name"] == row.name
    assert api_row["leads_team"] == row.leads_team
    for field in MONEY:
        assert Decimal(api_row[field]) == getattr(row, field), field
    for field in RATIOS:
        value = getattr(row, field)
        assert (None if api_row[field] is None else Decimal(api_row[field])) == value, field


# -- the same number everywhere ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "kind", "number", "as_of"),
    [
        ("FY2025-Q1", "quarter", 1, D(2025, 2, 14)),
        ("2025-02", "month", 2, D(2025, 2, 14)),
        ("2025-01", "month", 1, D(2025, 3, 31)),  # a month looked back on
        ("FY2025", "year", 1, D(2025, 5, 14)),
        ("FY2025-Q2", "quarter", 2, D(2025, 2, 14)),  # not begun: nothing due yet
    ],
)
def test_every_row_is_the_selectors_row_for_the_same_period_and_day(
    api_a, tenant_a, booked, key, kind, number, as_of
):
    body = ok(api_a, period=key, as_of=as_of.isoformat(), page_size=1000)
    with tenant_context(tenant_a):
        period = Period.objects.get(kind=kind, fiscal_year=2025, number=number)
        rows = attainment_by_person(period=period, as_of=as_of)
        window = attainment_window(period=period, as_of=as_of)
        employee_ids = dict(Person.objects.values_list("pk", "employee_id"))

    assert body["count"] == len(rows) == len(body["results"])
    assert rows, "the sales org has quotas, so the selector has rows"
    for api_row, row in zip(body["results"], rows, strict=True):
        assert_row_is(api_row, row)
        assert api_row["person"] == employee_ids[row.person_id]
    assert body["period"]["id"] == period.pk
    assert (body["period"]["kind"], body["period"]["label"]) == (kind, period.label)
    assert body["window"] == {
        "period_start": period.start_date.isoformat(),
        "period_end": period.end_date.isoformat(),
        "year_start": "2025-01-01", "year_end": "2026-01-01",
        "as_of": as_of.isoformat(), "elapsed": f"{window.elapsed:.4f}",
    }


@pytest.mark.smoke
def test_the_api_shows_a_rep_what_their_my_quota_page_shows(client, api_a, booked):
    client.force_login(booked.users[Role.REP])
    page = client.get(tenant_reverse(booked.tenant, "quotas:my"),
                      {"kind": "quarter", "on": "2025-02-14"})
    assert page.status_code == 200
    page_row = page.context["row"]

    body = ok(api_a, period="FY2025-Q1", as_of="2025-02-14", person=booked.rep.pk)

    [api_row] = body["results"]
    assert_row_is(api_row, page_row)
    # Against the deals themselves: the won deal closed by 14 February, not the lost one, not
    # the one after the day, not last year's.
    assert api_row["credited"] == "10000.00"
    assert Decimal(api_row["quota"]) > 0
    assert Decimal(api_row["attainment"]) == (
        Decimal("10000.00") / Decimal(api_row["quota"])
    ).quantize(Decimal("0.0001"))


def test_an_answer_with_rows_is_what_the_published_schema_promises(booked, key_a):
    # The fuzzing in test_schema.py rarely names a period that exists; this names one. The WSGI
    # application would close the test's transaction at each request, as test_schema.py says.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
        operation = schema["/api/v1/attainment/"]["GET"]
        for query in ({"period": "FY2025-Q1", "as_of": "2025-02-14"},
                      {"period": "2025-03", "as_of": "2025-12-31", "page_size": 2}):
            case = operation.Case(query=query)
            response = case.call_and_validate(headers={"Authorization": f"Bearer {key_a[1]}"})
            assert response.status_code == 200
            assert response.json()["results"]
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_money_and_ratios_are_exact_decimal_strings(api_a, booked):
    body = ok(api_a, period="FY2025-Q1", as_of="2025-03-31",
              employee_id=booked.colleague.employee_id)
    [row] = body["results"]
    assert row["credited"] == "3000.25"
    for field in MONEY:
        assert isinstance(row[field], str)
        assert len(row[field].partition(".")[2]) == 2, (field, row[field])
    for field in RATIOS:
        assert len(row[field].partition(".")[2]) == 4, (field, row[field])


def test_a_manager_is_credited_with_their_teams_bookings(api_a, booked):
    body = ok(api_a, period="FY2025-Q1", as_of="2025-03-31", person=booked.manager.pk)
    [row] = body["results"]
    assert row["leads_team"] is True
    assert row["credited"] == "18000.75"  # rep 10,000 + 5,000.50, colleague 3,000.25


# -- naming the period ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "canonical"),
    [
        ("FY2025", "FY2025"),
        ("fy2025", "FY2025"),
        ("FY2025-Q3", "FY2025-Q3"),
        ("fy2025-q3", "FY2025-Q3"),
        ("2025-07", "2025-07"),
    ],
)
def test_a_period_is_named_by_fiscal_year_quarter_or_calendar_month(
    api_a, tenant_a, booked, key, canonical
):
    body = ok(api_a, period=key, as_of="2025-08-01")
    assert body["period"]["key"] == canonical
    # The key an answer gives names the same period again, and so does its id.
    assert ok(api_a, period=canonical, as_of="2025-08-01")["period"] == body["period"]
    by_id = ok(api_a, period=str(body["period"]["id"]), as_of="2025-08-01")
    assert by_id["period"] == body["period"]


def test_a_calendar_month_key_follows_a_fiscal_year_that_starts_in_february(
    api_b, tenant_b
):
    tenant_b.fiscal_year_start_month = 2
    tenant_b.save()
    with tenant_context(tenant_b):
        periods_generate(fiscal_years=[2026])
    body = ok(api_b, period="2026-01", as_of="2026-01-15")
    # FY2026 runs from February 2025 to January 2026: January is its twelfth month.
    assert (body["period"]["fiscal_year"], body["period"]["number"]) == (2026, 12)
    assert body["window"]["year_start"] == "2025-02-01"
    assert ok(api_b, period="FY2026-Q1", as_of="2026-01-15")["window"]["period_start"] == (
        "2025-02-01"
    )


def test_without_a_period_it_is_the_fiscal_quarter_holding_as_of(api_a, booked):
    body = ok(api_a, as_of="2025-05-20")
    assert body["period"]["key"] == "FY2025-Q2"
    assert body["window"]["as_of"] == "2025-05-20"


@time_machine.travel(datetime.datetime(2025, 2, 14, 12, tzinfo=datetime.UTC), tick=False)
def test_without_as_of_it_is_today_as_on_the_my_quota_page(client, api_a, booked):
    client.force_login(booked.users[Role.REP])
    page_row = client.get(tenant_reverse(booked.tenant, "quotas:my")).context["row"]

    body = ok(api_a, person=booked.rep.pk)

    assert (body["period"]["key"], body["window"]["as_of"]) == ("FY2025-Q1", "2025-02-14")
    assert_row_is(body["results"][0], page_row)


def test_pages_cover_every_row_once(api_a, booked):
    everyone = ok(api_a, period="FY2025", as_of="2025-06-30")["results"]
    first = ok(api_a, period="FY2025", as_of="2025-06-30", page_size=2)
    second = get(api_a, period="FY2025", as_of="2025-06-30", page_size=2, page=2).json()
    assert first["count"] == second["count"] == len(everyone) > 2
    assert first["previous"] is None
    assert first["next"] is not None
    assert [r["person_id"] for r in first["results"] + second["results"]] == [
        r["person_id"] for r in everyone[:4]
    ]


# -- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "2025-13"}, "period"),
        ({"period": "Q1"}, "period"),
        ({"period": "FY2025 Q1"}, "period"),
        ({"period": ""}, "period"),
        ({"period": "FY2025-Q5"}, "period"),
        ({"as_of": "2025-02-30"}, "as_of"),
        ({"as_of": "14/02/2025"}, "as_of"),
        ({"as_of": "2025-2-3"}, "as_of"),
        ({"as_of": "20250203"}, "as_of"),
        ({"as_of": "9999-12-31"}, "as_of"),
        ({"as_of": ""}, "as_of"),
        ({"person": "abc"}, "person"),
        ({"person": "0"}, "person"),
        ({"person": str(2**63)}, "person"),
        ({"employee_id": ""}, "employee_id"),
        ({"employee_id": "x" * 65}, "employee_id"),
        ({"owner": "1"}, "owner"),
        ({"page_size": "0"}, "page_size"),
    ],
)
def test_malformed_parameters_are_a_400_naming_them(api_a, booked, params, field):
    response = get(api_a, **{"period": "FY2025", "as_of": "2025-02-14", **params})
    assert response.status_code == 400, response.content
    assert list(response.json()) == [field]


@pytest.mark.parametrize(
    "params",
    [
        {"period": "FY2031"},
        {"period": "FY0000"},
        {"period": "0000-01"},
        {"period": "2031-01"},
        {"period": "987654321"},
        {"person": "987654321"},
        {"employee_id": "nobody"},
        {"as_of": "2031-06-01"},  # no fiscal quarter holds it, and no period was named
        {"period": "FY2025", "page": "99"},
    ],
)
def test_what_does_not_exist_is_a_json_404(api_a, booked, params):
    response = get(api_a, **params)
    assert response.status_code == 404, response.content
    assert set(response.json()) == {"detail"}


def test_person_and_employee_id_together_must_name_the_same_person(api_a, booked):
    rep, colleague = booked.rep, booked.colleague
    same = ok(api_a, period="FY2025", as_of="2025-02-14", person=rep.pk,
              employee_id=rep.employee_id)
    assert [r["person_id"] for r in same["results"]] == [rep.pk]
    response = get(api_a, period="FY2025", person=rep.pk, employee_id=colleague.employee_id)
    assert response.status_code == 404


def test_a_person_with_neither_quota_nor_credits_has_no_row(api_a, tenant_a, booked):
    with tenant_context(tenant_a):
        idle = PersonFactory(name="Ida Idle")
    body = ok(api_a, period="FY2025", as_of="2025-02-14", person=idle.pk)
    assert (body["count"], body["results"]) == (0, [])


def test_without_a_key_it_is_a_401(booked):
    assert get(client_with(None), period="FY2025").status_code == 401
    assert get(client_with("spm_0123456789ab_wrong"), period="FY2025").status_code == 401


# -- tenants -------------------------------------------------------------------------------------


@pytest.fixture
def globex_year(tenant_b, world_b) -> dict:
    """Globex has its own FY2025 calendar and a won deal in Q1, but no quota plan."""
    with tenant_context(tenant_b):
        periods_generate(fiscal_years=[2025])
        DealFactory(owner=world_b["alice"], stage=world_b["stages"]["Closed Won"],
                    amount=Decimal("4242.00"), close_date=D(2025, 2, 2),
                    account=world_b["account"])
    return world_b


@pytest.mark.smoke
def test_a_key_of_b_never_sees_as_people(api_b, tenant_a, booked, globex_year):
    body = ok(api_b, period="FY2025", as_of="2025-06-30", page_size=1000)
    with tenant_context(tenant_a):
        acme_ids = set(Person.objects.values_list("pk", flat=True))
    assert [r["person"] for r in body["results"]] == ["B-E1"]
    assert body["results"][0]["credited"] == "4242.00"
    assert not acme_ids & {r["person_id"] for r in body["results"]}
    assert "Ray Rep" not in str(body)


def test_another_workspaces_person_is_exactly_as_unknown_as_a_missing_one(
    api_a, api_b, booked, globex_year
):
    alice_b = globex_year["alice"]
    # B's own key reads her, so the 404s below are about tenancy alone.
    assert ok(api_b, period="FY2025", as_of="2025-06-30", person=alice_b.pk)["count"] == 1

    theirs = get(api_a, period="FY2025", person=alice_b.pk)
    missing = get(api_a, period="FY2025", person=987654321)
    by_employee_id = get(api_a, period="FY2025", employee_id="B-E1")
    assert theirs.status_code == missing.status_code == by_employee_id.status_code == 404
    assert theirs.json() == missing.json() == by_employee_id.json()
    assert get(api_b, period="FY2025", person=booked.rep.pk).status_code == 404


def test_another_workspaces_period_id_is_a_404(api_b, tenant_a, booked, globex_year):
    with tenant_context(tenant_a):
        acme_q1 = Period.objects.get(kind="quarter", fiscal_year=2025, number=1)
    response = get(api_b, period=str(acme_q1.pk), as_of="2025-02-14")
    assert response.status_code == 404


# -- cost ----------------------------------------------------------------------------------------


def test_the_query_count_does_not_grow_with_the_number_of_people(
    api_a, tenant_a, booked, django_assert_max_num_queries
):
    params = {"period": "FY2025-Q1", "as_of": "2025-03-31", "page_size": 1000}
    with CaptureQueriesContext(connection) as few:
        small = ok(api_a, **params)
    with tenant_context(tenant_a):
        won = StageFactory(name="Won again", order=11, is_won=True,
                           default_probability=Decimal(100), forecast_category="closed")
        for n in range(25):
            DealFactory(owner=PersonFactory(name=f"Seller {n:02d}"), stage=won,
                        amount=Decimal("100.00"), close_date=D(2025, 2, 3))
    with django_assert_max_num_queries(len(few.captured_queries)):
        large = ok(api_a, **params)
    assert large["count"] == small["count"] + 25
