"""Roster imports as HR systems export them: names in first and last name columns, a manager
column that becomes the team tree (effective-dated), seller roles read from job titles, and every
bad reporting line or shared email named by row and column with nothing written."""

from __future__ import annotations

import csv
import datetime
import io

import openpyxl
import pytest

from spm.crm.imports.options import ImportOptions
from spm.crm.imports.service import import_check, import_file, import_preview
from spm.org.models import Person, Team, TeamMembership, TitleRoleRule
from spm.org.selectors import manager_chain, team_of_person
from spm.tenancy.context import tenant_context
from tests.factories import PersonFactory, TeamFactory

pytestmark = pytest.mark.django_db

ON = datetime.date(2026, 3, 1)

# A Workday "All Workers" custom report, as exported to CSV (dates month first).
WORKDAY_HEADER = [
    "Employee ID", "Legal First Name", "Legal Last Name", "Preferred First Name",
    "Business Title", "Primary Work Email", "Manager Employee ID", "Hire Date",
    "Supervisory Organization", "Location", "Worker Status",
]
WORKDAY_ROWS = [
    ["1001", "Margaret", "Hale", "", "Chief Revenue Officer", "margaret.hale@acme.example", "",
     "03/04/2019", "Sales (Margaret Hale)", "Boston", "Active"],
    ["1002", "Chloé", "Okafor", "", "Regional Sales Manager", "chloe.okafor@acme.example",
     "1001", "06/14/2021", "Sales East (Chloé Okafor)", "New York", "Active"],
    ["1003", "Robert", "Lindqvist", "Bob", "Senior Account Executive",
     "bob.lindqvist@acme.example", "1002", "01/10/2022", "Sales East (Chloé Okafor)", "New York",
     "Active"],
    ["1004", "Priya", "Raman", "", "Sales Development Representative",
     "priya.raman@acme.example", "1002", "02/01/2024", "Sales East (Chloé Okafor)", "New York",
     "Active"],
    ["1005", "Wei", "Zhang", "", "Regional Sales Manager", "wei.zhang@acme.example", "1001",
     "09/01/2020", "Sales West (Wei Zhang)", "Seattle", "Active"],
    ["1006", "Aisha", "Bello", "", "Account Executive", "aisha.bello@acme.example", "1005",
     "04/15/2023", "Sales West (Wei Zhang)", "Seattle", "Active"],
    ["1007", "Jonas", "Meyer", "", "Solutions Engineer", "jonas.meyer@acme.example", "1005",
     "11/02/2022", "Sales West (Wei Zhang)", "Seattle", "Active"],
]


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def workday(*rows: list[str]) -> bytes:
    return csv_bytes([WORKDAY_HEADER, *(rows or WORKDAY_ROWS)])


def problems(check) -> set[tuple[int, str, str]]:
    return {(e.row, e.column, e.reason) for e in check.errors}


def person(employee_id: str) -> Person:
    return Person.objects.get(employee_id=employee_id)


def import_roster(content: bytes, on: datetime.date = ON, name: str = "roster.csv"):
    outcome = import_file(kind="people", content=content, file_name=name,
                          options=ImportOptions(effective_date=on))
    assert outcome.check.errors == [], outcome.check.errors
    return outcome.result


@pytest.mark.smoke
def test_a_workday_roster_builds_people_and_the_team_tree_from_the_manager_column(tenant_a):
    with tenant_context(tenant_a):
        result = import_roster(workday())
        people = {p.employee_id: p for p in Person.objects.all()}
        bob_chain = [p.name for p in manager_chain(person=people["1003"], on=ON)]
        aisha_chain = [p.name for p in manager_chain(person=people["1006"], on=ON)]
        chloe_team = team_of_person(person=people["1003"], on=ON)
        top = Team.objects.get(manager=people["1001"])
        wei_team = Team.objects.get(manager=people["1005"])
        bob_since = TeamMembership.objects.get(person=people["1003"]).valid_from
        margaret_teams = TeamMembership.objects.filter(person=people["1001"]).count()
    assert (result.created, result.teams_created, result.people_placed) == (7, 3, 6)
    assert people["1002"].name == "Chloé Okafor"
    assert people["1003"].name == "Bob Lindqvist"  # the preferred first name wins
    assert people["1002"].hire_date == datetime.date(2021, 6, 14)
    assert bob_chain == ["Chloé Okafor", "Margaret Hale"]
    assert aisha_chain == ["Wei Zhang", "Margaret Hale"]
    assert chloe_team.name == "Chloé Okafor's team"
    assert chloe_team.parent_id == top.pk
    assert wei_team.parent_id == top.pk
    assert top.parent_id is None
    assert margaret_teams == 0  # she reports to no one, so she is in no one's team
    assert bob_since == datetime.date(2022, 1, 10)  # first placement: from the hire date


