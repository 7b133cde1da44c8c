"""Plan assignments imported from a file with `manage.py assignments_import`: a preview of each
row's outcome, then all or nothing through the assignment services; re-importing changes
nothing; every bad cell is named by row and column and nothing is written."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from compensation.imports import service
from compensation.imports.service import assignment_import_check
from compensation.models import AssignmentImport, AssignmentPeriod, LineItem, PlanAssignment
from compensation.services import assignment_create
from compensation.services.runs import calculation_run
from quotas.models import QuotaPlan
from spm.tenancy.context import tenant_context
from tests.factories import QuotaFactory

from .assignment_import_world import JAN, JUL, build_import_world, held
from .runs_world import credit_deal

pytestmark = pytest.mark.django_db

D = Decimal
HEADER = "Employee ID,Plan Code,Start Date,End Date,TI,Currency,Proration\n"


@pytest.fixture
def world(tenant_a):
    with tenant_context(tenant_a):
        return build_import_world()


def write(tmp_path, text: str, name: str = "assignments.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(tenant, path, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("assignments_import", str(path), "--tenant", tenant.slug, *args, stdout=out,
                 stderr=err)
    return out.getvalue(), err.getvalue()


def refused(tenant, path, *args: str) -> list[str]:
    """The problems printed for a file that must be refused, having written nothing."""
    err = io.StringIO()
    with tenant_context(tenant):
        before = PlanAssignment.objects.count(), AssignmentImport.objects.count()
    with pytest.raises(CommandError) as caught:
        call_command("assignments_import", str(path), "--tenant", tenant.slug, *args,
                     stdout=io.StringIO(), stderr=err)
    assert caught.value.returncode == 1
    assert "nothing was written" in str(caught.value)
    with tenant_context(tenant):
        assert (PlanAssignment.objects.count(), AssignmentImport.objects.count()) == before
    return [line for line in err.getvalue().splitlines() if not line.startswith("Note:")]


# -- preview and apply --------------------------------------------------------------------------


@pytest.mark.smoke
def test_the_command_previews_each_rows_outcome_and_writes_nothing(tenant_a, world, tmp_path):
    path = write(tmp_path, HEADER + "E100,AE,2026-01-01,,\"$60,000.00\",USD,days\n"
                                    "E200,AE,2026-01-01,2026-06-30,48000,,\n")
    out, _ = run(tenant_a, path)
    assert "Row 2: create - Ann Lee (E100) on AE from 2026-01-01, last day open, target " \
           "60000.00 (new assignment)" in out
    assert "Row 3: create - Bob Ray (E200) on AE from 2026-01-01, last day 2026-06-30, " \
           "target 48000.00" in out
    assert "Preview of assignments.csv (2 rows): 2 to create (0 ending an earlier " \
           "assignment), 0 end date(s) to change, 0 unchanged. Nothing was written; run " \
           "again with --apply to write it." in out
    with tenant_context(tenant_a):
        assert not PlanAssignment.objects.exists()


@pytest.mark.smoke
def test_apply_writes_through_the_assignment_services_with_history_and_month_shares(
        tenant_a, world, tmp_path):
    path = write(tmp_path, HEADER + "E100,AE,2026-01-01,,60000,USD,days\n"
                                    "E200,AE,2026-01-01,2026-06-30,48000,,\n")
    out, _ = run(tenant_a, path, "--apply")
    assert "Imported assignments.csv: 2 created (0 earlier assignment(s) ended), 0 end " \
           "date(s) changed, 0 unchanged." in out
    with tenant_context(tenant_a):
        assert held(world.ann) == [("AE", JAN, None, D("60000.00"))]
        # End Date is the last day on the plan; valid_to is the day after it.
        assert held(world.bob) == [("AE", JAN, JUL, D("48000.00"))]
        bob = PlanAssignment.objects.get(person=world.bob)
        assert bob.notes == "Imported from assignments.csv, row 3."
        assert bob.history.count() == 1
        months = AssignmentPeriod.objects.filter(assignment=bob).order_by("valid_from")
        assert len(months) == 6
        assert sum(m.target_incentive for m in months) == D("24000.00")
        batch = AssignmentImport.objects.get()
        assert (batch.status, batch.created_count, batch.uploaded_by) == ("applied", 2, None)


def test_reimporting_the_same_file_changes_nothing(tenant_a, world, tmp_path):
    path = write(tmp_path, HEADER + "E100,AE,2026-01-01,,60000,USD,\n"
                                    "E100,SE,2026-07-01,,70000,USD,\n"
                                    "E200,AE,2026-01-01,2026-06-30,48000,,\n")
    run(tenant_a, path, "--apply")
    with tenant_context(tenant_a):
        before = held(world.ann), held(world.bob)
        history = sum(a.history.count() for a in PlanAssignment.objects.all())
    out, _ = run(tenant_a, path)
    assert out.count(": unchanged - ") == 3
    assert "(already held)" in out
    out, _ = run(tenant_a, path, "--apply")
    assert "0 created (0 earlier assignment(s) ended), 0 end date(s) changed, 3 unchanged." \
        in out
    with tenant_context(tenant_a):
        assert (held(world.ann), held(world.bob)) == before
        assert sum(a.history.count() for a in PlanAssignment.objects.all()) == history


def test_a_row_starting_during_an_open_assignment_ends_it_the_day_before(tenant_a, world,
                                                                         tmp_path):
    with tenant_context(tenant_a):
        assignment_create(person=world.ann, plan=world.ae, valid_from=JAN,
                          target_incentive=D("60000.00"))
    path = write(tmp_path, HEADER + "E100,SE,07/01/2026,,70000,,\n")
    out, _ = run(tenant_a, path)
    assert "Row 2: end previous - Ann Lee (E100) on SE from 2026-07-01, last day open, " \
           "target 70000.00 (ends AE from 2026-01-01 with no end: its last day becomes " \
           "2026-06-30)" in out
    with tenant_context(tenant_a):
        assert held(world.ann) == [("AE", JAN, None, D("60000.00"))]
    run(tenant_a, path, "--apply")
    with tenant_context(tenant_a):
        assert held(world.ann) == [("AE", JAN, JUL, D("60000.00")),
                                   ("SE", JUL, None, D("70000.00"))]
        ended = PlanAssignment.objects.get(person=world.ann, plan=world.ae)
        assert [h.valid_to for h in ended.history.order_by("history_date")] == [None, JUL]
        shares = AssignmentPeriod.objects.filter(assignment__person=world.ann).select_related(
            "assignment__plan", "period").order_by("valid_from")
        assert [(s.assignment.plan.code, s.period.start_date.month) for s in shares] == [
            ("AE", month) for month in range(1, 7)] + [("SE", month) for month in range(7, 13)]


def test_rows_of_one_person_are_taken_in_date_order_each_ending_the_one_before(
        tenant_a, world, tmp_path):
    path = write(tmp_path, HEADER + "E100,SE,2026-07-01,,70000,,\n"
                                    "E100,AE,2026-01-01,,60000,,\n")
    out, _ = run(tenant_a, path, "--apply")
    assert "Row 3: create - Ann Lee (E100) on AE from 2026-01-01, last day 2026-06-30 (the " \
           "day before row 2 starts)" in out
    with tenant_context(tenant_a):
        assert held(world.ann) == [("AE", JAN, JUL, D("60000.00")),
                                   ("SE", JUL, None, D("70000.00"))]


def test_a_new_end_date_for_an_assignment_held_changes_its_end(tenant_a, world, tmp_path):
    with tenant_context(tenant_a):
        assignment_create(person=world.ann, plan=world.ae, valid_from=JAN,
                          target_incentive=D("60000.00"))
    path = write(tmp_path, HEADER + "E100,AE,2026-01-01,2026-09-30,60000,,\n")
    out, _ = run(tenant_a, path, "--apply")
    assert "Row 2: change end - Ann Lee (E100) on AE from 2026-01-01, last day 2026-09-30, " \
           "target 60000.00 (the last day of AE from 2026-01-01 changes from open to " \
           "2026-09-30)" in out
    with tenant_context(tenant_a):
        assert held(world.ann) == [("AE", JAN, datetime.date(2026, 10, 1), D("60000.00"))]


def test_an_error_in_the_last_row_writes_nothing_of_the_good_rows(tenant_a, world, tmp_path):
    rows = "".join(f"{e},AE,2026-01-01,,50000,,\n" for e in ("E100", "E200", "e300"))
    path = write(tmp_path, HEADER + rows + "E100,AE,2026-02-30,,50000,,\n")
    problems = refused(tenant_a, path, "--apply")
    assert problems == [
        "assignments.csv row 5, Start Date: '2026-02-30' is not a real day: February 30, 2026 "
        "does not exist"]


def test_people_are_found_by_employee_id_or_email_ignoring_case(tenant_a, world, tmp_path):
    path = write(tmp_path, "Email,Plan,Valid From,Target Incentive\n"
                           "ANN@example.com,ae,2026-01-01,1000\n"
                           "bob.ray@example.com,AE,2026-01-01,1000\n")
    run(tenant_a, path, "--apply")
    path = write(tmp_path, "Employee ID,Plan,Valid From,TI\nE300,AE,2026-01-01,1000\n")
    run(tenant_a, path, "--apply")
    with tenant_context(tenant_a):
        assert [len(held(p)) for p in (world.ann, world.bob, world.cy)] == [1, 1, 1]


def test_an_email_naming_someone_else_than_the_employee_id_is_refused(tenant_a, world,
                                                                      tmp_path):
    path = write(tmp_path, "Employee ID,Email,Plan,Start Date\n"
                           "E100,bob.ray@example.com,AE,2026-01-01\n")
    assert refused(tenant_a, path) == [
        "assignments.csv row 2, Email: names Bob Ray (E200), but Employee ID names Ann Lee "
        "(E100)"]


def test_a_workbook_with_excel_dates_and_numbers_is_read(tenant_a, world, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Employee ID", "Plan Code", "Effective Date", "OTE Variable", "Currency"])
    sheet.append(["E100", "AE", datetime.datetime(2026, 1, 1), 60000.5, "usd"])
    path = tmp_path / "assignments.xlsx"
    workbook.save(path)
    run(tenant_a, path, "--apply")
    with tenant_context(tenant_a):
        assert held(world.ann) == [("AE", JAN, None, D("60000.50"))]


def test_us_and_european_dates_are_read_as_the_deal_import_reads_them(tenant_a, world,
                                                                      tmp_path):
    path = write(tmp_path, HEADER + "E100,AE,31.01.2026,,1,,\n"
                                    "E200,AE,1-Feb-2026,,1,,\n"
                                    "e300,AE,3/1/2026,4/30/2026,1,,\n")
    run(tenant_a, path, "--apply")
    with tenant_context(tenant_a):
        assert [held(p)[0][1:3] for p in (world.ann, world.bob, world.cy)] == [
            (datetime.date(2026, 1, 31), None), (datetime.date(2026, 2, 1), None),
            (datetime.date(2026, 3, 1), datetime.date(2026, 5, 1))]


def test_a_calculation_run_after_the_import_pays_the_person_on_the_plan(tenant_a, world,
                                                                        tmp_path):
    path = write(tmp_path, HEADER + "E100,AE,2026-01-01,,60000,USD,days\n")
    run(tenant_a, path, "--apply")
    with tenant_context(tenant_a):
        QuotaFactory(plan=QuotaPlan.objects.get(fiscal_year=2026), person=world.ann,
                     period=world.runs.month("2026-01"), amount=D("100000.00"))
        credit_deal(world.runs, world.ann, "50000.00", datetime.date(2026, 1, 15))
        run_ = calculation_run(tenant=tenant_a, period=world.runs.month("2026-01"), actor=None)
        assert run_.status == "succeeded", run_.error
        lines = list(LineItem.objects.filter(run=run_, payee_id=world.ann.pk))
    assert [line.amount for line in lines] == [D("4000.00")]  # 50,000 x 8%


def test_applying_asks_to_recompute_its_payees_and_a_no_op_import_asks_for_none(
        tenant_a, world, tmp_path):
    from compensation.models import RecomputeRequest

    def asked() -> set[int]:
        with tenant_context(tenant_a):
            payees = set(RecomputeRequest.objects.values_list("payee_id", flat=True))
            RecomputeRequest.objects.all().delete()
        return payees

    asked()
    path = write(tmp_path, HEADER + "E100,AE,2026-01-01,,1,,\nE200,AE,2026-01-01,,1,,\n")
    run(tenant_a, path, "--apply")
    assert asked() == {world.ann.pk, world.bob.pk}
    run(tenant_a, path, "--apply")
    assert asked() == set()


# -- refusals, each named by row and column -------------------------------------------------------


@pytest.mark.parametrize(("row", "problem"), [
    ("E999,AE,2026-01-01,,1,,", "row 2, Employee ID: unknown person: nobody has the employee "
                                "ID 'E999'"),
    ("E100,XX,2026-01-01,,1,,", "row 2, Plan Code: unknown plan: no plan has the code 'XX' "
                                "(the plans are: AE, DRAFTY, SE)"),
    ("E100,Account executives,2026-01-01,,1,,",
     "row 2, Plan Code: unknown plan 'Account executives': that is the name of AE and SE; "
     "write the plan's code"),
    ("E100,DRAFTY,2026-01-01,,1,,", "row 2, Plan Code: DRAFTY has no published version yet; "
                                    "publish one before assigning people to it"),
    ("E100,SE,2026-01-01,,1,,", "row 2, Plan Code: SE has no published version in force on "
                                "2026-01-01 (its published versions run from 2026-07-01 with "
                                "no end); change the row's dates or publish a version that "
                                "covers them"),
    ("E100,AE,2026-03-01,2026-02-28,1,,", "row 2, End Date: the last day, 2026-02-28, is "
                                          "before the first day, 2026-03-01"),
    ("E100,AE,2026-01-01,,sixty thousand,,", "row 2, TI: 'sixty thousand' is not a number "
                                             "(write an amount such as 1234.50)"),
    ("E100,AE,2026-01-01,,\"60000,5\",,", "row 2, TI: '60000,5' has a decimal comma: if it "
                                          "means 60000.50, write 60000.50"),
    ("E100,AE,2026-01-01,,-5,,", "row 2, TI: cannot be negative"),
    ("E100,AE,2026-01-01,,1,XYZ,", "row 2, Currency: 'XYZ' is not USD, the currency target "
                                   "incentives are kept in; give the amount in USD"),
    ("E100,AE,2026-01-01,,1,dollars,", "row 2, Currency: 'dollars' is not a three-letter "
                                       "currency code (e.g. USD)"),
    ("E100,AE,2026-01-01,,1,,50%", "row 2, Proration: '50%' is not a proration this app "
                                   "applies: a partial month is always prorated by calendar "
                                   "days"),
    ("E100,AE,2026-01-01,,1,,none", "row 2, Proration: 'none' asks for no proration, but a "
                                    "partial month is always prorated by calendar days"),
    ("E100,AE,,,1,,", "row 2, Start Date: is empty"),
    (",AE,2026-01-01,,1,,", "row 2, Employee ID: is empty (give the person's employee ID or "
                            "email)"),
])
def test_a_bad_row_is_named_by_row_and_column_and_nothing_is_written(tenant_a, world,
                                                                     tmp_path, row, problem):
    path = write(tmp_path, HEADER + row + "\n")
    problems = refused(tenant_a, path, "--apply")
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"assignments.csv {problem}")


def test_duplicate_rows_for_one_person_and_dates_are_refused(tenant_a, world, tmp_path):
    path = write(tmp_path, HEADER + "E100,AE,2026-01-01,,1,,\nE100,AE,2026-01-01,,1,,\n")
    assert refused(tenant_a, path) == [
        "assignments.csv row 3, Employee ID: row 2 has the same person starting on the same "
        "day (2026-01-01); give each assignment of a person once"]


def test_rows_of_one_person_that_overlap_are_refused(tenant_a, world, tmp_path):
    path = write(tmp_path, HEADER + "E100,AE,2026-01-01,2026-12-31,1,,\n"
                                    "E100,SE,2026-07-01,,1,,\n")
    assert refused(tenant_a, path) == [
        "assignments.csv row 3, Start Date: overlaps row 2 of the same person (AE from "
        "2026-01-01 to 2026-12-31); a person holds one plan at a time"]


def test_overlapping_an_assignment_held_is_refused_unless_the_row_ends_it(tenant_a, world,
                                                                          tmp_path):
    with tenant_context(tenant_a):
        assignment_create(person=world.ann, plan=world.ae, valid_from=JAN,
                          valid_to=datetime.date(2027, 1, 1))
        assignment_create(person=world.bob, plan=world.se, valid_from=datetime.date(2026, 8, 1))
    path = write(tmp_path, HEADER + "E100,SE,2026-07-01,2026-09-30,1,,\n"
                                    "E200,AE,2026-01-01,,1,,\n")
    assert refused(tenant_a, path) == [
        "assignments.csv row 2, Start Date: the person is on AE from 2026-01-01 to "
        "2026-12-31, which goes on after this row ends; the import ends an earlier assignment "
        "only when the new one runs at least as long (end that assignment in the admin first, "
        "or give this row a later last day)",
        "assignments.csv row 3, End Date: has no end, but the person is on SE from 2026-08-01 "
        "with no end; give this row a last day before 2026-08-01",
    ]


def test_a_different_target_for_an_assignment_held_is_refused(tenant_a, world, tmp_path):
    with tenant_context(tenant_a):
        assignment_create(person=world.ann, plan=world.ae, valid_from=JAN,
                          target_incentive=D("60000.00"))
    path = write(tmp_path, HEADER + "E100,AE,2026-01-01,,65000,,\n")
    assert refused(tenant_a, path) == [
        "assignments.csv row 2, TI: the person is already on AE from 2026-01-01 with no end "
        "with a target incentive of 60000.00; an import does not change the plan or target of "
        "an assignment (change it in the admin, or start the new assignment on a later day)"]


def test_every_problem_of_the_file_is_listed_in_row_order(tenant_a, world, tmp_path):
    path = write(tmp_path, HEADER + "E999,AE,2026-01-01,,1,,\n"
                                    "E100,AE,2026-01-01,,1,,\n"
                                    "E200,XX,2026-13-01,,abc,EUR,half\n")
    problems = refused(tenant_a, path)
    assert [p.split(":")[0] for p in problems] == [
        "assignments.csv row 2, Employee ID", "assignments.csv row 4, Plan Code",
        "assignments.csv row 4, Start Date", "assignments.csv row 4, TI",
        "assignments.csv row 4, Currency", "assignments.csv row 4, Proration"]


def test_missing_columns_are_named_on_the_header_row(tenant_a, world, tmp_path):
    path = write(tmp_path, "Name,Start\nAnn Lee,2026-01-01\n")
    problems = refused(tenant_a, path)
    assert problems[0].startswith("assignments.csv row 1, Person: a column naming the person "
                                  "is missing")
    assert problems[1].startswith("assignments.csv row 1, Plan: required column is missing")


def test_header_variants_are_recognised(tenant_a, world):
    content = (b"Payee Email,Comp Plan,Effective From,Effective End Date,Variable OTE,"
               b"Target Currency,Prorate\nann@example.com,AE,2026-01-01,,1,,\n")
    with tenant_context(tenant_a):
        check = assignment_import_check(content=content, file_name="x.csv")
    assert check.ok, check.errors
    assert check.headers == {
        "email": "Payee Email", "plan": "Comp Plan", "valid_from": "Effective From",
        "end_date": "Effective End Date", "target_incentive": "Variable OTE",
        "currency": "Target Currency", "proration": "Prorate"}


def test_the_help_documents_the_columns_and_apply(capsys):
    with pytest.raises(SystemExit):
        call_command("assignments_import", "--help")
    text = " ".join(capsys.readouterr().out.split())
    assert "--apply" in text
    assert "Without --apply nothing is written" in text
    assert "Target incentive: Target Incentive, TI," in text


def test_a_refusal_by_the_assignment_service_names_its_row_and_column_and_undoes_the_rest(
        tenant_a, world, tmp_path, monkeypatch):
    real = service.assignment_create

    def refuse_bob(**kwargs):
        if kwargs["person"] == world.bob:
            raise ValidationError({"valid_from": "Bob is already on another plan."})
        return real(**kwargs)

    monkeypatch.setattr(service, "assignment_create", refuse_bob)
    path = write(tmp_path, HEADER + "E100,AE,2026-01-01,,1,,\nE200,AE,2026-01-01,,1,,\n")
    assert refused(tenant_a, path, "--apply") == [
        "assignments.csv row 3, Start Date: Bob is already on another plan."]


def test_the_example_file_of_the_docs_is_accepted_as_described(tenant_a, world):
    docs = (Path(__file__).resolve().parents[2] / "docs" / "plans.md").read_text()
    section = docs.split("## Importing plan assignments", 1)[1]
    example = section.split("```text\n", 1)[1].split("```", 1)[0]
    content = example.replace("AE-2026", "AE").replace("SE-2026", "SE").encode()
    with tenant_context(tenant_a):
        check = assignment_import_check(content=content, file_name="assignments.csv")
    assert check.ok, check.errors
    assert [(r.row, r.action, r.shown["last_day"]) for r in check.rows] == [
        (2, "create", "2026-06-30 (the day before row 4 starts)"),
        (3, "create", "2026-06-30"),
        (4, "create", "open")]


# -- the worker ------------------------------------------------------------------------------------


def run_apply_task(tenant, batch, actor=None):
    from compensation.imports.tasks import assignment_import_apply_task

    return assignment_import_apply_task.apply(
        kwargs={"batch_id": batch.pk, "actor_id": actor.pk if actor else None,
                "tenant_id": tenant.pk}, throw=True).result


@pytest.fixture
def previewed(tenant_a, world):
    with tenant_context(tenant_a):
        return service.assignment_import_preview(
            content=(HEADER + "E100,AE,2026-01-01,,1,,\nE200,AE,2026-01-01,,1,,\n").encode(),
            file_name="assignments.csv")


def test_the_worker_writes_a_confirmed_batch_and_credits_who_confirmed_it(
        tenant_a, world, previewed, admin_a):
    with tenant_context(tenant_a):
        AssignmentImport.objects.filter(pk=previewed.pk).update(status="applying")
    assert run_apply_task(tenant_a, previewed, admin_a) == "applied"
    with tenant_context(tenant_a):
        batch = AssignmentImport.objects.get()
        assert (batch.created_count, batch.content) == (2, b"")
        users = {a.history.get().history_user_id for a in PlanAssignment.objects.all()}
    assert users == {admin_a.pk}


def test_the_worker_leaves_a_batch_that_was_not_confirmed_alone(tenant_a, world, previewed):
    assert run_apply_task(tenant_a, previewed) is None
    with tenant_context(tenant_a):
        assert AssignmentImport.objects.get().status == "previewed"
        assert not PlanAssignment.objects.exists()


def test_an_unexpected_error_in_the_worker_fails_the_batch_and_writes_nothing(
        tenant_a, world, previewed, monkeypatch):
    with tenant_context(tenant_a):
        AssignmentImport.objects.filter(pk=previewed.pk).update(status="applying")
    real = service.assignment_create
    calls = []

    def create_one_then_crash(**kwargs):
        calls.append(real(**kwargs))
        if len(calls) == 2:
            raise RuntimeError("bug")
        return calls[-1]

    monkeypatch.setattr(service, "assignment_create", create_one_then_crash)
    assert run_apply_task(tenant_a, previewed) == "failed"
    with tenant_context(tenant_a):
        batch = AssignmentImport.objects.get()
        assert not PlanAssignment.objects.exists()
    assert batch.error_report[-1]["reason"].startswith("The import stopped on an unexpected "
                                                       "error; nothing was written.")
