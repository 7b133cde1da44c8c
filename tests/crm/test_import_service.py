"""Import services: a preview lists every problem and writes nothing; applying writes every row or
none, re-importing changes nothing, and a stage change in a re-import lands in the history."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest

from spm.crm.imports.service import import_apply, import_check, import_file, import_preview
from spm.crm.models import (
    Account,
    Activity,
    Deal,
    DealStageHistory,
    ImportBatch,
    ImportStatus,
    Lead,
    Stage,
)
from spm.org.models import Person
from spm.tenancy.context import tenant_context
from tests.factories import AccountFactory, PersonFactory, StageFactory

pytestmark = pytest.mark.django_db

SALESFORCE_HEADER = [
    "Opportunity ID", "Opportunity Name", "Account ID", "Amount", "Close Date", "Stage",
    "Opportunity Owner", "Type", "Product Family", "Created Date", "Lost Reason",
    "Forecast Category",
]


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def deals_file(*rows: list[str]) -> bytes:
    return csv_bytes([SALESFORCE_HEADER, *rows])


GOOD_ROWS = [
    ["006A", "Initech renewal", "ACC-1", "$12,500.00", "3/31/2026", "Prospecting", "Ana Silva",
     "Renewal", "Platform", "1/5/2026", "", "Pipeline"],
    ["006B", "Globex expansion", "ACC-2", "1,234.50", "4/15/2026", "negotiation",
     "BEN@example.com", "Existing Business", "Services", "2/1/2026", "", ""],
    ["006C", "Lost one", "ACC-1", "900", "2026-02-28", "Closed Lost", "E100", "New Business",
     "Platform", "2026-01-10", "Price", "Omitted"],
]


@pytest.fixture
def world(tenant_a):
    with tenant_context(tenant_a):
        stages = {
            name: StageFactory(name=name, order=order, default_probability=Decimal(p),
                               is_won=won, is_lost=lost,
                               forecast_category="closed" if won else "pipeline")
            for name, order, p, won, lost in [
                ("Prospecting", 1, "10", False, False),
                ("Negotiation", 2, "60", False, False),
                ("Closed Won", 3, "100", True, False),
                ("Closed Lost", 4, "0", False, True),
            ]
        }
        ana = PersonFactory(employee_id="E100", name="Ana Silva", email="ana@example.com")
        ben = PersonFactory(employee_id="E200", name="Ben Ode", email="ben@example.com")
        AccountFactory(external_id="ACC-1", name="Initech")
        AccountFactory(external_id="ACC-2", name="Globex")
    return {"stages": stages, "ana": ana, "ben": ben}


def problems(check_or_batch) -> set[tuple[int, str, str]]:
    report = getattr(check_or_batch, "error_report", None)
    if report is None:
        report = [e.as_dict() for e in check_or_batch.errors]
    return {(e["row"], e["column"], e["reason"]) for e in report}


def test_a_salesforce_opportunity_export_is_read_field_by_field(tenant_a, world):
    with tenant_context(tenant_a):
        check = import_check(kind="deals", content=deals_file(*GOOD_ROWS), file_name="opps.csv")
        rows = check.upsert_rows()
    assert check.errors == []
    first, second, third = rows
    assert first["amount"] == Decimal("12500.00")
    assert first["close_date"] == datetime.date(2026, 3, 31)
    assert first["owner_id"] == world["ana"].pk
    assert first["deal_type"] == "renewal"
    assert first["stage_id"] == world["stages"]["Prospecting"].pk
    assert second["owner_id"] == world["ben"].pk  # by email, whatever its case
    assert second["stage_id"] == world["stages"]["Negotiation"].pk  # by name, whatever its case
    assert second["deal_type"] == "expansion"
    assert "forecast_category" not in second  # empty: the stage's default applies
    assert third["owner_id"] == world["ana"].pk  # by employee id
    assert third["lost_reason"] == "Price"


@pytest.mark.smoke
def test_the_preview_names_every_problem_by_row_column_and_reason(tenant_a, world):
    rows = [
        GOOD_ROWS[0],
        ["006D", "", "ACC-1", "100", "31/31/2026", "Prospecting", "E100", "", "", "", "", ""],
        ["006E", "", "ACC-1", "100", "2026-03-01", "Prospecting", "nobody@example.com", "", "",
         "", "", ""],
        ["006F", "", "ACC-1", "-250", "2026-03-01", "Prospecting", "E100", "", "", "", "", ""],
        ["006G", "", "ACC-1", "100", "2026-03-01", "Signed", "E100", "", "", "", "", ""],
        ["006A", "", "ACC-1", "100", "2026-03-01", "Prospecting", "E100", "", "", "", "", ""],
        ["006H", "", "ACC-1", "12 apples", "2026-03-01", "Prospecting", "E100", "", "", "", "",
         ""],
        ["006I", "", "ACC-1", "10.125", "2026-03-01", "Prospecting", "E100", "", "", "", "", ""],
        ["006J", "", "ACC-9", "10", "2026-03-01", "Prospecting", "E100", "", "", "", "", ""],
    ]
    with tenant_context(tenant_a):
        batch = import_preview(kind="deals", content=deals_file(*rows), file_name="opps.csv")
        assert Deal.objects.count() == 0
    found = problems(batch)
    assert batch.status == ImportStatus.FAILED
    assert batch.row_count == 9
    assert {(row, column) for row, column, _ in found} == {
        (3, "Close Date"), (4, "Opportunity Owner"), (5, "Amount"), (6, "Stage"),
        (7, "Opportunity ID"), (8, "Amount"), (9, "Amount"), (10, "Account ID"),
    }
    reasons = {(row, column): reason for row, column, reason in found}
    assert "'31/31/2026' is not a date (use YYYY-MM-DD" in reasons[3, "Close Date"]
    assert "unknown person" in reasons[4, "Opportunity Owner"]
    assert reasons[5, "Amount"] == "cannot be negative"
    assert "unknown stage 'Signed'" in reasons[6, "Stage"]
    assert "Prospecting, Negotiation, Closed Won, Closed Lost" in reasons[6, "Stage"]
    assert reasons[7, "Opportunity ID"] == (
        "'006A' appears more than once in the file (first in row 2)"
    )
    assert reasons[8, "Amount"] == "'12 apples' is not a number"
    assert reasons[9, "Amount"] == "'10.125' has more than 2 decimal places"
    assert "unknown account" in reasons[10, "Account ID"]


def test_a_missing_required_column_is_reported_against_the_header_row(tenant_a, world):
    header = [h for h in SALESFORCE_HEADER if h != "Close Date"]
    row = [v for h, v in zip(SALESFORCE_HEADER, GOOD_ROWS[0], strict=True) if h != "Close Date"]
    with tenant_context(tenant_a):
        check = import_check(kind="deals", content=csv_bytes([header, row]), file_name="x.csv")
    [(row_number, column, reason)] = problems(check)
    assert (row_number, column) == (1, "Close date")
    assert reason.startswith("required column is missing (name it one of 'Close Date'")


def test_a_clean_preview_writes_nothing_but_says_what_applying_will_do(tenant_a, world):
    with tenant_context(tenant_a):
        batch = import_preview(kind="deals", content=deals_file(*GOOD_ROWS), file_name="o.csv")
        assert Deal.objects.count() == 0
        assert DealStageHistory.objects.count() == 0
    assert batch.status == ImportStatus.PREVIEWED
    # New deals are creations: their first stage is recorded but is not a stage change.
    assert batch.preview["plan"] == {"created": 3, "updated": 0, "unchanged": 0,
                                     "stage_changes": 0}
    assert [r["row"] for r in batch.preview["rows"]] == [2, 3, 4]
    amount = batch.preview["headers"].index("Amount")
    assert batch.preview["rows"][0]["cells"][amount] == ["12500.00", False]


@pytest.mark.smoke
def test_applying_twice_the_same_file_changes_nothing_the_second_time(tenant_a, world, admin_a):
    content = deals_file(*GOOD_ROWS)
    with tenant_context(tenant_a):
        first = import_apply(
            batch=import_preview(kind="deals", content=content, file_name="o.csv"), actor=admin_a
        )
        second = import_apply(
            batch=import_preview(kind="deals", content=content, file_name="o.csv"), actor=admin_a
        )
        assert Deal.objects.count() == 3
        assert DealStageHistory.objects.count() == 3
    assert (first.status, first.created_count, first.updated_count) == ("applied", 3, 0)
    assert (second.created_count, second.updated_count, second.unchanged_count) == (0, 0, 3)
    assert first.content == b""  # the file is not kept once its rows are in


def test_a_stage_change_in_a_reimport_is_recorded_in_the_stage_history(tenant_a, world):
    with tenant_context(tenant_a):
        import_file(kind="deals", content=deals_file(*GOOD_ROWS), file_name="o.csv")
        moved = [list(GOOD_ROWS[0]), *GOOD_ROWS[1:]]
        moved[0][5] = "Closed Won"
        outcome = import_file(kind="deals", content=deals_file(*moved), file_name="o.csv")
        deal = Deal.objects.get(external_id="006A")
        history = list(deal.stage_history.values_list("from_stage__name", "to_stage__name"))
    assert (outcome.result.updated, outcome.result.unchanged) == (1, 2)
    assert outcome.result.stage_changes == 1
    assert deal.status == "won"
    assert history == [(None, "Prospecting"), ("Prospecting", "Closed Won")]


def test_apply_checks_the_file_again_and_writes_nothing_when_it_no_longer_fits(tenant_a, world):
    with tenant_context(tenant_a):
        batch = import_preview(kind="deals", content=deals_file(*GOOD_ROWS), file_name="o.csv")
        Stage.objects.filter(name="Negotiation").update(name="Proposal")
        batch = import_apply(batch=batch)
        assert Deal.objects.count() == 0
    assert batch.status == ImportStatus.FAILED
    assert {(r, c) for r, c, _ in problems(batch)} == {(3, "Stage")}


def test_a_batch_is_applied_at_most_once(tenant_a, world):
    from django.core.exceptions import ValidationError

    with tenant_context(tenant_a):
        batch = import_preview(kind="deals", content=deals_file(*GOOD_ROWS), file_name="o.csv")
        import_apply(batch=batch)
        with pytest.raises(ValidationError, match="applied already"):
            import_apply(batch=batch)
        assert Deal.objects.count() == 3


def test_an_ambiguous_owner_name_asks_for_an_employee_id_or_email(tenant_a, world):
    with tenant_context(tenant_a):
        PersonFactory(employee_id="E300", name="ana silva", email="other.ana@example.com")
        check = import_check(kind="deals", content=deals_file(GOOD_ROWS[0]), file_name="o.csv")
    [(row, column, reason)] = problems(check)
    assert (row, column) == (2, "Opportunity Owner")
    assert reason == "'Ana Silva' is the name of several people; use their employee ID or email"


def test_another_tenants_people_accounts_and_stages_are_unknown(tenant_a, tenant_b, world):
    with tenant_context(tenant_b):
        StageFactory(name="Discovery", order=1)
        PersonFactory(employee_id="B-1", name="Bea", email="bea@globex.example")
        AccountFactory(external_id="B-ACC")
    row = ["X1", "", "B-ACC", "10", "2026-03-01", "Discovery", "B-1", "", "", "", "", ""]
    with tenant_context(tenant_a):
        check = import_check(kind="deals", content=deals_file(row), file_name="o.csv")
    assert {c for _, c, _ in problems(check)} == {"Account ID", "Stage", "Opportunity Owner"}


def test_people_import_upserts_by_employee_id_and_checks_dates(tenant_a, world):
    content = csv_bytes([
        ["Employee ID", "Full Name", "Email Address", "Job Title", "Role", "Hire Date",
         "Termination Date"],
        ["E100", "Ana Silva-Lopez", "ana@example.com", "AE", "Account Executive", "2024-01-01",
         ""],
        ["E400", "Cy Young", "cy@example.com", "SDR", "BDR", "01.03.2025", ""],
        ["E500", "Di Late", "di@example.com", "", "rep", "2025-06-01", "2025-05-01"],
    ])
    with tenant_context(tenant_a):
        check = import_check(kind="people", content=content, file_name="people.csv")
        assert problems(check) == {(4, "Termination Date", "is before the hire date")}
        outcome = import_file(kind="people", content=content.rsplit(b"\r\n", 2)[0] + b"\r\n",
                              file_name="people.csv")
        cy = Person.objects.get(employee_id="E400")
        ana = Person.objects.get(employee_id="E100")
        ana_versions = ana.history.count()
    assert (outcome.result.created, outcome.result.updated) == (1, 1)
    assert (cy.role, cy.hire_date) == ("sdr", datetime.date(2025, 3, 1))
    assert ana.name == "Ana Silva-Lopez"
    assert ana_versions == 2  # created by the factory, changed by the import


def test_accounts_import_reads_country_names_and_numbers(tenant_a, world):
    content = csv_bytes([
        ["Account ID", "Account Name", "Industry", "Billing Country", "Number of Employees",
         "Annual Revenue", "Segment"],
        ["ACC-1", "Initech", "Software", "United States", "1,200", "$5,000,000", "Mid-Market"],
        ["ACC-3", "Hooli", "Internet", "de", "", "", "Enterprise"],
        ["ACC-4", "Nowhere", "", "Atlantis", "many", "", "Huge"],
    ])
    with tenant_context(tenant_a):
        check = import_check(kind="accounts", content=content, file_name="accounts.csv")
        assert {(r, c) for r, c, _ in problems(check)} == {
            (4, "Billing Country"), (4, "Number of Employees"), (4, "Segment"),
        }
        assert (4, "Segment", "'Huge' is not a known segment (use SMB, Mid-market, "
                "Enterprise)") in problems(check)
        import_file(kind="accounts", content=content.rsplit(b"\r\n", 2)[0] + b"\r\n",
                    file_name="accounts.csv")
        initech = Account.objects.get(external_id="ACC-1")
        hooli = Account.objects.get(external_id="ACC-3")
    assert (initech.country, initech.employees, initech.segment) == ("US", 1200, "mid_market")
    assert initech.annual_revenue == Decimal("5000000.00")
    assert (hooli.country, hooli.employees, hooli.segment) == ("DE", None, "enterprise")


def test_leads_and_activities_refer_to_what_was_imported_before(tenant_a, world):
    with tenant_context(tenant_a):
        import_file(kind="deals", content=deals_file(*GOOD_ROWS), file_name="o.csv")
        leads = csv_bytes([
            ["Lead ID", "Lead Source", "Lead Status", "Lead Owner", "Created Date",
             "First Response Date", "Converted Opportunity ID"],
            ["L1", "Web", "Closed - Converted", "E100", "2026-01-02 09:00", "2026-01-02 09:30",
             "006A"],
            ["L2", "Event", "Open - Not Contacted", "ben@example.com", "2026-01-03 10:00",
             "2026-01-03 08:00", ""],
        ])
        check = import_check(kind="leads", content=leads, file_name="leads.csv")
        assert problems(check) == {(3, "First Response Date", "is before the lead was created")}
        import_file(kind="leads", content=leads.rsplit(b"\r\n", 2)[0] + b"\r\n",
                    file_name="leads.csv")
        activities = csv_bytes([
            ["Activity ID", "Activity Type", "Assigned To", "Opportunity ID", "Lead ID", "Date"],
            ["A1", "Call", "Ana Silva", "006A", "L1", "2026-01-05 14:00"],
            ["A2", "Event", "E200", "006B", "", "2026-01-06"],
            ["A3", "Smoke signal", "E200", "006Z", "", "2026-01-06"],
        ])
        check = import_check(kind="activities", content=activities, file_name="acts.csv")
        assert {(r, c) for r, c, _ in problems(check)} == {(4, "Activity Type"),
                                                          (4, "Opportunity ID")}
        import_file(kind="activities", content=activities.rsplit(b"\r\n", 2)[0] + b"\r\n",
                    file_name="acts.csv")
        lead = Lead.objects.select_related("converted_deal").get(external_id="L1")
        call = Activity.objects.select_related("deal").get(external_id="A1")
        meeting = Activity.objects.get(external_id="A2")
    assert lead.status == "converted"
    assert lead.converted_deal.external_id == "006A"
    # Times without an offset are the tenant's local time (UTC for this tenant).
    assert lead.first_response_at == datetime.datetime(2026, 1, 2, 9, 30, tzinfo=datetime.UTC)
    assert (call.kind, call.person_id, call.deal.external_id) == ("call", world["ana"].pk, "006A")
    assert meeting.kind == "meeting"


def test_times_without_an_offset_are_read_in_the_tenants_time_zone(tenant_a, world):
    tenant_a.timezone = "America/New_York"
    tenant_a.save()
    leads = csv_bytes([
        ["Lead ID", "Created Date", "First Response Date"],
        ["L1", "2026-01-02 09:00", "2026-01-02T15:00:00Z"],
    ])
    with tenant_context(tenant_a):
        import_file(kind="leads", content=leads, file_name="leads.csv")
        lead = Lead.objects.get(external_id="L1")
    assert lead.created_at == datetime.datetime(2026, 1, 2, 14, 0, tzinfo=datetime.UTC)
    assert lead.first_response_at == datetime.datetime(2026, 1, 2, 15, 0, tzinfo=datetime.UTC)


def test_a_file_with_problems_writes_nothing_and_keeps_no_batch(tenant_a, world):
    bad = [*GOOD_ROWS, ["006Z", "", "ACC-1", "-1", "2026-03-01", "Prospecting", "E100", "", "",
                        "", "", ""]]
    with tenant_context(tenant_a):
        outcome = import_file(kind="deals", content=deals_file(*bad), file_name="o.csv")
        assert Deal.objects.count() == 0
        assert ImportBatch.objects.count() == 0
    assert outcome.result is None
    assert [(e.row, e.column) for e in outcome.check.errors] == [(5, "Amount")]


def run_apply_task(tenant, batch, actor=None):
    from spm.crm.imports.tasks import import_apply_task

    return import_apply_task.apply(
        kwargs={"batch_id": batch.pk, "actor_id": actor.pk if actor else None,
                "tenant_id": tenant.pk},
        throw=True,
    ).result


def test_the_worker_writes_a_confirmed_batch_and_credits_who_confirmed_it(tenant_a, world,
                                                                          admin_a):
    with tenant_context(tenant_a):
        batch = import_preview(kind="deals", content=deals_file(*GOOD_ROWS), file_name="o.csv")
        ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.APPLYING)
    assert run_apply_task(tenant_a, batch, admin_a) == ImportStatus.APPLIED
    with tenant_context(tenant_a):
        assert Deal.objects.count() == 3
        changed_by = set(DealStageHistory.objects.values_list("changed_by", flat=True))
    assert changed_by == {admin_a.pk}


def test_the_worker_leaves_a_batch_that_was_not_confirmed_alone(tenant_a, world):
    with tenant_context(tenant_a):
        batch = import_preview(kind="deals", content=deals_file(*GOOD_ROWS), file_name="o.csv")
    assert run_apply_task(tenant_a, batch) is None
    with tenant_context(tenant_a):
        assert ImportBatch.objects.get().status == ImportStatus.PREVIEWED
        assert Deal.objects.count() == 0


def test_an_unexpected_error_in_the_worker_fails_the_batch_and_writes_nothing(
    tenant_a, world, monkeypatch
):
    with tenant_context(tenant_a):
        batch = import_preview(kind="deals", content=deals_file(*GOOD_ROWS), file_name="o.csv")
        ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.APPLYING)

    def half_then_crash(*, rows, actor=None):
        from spm.crm.services import deals_upsert

        deals_upsert(rows=rows[:1], actor=actor)
        raise RuntimeError("bug")

    monkeypatch.setattr("spm.crm.imports.service.upsert_for", lambda kind: half_then_crash)
    assert run_apply_task(tenant_a, batch) == ImportStatus.FAILED
    with tenant_context(tenant_a):
        batch.refresh_from_db()
        assert Deal.objects.count() == 0
    assert batch.error_report[-1]["reason"].startswith("The import stopped on an unexpected error")


def test_a_big_file_is_checked_in_full_but_its_write_is_not_rehearsed(tenant_a, world,
                                                                       monkeypatch):
    monkeypatch.setattr("spm.crm.imports.service.REHEARSAL_MAX_ROWS", 2)
    with tenant_context(tenant_a):
        batch = import_preview(kind="deals", content=deals_file(*GOOD_ROWS), file_name="o.csv")
        assert DealStageHistory.objects.count() == 0
    assert batch.status == ImportStatus.PREVIEWED
    assert "plan" not in batch.preview
    assert batch.row_count == 3