def test_titles_give_seller_roles(tenant_a):
    with tenant_context(tenant_a):
        import_roster(workday())
        roles = dict(Person.objects.values_list("employee_id", "role"))
    assert roles == {
        "1001": "manager", "1002": "manager", "1003": "rep", "1004": "sdr", "1005": "manager",
        "1006": "rep", "1007": "overlay",
    }


def test_the_preview_shows_the_combined_name_and_the_role_read_from_the_title(tenant_a):
    with tenant_context(tenant_a):
        batch = import_preview(kind="people", content=workday(), file_name="roster.csv",
                               options=ImportOptions(effective_date=ON))
        assert Person.objects.count() == 0
        assert Team.objects.count() == 0
    headers = batch.preview["headers"]
    name = headers.index("Preferred First Name + Legal First Name + Legal Last Name")
    role = headers.index("Role (from Business Title)")
    assert batch.preview["rows"][2]["cells"][name] == ["Bob Lindqvist", False]
    assert batch.preview["rows"][1]["cells"][role] == ["Manager", False]
    assert batch.preview["plan"]["teams_created"] == 3
    assert batch.preview["plan"]["people_placed"] == 6


def test_a_tenants_own_title_rules_come_before_the_built_in_ones(tenant_a):
    with tenant_context(tenant_a):
        TitleRoleRule.objects.create(title_contains="regional sales manager", role="overlay",
                                     priority=1)
        TitleRoleRule.objects.create(title_contains="SOLUTIONS ENGINEER", role="rep", priority=2)
        import_roster(workday())
        roles = dict(Person.objects.values_list("employee_id", "role"))
    assert (roles["1002"], roles["1007"], roles["1001"]) == ("overlay", "rep", "manager")


def test_a_role_column_wins_over_the_title(tenant_a):
    header = [*WORKDAY_HEADER, "Sales Role"]
    rows = [[*row, "AE" if row[0] == "1002" else ""] for row in WORKDAY_ROWS]
    with tenant_context(tenant_a):
        import_roster(csv_bytes([header, *rows]))
        assert person("1002").role == "rep"
        assert person("1005").role == "manager"


def test_a_role_set_by_hand_stays_until_the_title_changes(tenant_a):
    with tenant_context(tenant_a):
        import_roster(workday())
        Person.objects.filter(employee_id="1006").update(role="overlay")
        import_roster(workday())
        assert person("1006").role == "overlay"
        promoted = [list(row) for row in WORKDAY_ROWS]
        promoted[5][4] = "Sales Manager, Mid-Market"
        import_roster(workday(*promoted))
        assert person("1006").role == "manager"


def test_reimporting_the_same_roster_changes_no_person_and_no_team(tenant_a):
    with tenant_context(tenant_a):
        import_roster(workday())
        memberships = list(TeamMembership.objects.values_list("pk", "team_id", "valid_from"))
        again = import_roster(workday(), on=datetime.date(2026, 4, 1))
        assert list(TeamMembership.objects.values_list("pk", "team_id", "valid_from")) == \
            memberships
    assert (again.unchanged, again.teams_created, again.teams_moved, again.people_placed) == (
        7, 0, 0, 0
    )


def test_a_new_manager_in_a_later_roster_moves_the_person_from_the_effective_date(tenant_a):
    moved = [list(row) for row in WORKDAY_ROWS]
    moved[5][6] = "chloe.okafor@acme.example"  # Aisha now reports to Chloé (by email)
    later = datetime.date(2026, 4, 1)
    with tenant_context(tenant_a):
        import_roster(workday())
        result = import_roster(workday(*moved), on=later)
        aisha = person("1006")
        history = list(
            TeamMembership.objects.filter(person=aisha).order_by("valid_from")
            .values_list("team__manager__name", "valid_from", "valid_to")
        )
        chain_before = [p.name for p in manager_chain(person=aisha, on=ON)]
        chain_after = [p.name for p in manager_chain(person=aisha, on=later)]
    assert result.people_placed == 1
    assert history == [
        ("Wei Zhang", datetime.date(2023, 4, 15), later),
        ("Chloé Okafor", later, None),
    ]
    assert chain_before == ["Wei Zhang", "Margaret Hale"]
    assert chain_after == ["Chloé Okafor", "Margaret Hale"]


def test_an_empty_manager_cell_means_reporting_to_no_one_from_the_effective_date(tenant_a):
    rows = [list(row) for row in WORKDAY_ROWS]
    rows[4][6] = ""  # Wei now reports to no one; his team leaves Margaret's
    later = datetime.date(2026, 4, 1)
    with tenant_context(tenant_a):
        import_roster(workday())
        result = import_roster(workday(*rows), on=later)
        wei = person("1005")
        wei_team = Team.objects.get(manager=wei)
        wei_until = TeamMembership.objects.get(person=wei).valid_to
        aisha_chain = [p.name for p in manager_chain(person=person("1006"), on=later)]
    assert (result.teams_moved, result.people_placed) == (1, 1)
    assert wei_team.parent_id is None
    assert wei_until == later
    assert aisha_chain == ["Wei Zhang"]


