"""Deal and account files as CRMs export them: Salesforce reports that name the account, HubSpot
exports with internal stage ids and 'Associated Company', Pipedrive's won/lost status, names in
any case and accent, and a tenant's stage mappings that always win over the built-in ones."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import openpyxl
import pytest

from spm.crm.imports.options import ImportOptions
from spm.crm.imports.service import import_apply, import_check, import_file, import_preview
from spm.crm.models import Account, Deal, DealStageHistory, ImportStatus, StageMapping
from spm.crm.services import stage_mappings_set
from spm.tenancy.context import tenant_context
from tests.factories import AccountFactory, PersonFactory, StageFactory

pytestmark = pytest.mark.django_db

# A Salesforce "Opportunities with ..." report exported as CSV ("Details only"): the account is
# named, not identified, and the opportunity id is a column added to the report.
SALESFORCE_REPORT_HEADER = [
    "Opportunity Owner", "Account Name", "Opportunity Name", "Stage", "Fiscal Period", "Amount",
    "Probability (%)", "Age", "Close Date", "Created Date", "Next Step", "Lead Source", "Type",
    "Opportunity ID",
]
# HubSpot's deal export: internal stage ids, the owner's name, the company by name.
HUBSPOT_HEADER = [
    "Record ID", "Deal Name", "Deal Stage", "Close Date", "Deal owner", "Amount",
    "Associated Company", "Pipeline", "Create Date", "Deal Type", "Last Activity Date",
]
HUBSPOT_ROWS = [
    ["9823410001", "Initech - Platform", "appointmentscheduled", "2026-04-30 00:00",
     "Chloe Okafor", "12000", "Initech", "Sales Pipeline", "2026-01-12 09:14", "newbusiness", ""],
    ["9823410002", "Globex - Expansion", "qualifiedtobuy", "2026-05-31 00:00", "Tomas Garcia",
     "8500.5", "Globex Corporation", "Sales Pipeline", "2026-01-20 16:02", "existingbusiness",
     ""],
    ["9823410003", "Hooli renewal", "contractsent", "2026-03-31 00:00", "Chloe Okafor",
     "30000", "Hooli", "Sales Pipeline", "2025-12-01 11:00", "", ""],
    ["9823410004", "Umbrella", "closedwon", "2026-02-27 00:00", "Tomas Garcia", "4200",
     "Umbrella Corp", "Sales Pipeline", "2025-11-03 08:30", "newbusiness", ""],
    ["9823410005", "Stark", "closedlost", "2026-02-13 00:00", "Chloe Okafor", "15000",
     "Stark Industries", "Sales Pipeline", "2025-10-21 10:45", "newbusiness", ""],
]


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def hubspot(*rows: list[str]) -> bytes:
    return csv_bytes([HUBSPOT_HEADER, *(rows or HUBSPOT_ROWS)])


def problems(check) -> set[tuple[int, str, str]]:
    return {(e.row, e.column, e.reason) for e in check.errors}


def stages(*names_and_kinds: tuple[str, str]) -> dict:
    made = {}
    for order, (name, kind) in enumerate(names_and_kinds, start=1):
        made[name] = StageFactory(name=name, order=order, default_probability=Decimal("10"),
                                  is_won=kind == "won", is_lost=kind == "lost")
    return made


HUBSPOT_DEFAULT_STAGES = [
    ("Appointment Scheduled", "open"), ("Qualified To Buy", "open"),
    ("Presentation Scheduled", "open"), ("Decision Maker Bought-In", "open"),
    ("Contract Sent", "open"), ("Closed Won", "won"), ("Closed Lost", "lost"),
]


@pytest.fixture
def sellers(tenant_a):
    with tenant_context(tenant_a):
        return {
            "chloe": PersonFactory(employee_id="E1", name="Chloé Okafor",
                                   email="chloe@acme.example"),
            "tomas": PersonFactory(employee_id="E2", name="Tomás García",
                                   email="tomas@acme.example"),
        }


@pytest.fixture
def companies(tenant_a):
    with tenant_context(tenant_a):
        return {
            name: AccountFactory(external_id=f"HS-{i}", name=name)
            for i, name in enumerate(["Initech", "Globex Corporation", "Hooli", "Umbrella Corp",
                                      "Stark Industries"])
        }


# -- HubSpot --------------------------------------------------------------------------------------


@pytest.mark.smoke
def test_a_hubspot_export_with_internal_stage_ids_and_company_names_is_imported(
    tenant_a, sellers, companies
):
    with tenant_context(tenant_a):
        made = stages(*HUBSPOT_DEFAULT_STAGES)
        outcome = import_file(kind="deals", content=hubspot(), file_name="hubspot-deals.csv")
        assert outcome.check.errors == []
        deals = {d.external_id: d for d in Deal.objects.select_related("stage", "account")}
    assert outcome.result.created == 5
    assert deals["9823410003"].stage == made["Contract Sent"]
    assert deals["9823410004"].status == "won"
    assert deals["9823410005"].status == "lost"
    assert deals["9823410002"].account == companies["Globex Corporation"]
    assert deals["9823410001"].owner_id == sellers["chloe"].pk  # "Chloe Okafor" is Chloé
    assert deals["9823410002"].owner_id == sellers["tomas"].pk
    assert deals["9823410002"].amount == Decimal("8500.50")
    assert deals["9823410002"].deal_type == "expansion"


def test_hubspot_won_and_lost_ids_find_the_tenants_one_won_and_lost_stage(tenant_a, sellers,
                                                                           companies):
    with tenant_context(tenant_a):
        made = stages(("Discovery", "open"), ("Booked", "won"), ("Dead", "lost"))
        check = import_check(kind="deals", content=hubspot(*HUBSPOT_ROWS[3:]), file_name="h.csv")
        rows = check.upsert_rows()
    assert check.errors == []
    assert [r["stage_id"] for r in rows] == [made["Booked"].pk, made["Dead"].pk]


def test_an_open_hubspot_id_no_stage_fits_asks_for_a_mapping_naming_row_and_column(
    tenant_a, sellers, companies
):
    with tenant_context(tenant_a):
        stages(("Discovery", "open"), ("Negotiation", "open"), ("Booked", "won"),
               ("Dead", "lost"))
        batch = import_preview(kind="deals", content=hubspot(), file_name="h.csv")
        assert Deal.objects.count() == 0
    found = {(e["row"], e["column"]): e["reason"] for e in batch.error_report}
    assert set(found) == {(2, "Deal Stage"), (3, "Deal Stage"), (4, "Deal Stage")}
    assert found[4, "Deal Stage"] == (
        "unknown stage 'contractsent' (the stages are: Discovery, Negotiation, Booked, Dead). "
        "Map it to one of them on the import preview or with import_crm --stage-map, or add the "
        "stage in the admin (CRM > Stages)"
    )
    assert batch.status == ImportStatus.FAILED
    assert batch.preview["unknown_stages"] == [
        {"value": "appointmentscheduled", "rows": 1}, {"value": "contractsent", "rows": 1},
        {"value": "qualifiedtobuy", "rows": 1},
    ]
    assert bytes(batch.content)  # kept, so the preview can check it again once mapped


def test_a_mapping_is_remembered_and_wins_over_the_built_in_reading(tenant_a, sellers,
                                                                    companies):
    with tenant_context(tenant_a):
        made = stages(("Discovery", "open"), ("Negotiation", "open"), ("Closed Won", "won"),
                      ("Closed Lost", "lost"), ("Verbal", "open"))
        stage_mappings_set(mappings=[
            ("appointmentscheduled", made["Discovery"]), ("Qualified to buy", made["Discovery"]),
            ("contractsent", made["Negotiation"]), ("CLOSEDWON", made["Verbal"]),
        ])
        rows = import_check(kind="deals", content=hubspot(), file_name="h.csv").upsert_rows()
    by_id = {r["external_id"]: r["stage_id"] for r in rows}
    assert by_id["9823410003"] == made["Negotiation"].pk
    assert by_id["9823410004"] == made["Verbal"].pk  # the tenant's mapping, not "Closed Won"
    assert by_id["9823410005"] == made["Closed Lost"].pk  # built-in reading, no mapping


def test_a_hubspot_workbook_is_read_like_its_csv(tenant_a, sellers, companies):
    book = openpyxl.Workbook()
    for row in [HUBSPOT_HEADER, *HUBSPOT_ROWS]:
        book.active.append([
            datetime.datetime.fromisoformat(v) if v[:2] == "20" and ":" in v else v for v in row
        ])
    out = io.BytesIO()
    book.save(out)
    with tenant_context(tenant_a):
        stages(*HUBSPOT_DEFAULT_STAGES)
        check = import_check(kind="deals", content=out.getvalue(), file_name="hubspot.xlsx")
        rows = check.upsert_rows()
    assert check.errors == []
    assert rows[0]["close_date"] == datetime.date(2026, 4, 30)


def test_a_deal_listing_several_companies_is_refused_with_the_column_to_use(
    tenant_a, sellers, companies
):
    row = list(HUBSPOT_ROWS[0])
    row[6] = "Initech;Hooli"
    with tenant_context(tenant_a):
        stages(*HUBSPOT_DEFAULT_STAGES)
        check = import_check(kind="deals", content=hubspot(row), file_name="h.csv")
    assert problems(check) == {
        (2, "Associated Company", "'Initech;Hooli' names 2 companies, and a deal belongs to one "
         "account: export only the primary company (HubSpot: 'Associated Company (Primary)')"),
    }


# -- Salesforce reports that name the account ----------------------------------------------------


SF_ROWS = [
    ["Chloé Okafor", "INITECH", "Initech - Renewal", "Closed Won", "Q1-2026", "$12,500.00",
     "100", "85", "3/31/2026", "1/5/2026", "", "Web", "Existing Customer - Replacement",
     "0065e00000Abc01AAA"],
    ["Tomás García", "Globex Corporation", "Globex - New", "Negotiation/Review", "Q2-2026",
     "$8,000.00", "90", "30", "4/15/2026", "2/1/2026", "Send contract", "Partner",
     "New Customer", "0065e00000Abc02AAA"],
]


def salesforce(*rows: list[str]) -> bytes:
    """The report as Salesforce exports it, footer lines included."""
    rows = list(rows or SF_ROWS)
    footer = [[], [f"Grand Totals ({len(rows)} records)"], [""], [""],
              ["Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."],
              ["Confidential Information - Do Not Distribute"],
              ["Generated By:  Margaret Hale  3/1/2026 9:14 AM"], ["Acme Corp"]]
    return csv_bytes([SALESFORCE_REPORT_HEADER, *rows, *footer])


def sf_stages() -> dict:
    return stages(("Prospecting", "open"), ("Negotiation/Review", "open"),
                  ("Closed Won", "won"), ("Closed Lost", "lost"))


@pytest.mark.smoke
def test_a_salesforce_report_with_only_account_names_finds_each_account(tenant_a, sellers,
                                                                        companies):
    with tenant_context(tenant_a):
        sf_stages()
        outcome = import_file(kind="deals", content=salesforce(), file_name="report.csv")
        assert outcome.check.errors == []
        deals = {d.external_id: d for d in Deal.objects.select_related("account")}
    assert deals["0065e00000Abc01AAA"].account == companies["Initech"]
    assert deals["0065e00000Abc02AAA"].account == companies["Globex Corporation"]
    assert deals["0065e00000Abc01AAA"].deal_type == "renewal"
    assert any("Probability (%)" in notice for notice in outcome.check.notices)
    assert "The report's footer under the data (rows 5 to 11, from 'Grand Totals (2 records)') " \
        "was left out." in outcome.check.notices


def test_an_account_name_two_accounts_share_is_reported_by_row_and_column(tenant_a, sellers,
                                                                          companies):
    with tenant_context(tenant_a):
        sf_stages()
        AccountFactory(external_id="DUP-1", name="Initéch")
        outcome = import_file(kind="deals", content=salesforce(), file_name="report.csv")
        assert Deal.objects.count() == 0
    assert problems(outcome.check) == {
        (2, "Account Name", "'INITECH' is the name of 2 accounts (HS-0, DUP-1); give the "
         "account's ID in an account ID column instead"),
    }


def test_an_unknown_account_name_is_reported_unless_missing_accounts_are_created(
    tenant_a, sellers, companies
):
    rows = [*SF_ROWS, ["Chloé Okafor", "Wayne Enterprises", "Wayne - Pilot", "Prospecting",
                       "Q2-2026", "2,000", "10", "3", "6/30/2026", "3/1/2026", "", "", "",
                       "0065e00000Abc03AAA"]]
    with tenant_context(tenant_a):
        sf_stages()
        refused = import_preview(kind="deals", content=salesforce(*rows), file_name="r.csv")
        created = import_preview(kind="deals", content=salesforce(*rows), file_name="r.csv",
                                 options=ImportOptions(create_accounts=True))
        assert not Account.objects.filter(name="Wayne Enterprises").exists()
        applied = import_apply(batch=created)
        wayne = Account.objects.get(name="Wayne Enterprises")
        deal = Deal.objects.get(external_id="0065e00000Abc03AAA")
    assert [(e["row"], e["column"]) for e in refused.error_report] == [(4, "Account Name")]
    assert refused.error_report[0]["reason"] == (
        "unknown account: no account is named 'Wayne Enterprises' (import accounts first, or "
        "choose to create missing accounts)"
    )
    assert refused.preview["unknown_account_rows"] == 1
    assert created.status == ImportStatus.PREVIEWED
    assert created.preview["accounts_to_create"] == ["Wayne Enterprises"]
    assert created.preview["plan"]["accounts_created"] == 1
    assert applied.status == ImportStatus.APPLIED
    assert deal.account_id == wayne.pk


def test_an_accounts_file_later_gives_an_account_made_by_name_its_crm_id(tenant_a, sellers,
                                                                         companies):
    rows = [["Chloé Okafor", "Wayne Enterprises", "Wayne - Pilot", "Prospecting", "", "2000",
             "", "", "6/30/2026", "", "", "", "", "006W"]]
    with tenant_context(tenant_a):
        sf_stages()
        import_file(kind="deals", content=salesforce(*rows), file_name="r.csv",
                    options=ImportOptions(create_accounts=True))
        made = Account.objects.get(name="Wayne Enterprises")
        accounts = csv_bytes([["Account ID", "Account Name", "Billing Country"],
                              ["001WAYNE", "Wayne Enterprises", "US"]])
        outcome = import_file(kind="accounts", content=accounts, file_name="accounts.csv")
        again = import_check(kind="deals", content=salesforce(*rows), file_name="r.csv")
        made.refresh_from_db()
    assert (outcome.result.created, outcome.result.updated) == (0, 1)
    assert (made.external_id, made.country) == ("001WAYNE", "US")
    assert again.errors == []  # the name is still unique: no twin was added


# -- Pipedrive and Dynamics ------------------------------------------------------------------------


def test_a_pipedrive_export_closes_won_and_lost_deals_by_their_status(tenant_a, sellers,
                                                                      companies):
    header = ["Deal - ID", "Deal - Title", "Deal - Value", "Deal - Currency",
              "Deal - Organization", "Deal - Owner", "Deal - Stage", "Deal - Status",
              "Deal - Expected close date", "Deal - Deal created"]
    rows = [
        ["101", "Initech", "5000", "EUR", "Initech", "Chloé Okafor", "Proposal Made", "won",
         "2026-03-02", "2026-01-04 10:00:00"],
        ["102", "Hooli", "7000", "EUR", "Hooli", "Tomás García", "Proposal Made", "lost",
         "2026-03-05", "2026-01-05 10:00:00"],
        ["103", "Stark", "9000", "EUR", "Stark Industries", "Tomás García", "Contact Made",
         "open", "2026-06-05", "2026-02-05 10:00:00"],
    ]
    with tenant_context(tenant_a):
        made = stages(("Contact Made", "open"), ("Proposal Made", "open"), ("Won", "won"),
                      ("Lost", "lost"))
        check = import_check(kind="deals", content=csv_bytes([header, *rows]), file_name="p.csv")
        written = check.upsert_rows()
    assert check.errors == []
    assert [r["stage_id"] for r in written] == [made["Won"].pk, made["Lost"].pk,
                                                made["Contact Made"].pk]
    assert written[0]["currency"] == "EUR"
    stage = check.preview["headers"].index("Deal - Stage")
    assert check.preview["rows"][0]["cells"][stage] == ["Proposal Made → Won", False]


# -- a new tenant and a first import ---------------------------------------------------------------


def test_with_no_stages_set_up_the_message_says_where_to_add_them_and_how_to_map(
    tenant_a, sellers, companies
):
    with tenant_context(tenant_a):
        check = import_check(kind="deals", content=salesforce(), file_name="report.csv")
    reasons = {(row, column): reason for row, column, reason in problems(check)}
    assert reasons[2, "Stage"] == (
        "unknown stage 'Closed Won': no stages are set up yet (the stages are: none are set up "
        "yet). Add your stages in the admin (CRM > Stages); a value your CRM writes differently "
        "can then be mapped to one on the import preview, or with import_crm --stage-map"
    )


def test_a_first_import_of_400_deals_reports_400_creations_and_no_stage_changes(
    tenant_a, sellers, companies
):
    rows = [
        [f"98{i:08d}", f"Deal {i}", ["appointmentscheduled", "contractsent", "closedwon"][i % 3],
         "2026-04-30", "E1", "100", "Hooli", "Sales Pipeline", "2026-01-12", "", ""]
        for i in range(400)
    ]
    with tenant_context(tenant_a):
        stages(*HUBSPOT_DEFAULT_STAGES)
        batch = import_preview(kind="deals", content=hubspot(*rows), file_name="h.csv")
        applied = import_apply(batch=batch)
        first_stages = DealStageHistory.objects.filter(from_stage__isnull=True).count()
    assert batch.preview["plan"] == {"created": 400, "updated": 0, "unchanged": 0,
                                     "stage_changes": 0}
    assert (applied.created_count, applied.preview["applied"]["stage_changes"]) == (400, 0)
    assert first_stages == 400  # each deal's starting stage is still on record


def test_an_ambiguous_owner_name_is_reported_whatever_its_accents(tenant_a, sellers, companies):
    with tenant_context(tenant_a):
        PersonFactory(employee_id="E9", name="Chloe Okafor", email="other.chloe@acme.example")
        stages(*HUBSPOT_DEFAULT_STAGES)
        check = import_check(kind="deals", content=hubspot(HUBSPOT_ROWS[0]), file_name="h.csv")
    assert problems(check) == {
        (2, "Deal owner", "'Chloe Okafor' is the name of several people; use their employee ID "
         "or email"),
    }


def test_an_accounts_file_owner_column_sets_each_accounts_crm_owner(tenant_a, sellers):
    content = csv_bytes([["Account ID", "Account Name", "Account Owner", "Billing Country"],
                         ["001A", "Initech", "Chloé Okafor", "US"],
                         ["001B", "Globex", "", "US"]])
    with tenant_context(tenant_a):
        outcome = import_file(kind="accounts", content=content, file_name="accounts.csv")
        owners = dict(Account.objects.values_list("external_id", "owner__name"))
    assert outcome.check.errors == []
    assert outcome.result.created == 2
    assert owners == {"001A": "Chloé Okafor", "001B": None}
    assert not any("Columns not used" in n and "Account Owner" in n
                   for n in outcome.check.notices)


def test_an_account_owner_nobody_matches_is_a_problem_on_its_row(tenant_a, sellers):
    content = csv_bytes([["Account ID", "Account Name", "Account Owner"],
                         ["001A", "Initech", "Nobody Known"]])
    with tenant_context(tenant_a):
        check = import_check(kind="accounts", content=content, file_name="accounts.csv")
        stored = Account.objects.count()
    assert [(p.row, p.column) for p in check.errors] == [(2, "Account Owner")]
    assert stored == 0


def test_a_stage_mapping_can_only_name_a_stage_of_this_tenant(tenant_a, tenant_b):
    from django.core.exceptions import ValidationError

    with tenant_context(tenant_b):
        foreign = StageFactory(name="Theirs", order=1)
    with tenant_context(tenant_a), pytest.raises(ValidationError):
        stage_mappings_set(mappings=[("contractsent", foreign)])
    with tenant_context(tenant_a):
        assert StageMapping.objects.count() == 0