def test_a_manager_who_already_leads_a_team_keeps_it(tenant_a):
    with tenant_context(tenant_a):
        wei = PersonFactory(employee_id="1005", name="Wei Zhang", email="wei.zhang@acme.example")
        west = TeamFactory(name="West", manager=wei)
        import_roster(workday())
        aisha_team = team_of_person(person=person("1006"), on=ON)
        west.refresh_from_db()
        top = Team.objects.get(manager__employee_id="1001")
    assert aisha_team.pk == west.pk
    assert west.parent_id == top.pk  # moved under the team of the manager Wei reports to


def test_a_bamboohr_workbook_names_managers_as_last_comma_first_without_accents(tenant_a):
    # BambooHR's employee report: "Reports To" holds the manager's name, last name first.
    header = ["Employee #", "First Name", "Last Name", "Job Title", "Reports To", "Work Email",
              "Hire Date", "Department", "Division"]
    rows = [
        ["E1", "Chloé", "Okafor", "Director, Enterprise Sales", "", "chloe@acme.example",
         datetime.datetime(2021, 6, 14), "Sales", "East"],
        ["E2", "Tomás", "García", "Account Executive", "Okafor, Chloe", "tomas@acme.example",
         datetime.datetime(2023, 1, 9), "Sales", "East"],
        ["E3", "Lena", "Vogel", "BDR", "CHLOE OKAFOR", "lena@acme.example",
         datetime.datetime(2025, 5, 5), "Sales", "East"],
    ]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Employees"
    for row in [header, *rows]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    with tenant_context(tenant_a):
        import_roster(out.getvalue(), name="bamboohr.xlsx")
        chains = {e: [p.name for p in manager_chain(person=person(e), on=ON)]
                  for e in ("E2", "E3")}
        roles = dict(Person.objects.values_list("employee_id", "role"))
    assert chains == {"E2": ["Chloé Okafor"], "E3": ["Chloé Okafor"]}
    assert roles == {"E1": "manager", "E2": "rep", "E3": "sdr"}


@pytest.mark.parametrize(
    ("headers", "manager_value"),
    [
        (["Employee Number", "Given Name", "Surname", "Email Address", "Job Title",
          "Supervisor Email"], "boss@acme.example"),
        (["EEID", "First", "Last", "Work Email", "Position", "Reports To ID"], "B1"),
        (["Worker ID", "Worker", "Business Email", "Job Profile", "Worker's Manager"],
         "Bea Boss"),
        (["Worker ID", "Worker", "Business Email", "Job Profile", "Manager"], "B. Boss (B1)"),
    ],
)
def test_common_hr_header_variants_are_understood(tenant_a, headers, manager_value):
    with tenant_context(tenant_a):
        PersonFactory(employee_id="B1", name="Bea Boss", email="boss@acme.example")
        if "Worker" in headers:
            row = ["W1", "Wil Worker", "wil@acme.example", "Account Executive", manager_value]
        else:
            row = ["W1", "Wil", "Worker", "wil@acme.example", "Account Executive", manager_value]
        import_roster(csv_bytes([headers, row]))
        wil = person("W1")
        chain = [p.employee_id for p in manager_chain(person=wil, on=ON)]
    assert (wil.name, wil.email, wil.title) == ("Wil Worker", "wil@acme.example",
                                                "Account Executive")
    assert chain == ["B1"]


def test_a_person_who_is_their_own_manager_reports_to_no_one_with_a_notice(tenant_a):
    rows = [list(row) for row in WORKDAY_ROWS]
    rows[0][6] = "1001"  # some HR systems list the top of the tree as their own manager
    with tenant_context(tenant_a):
        check = import_check(kind="people", content=workday(*rows), file_name="r.csv")
    assert check.errors == []
    assert any("their own manager" in notice and "rows 2" in notice for notice in check.notices)
    assert check.reports["1001"] is None


def test_people_who_left_are_not_placed_in_a_team(tenant_a):
    header = [*WORKDAY_HEADER, "Termination Date"]
    rows = [[*row, "2025-12-31" if row[0] == "1006" else ""] for row in WORKDAY_ROWS]
    with tenant_context(tenant_a):
        result = import_roster(csv_bytes([header, *rows]))
        assert not TeamMembership.objects.filter(person__employee_id="1006").exists()
    assert result.people_placed == 5


# -- bad rosters: every problem by row and column, nothing written ------------------------------


def assert_nothing_written():
    assert Person.objects.count() == 0
    assert Team.objects.count() == 0
    assert TeamMembership.objects.count() == 0


def test_a_reporting_circle_is_named_on_every_row_in_it_and_nothing_is_written(tenant_a):
    rows = [list(row) for row in WORKDAY_ROWS]
    rows[0][6] = "1005"  # Margaret -> Wei -> Margaret
    with tenant_context(tenant_a):
        outcome = import_file(kind="people", content=workday(*rows), file_name="r.csv")
        assert_nothing_written()
    found = {(e.row, e.column): e.reason for e in outcome.check.errors}
    assert set(found) == {(2, "Manager Employee ID"), (6, "Manager Employee ID")}
    assert found[2, "Manager Employee ID"] == (
        "'1005' makes the reporting lines go round in a circle: Margaret Hale → Wei Zhang → "
        "Margaret Hale"
    )


def test_a_circle_through_people_already_here_is_caught_too(tenant_a):
    with tenant_context(tenant_a):
        import_roster(workday())
        # Only Margaret's row: she would report to Aisha, who reports to Wei, who reports to her.
        check = import_check(kind="people", file_name="r.csv", content=workday(
            ["1001", "Margaret", "Hale", "", "Chief Revenue Officer",
             "margaret.hale@acme.example", "1006", "03/04/2019", "", "", "Active"]))
    [(row, column, reason)] = problems(check)
    assert (row, column) == (2, "Manager Employee ID")
    assert "Margaret Hale → Aisha Bello → Wei Zhang → Margaret Hale" in reason


def test_a_manager_nobody_has_is_reported_and_nothing_is_written(tenant_a):
    rows = [list(row) for row in WORKDAY_ROWS]
    rows[3][6] = "9999"
    with tenant_context(tenant_a):
        outcome = import_file(kind="people", content=workday(*rows), file_name="r.csv")
        assert_nothing_written()
    assert problems(outcome.check) == {
        (5, "Manager Employee ID", "unknown manager: nobody in this file or already here has "
         "the employee ID, email or name '9999'"),
    }


def test_a_manager_name_two_people_share_is_reported(tenant_a):
    header = ["Employee ID", "Name", "Email", "Title", "Manager"]
    rows = [
        ["A", "Sam Lee", "sam.lee@acme.example", "Sales Manager", ""],
        ["B", "Sam Lée", "sam.lee2@acme.example", "Sales Manager", ""],
        ["C", "Kim Park", "kim@acme.example", "Account Executive", "sam lee"],
    ]
    with tenant_context(tenant_a):
        check = import_check(kind="people", content=csv_bytes([header, *rows]), file_name="r.csv")
    assert problems(check) == {
        (4, "Manager", "'sam lee' is the name of several people; use their employee ID or email"),
    }


def test_two_people_with_the_same_email_are_reported_and_nothing_is_written(tenant_a):
    rows = [list(row) for row in WORKDAY_ROWS]
    rows[4][5] = "CHLOE.OKAFOR@acme.example"  # Wei's row repeats Chloé's address
    with tenant_context(tenant_a):
        outcome = import_file(kind="people", content=workday(*rows), file_name="r.csv")
        assert_nothing_written()
    assert problems(outcome.check) == {
        (6, "Primary Work Email", "'CHLOE.OKAFOR@acme.example' is also the email of row 3 "
         "(1002); two people cannot share an email"),
    }


def test_an_email_someone_else_already_has_is_reported(tenant_a):
    with tenant_context(tenant_a):
        PersonFactory(employee_id="X9", name="Old Timer", email="priya.raman@acme.example")
        check = import_check(kind="people", content=workday(), file_name="r.csv")
    assert problems(check) == {
        (5, "Primary Work Email", "'priya.raman@acme.example' is already the email of Old "
         "Timer (X9), who is not in this file; two people cannot share an email"),
    }


def test_a_roster_without_any_name_column_says_which_headers_work(tenant_a):
    content = csv_bytes([["Employee ID", "Work Email"], ["1", "a@acme.example"]])
    with tenant_context(tenant_a):
        check = import_check(kind="people", content=content, file_name="r.csv")
    [(row, column, reason)] = problems(check)
    assert (row, column) == (1, "Name")
    assert "'Full Name'" in reason
    assert "or give first name as one of 'First Name'" in reason


def test_a_row_with_neither_name_nor_first_and_last_name_is_empty(tenant_a):
    content = csv_bytes([["Employee ID", "First Name", "Last Name", "Email"],
                         ["1", "", "", "a@acme.example"]])
    with tenant_context(tenant_a):
        check = import_check(kind="people", content=content, file_name="r.csv")
    assert problems(check) == {(2, "First Name + Last Name", "is empty")}
