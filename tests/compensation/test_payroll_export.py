"""The payroll file: the tenant's columns, paid once, the same bytes forever; refused for a
period that is not approved; two approvals or exports at once are one after the other."""

from __future__ import annotations

import csv
import hashlib
import io
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from openpyxl import load_workbook

from compensation.models import (
    PayCycle,
    PayCycleStatus,
    PayeeApproval,
    PayeePayroll,
    PayeePeriodResult,
    Payout,
    PayoutStatus,
    PayrollExport,
    PayrollLayout,
    PlanAssignment,
)
from compensation.services.paycycle import paycycle_approve, paycycle_lock, paycycle_submit
from compensation.services.payroll import payroll_export, payroll_layout_set
from spm.crm.models import Deal
from spm.org.models import Person
from spm.tenancy.context import tenant_context

from .paycycle_world import build_pay_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def pay(tenant_a, make_member, time_machine):
    return build_pay_world(tenant_a, make_member, time_machine)


def approve(tenant, pay) -> None:
    with tenant_context(tenant):
        paycycle_submit(period=pay.march, actor=pay.finance)
        paycycle_approve(period=pay.march, actor=pay.finance)


def rows_of(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode())))


def test_an_approved_period_exports_in_the_tenants_columns_and_pays_each_payee_once(
        tenant_a, pay):
    first, second = pay.comp.reps
    approve(tenant_a, pay)
    with tenant_context(tenant_a):
        PayeePayroll.objects.create(person=second, payroll_code="PR-2", cost_centre="CC-WEST")
        payroll_layout_set(columns=["employee_id", "payroll_code", "cost_centre", "currency",
                                    "amount", "period"])
        export = payroll_export(period=pay.march, file_format="csv", actor=pay.finance)
        totals = dict(PayeePeriodResult.objects.filter(period=pay.march)
                      .values_list("payee_id", "total"))
        payouts = list(Payout.objects.values_list("payee_id", "amount", "status"))
        cycle = PayCycle.objects.get(period=pay.march)
    rows = rows_of(bytes(export.content))
    assert rows[0] == ["Employee ID", "Payroll code", "Cost centre", "Currency", "Amount",
                       "Period"]
    by_id = {r[0]: r for r in rows[1:]}
    assert by_id[second.employee_id] == [second.employee_id, "PR-2", "CC-WEST", "USD",
                                         f"{totals[second.pk]:.2f}", "2026-03"]
    assert by_id[first.employee_id][4] == f"{totals[first.pk]:.2f}"
    assert sorted(payouts) == sorted((p, totals[p], PayoutStatus.PAID) for p in totals)
    assert export.sha256 == hashlib.sha256(bytes(export.content)).hexdigest()
    assert cycle.status == PayCycleStatus.PAID


def test_the_ledger_summary_adds_up_to_the_payouts_by_component_and_by_team(tenant_a, pay):
    approve(tenant_a, pay)
    with tenant_context(tenant_a):
        export = payroll_export(period=pay.march, file_format="xlsx")
        paid = sum(Payout.objects.values_list("amount", flat=True))
    summary = rows_of(bytes(export.summary))
    components = sum(Decimal(r[2]) for r in summary if r[0] == "component")
    teams = sum(Decimal(r[2]) for r in summary if r[0] == "team")
    assert components == teams == paid == Decimal(summary[-1][2])
    book = load_workbook(io.BytesIO(bytes(export.content)))
    assert book.sheetnames == ["Payroll", "GL summary"]
    amounts = [row[-1] for row in book["Payroll"].iter_rows(min_row=2, values_only=True)]
    assert sum(Decimal(str(a)) for a in amounts) == paid


def test_exporting_again_pays_nobody_twice_and_gives_the_same_bytes_after_later_changes(
        tenant_a, pay):
    approve(tenant_a, pay)
    with tenant_context(tenant_a):
        first_csv = payroll_export(period=pay.march, file_format="csv")
        first_xlsx = payroll_export(period=pay.march, file_format="xlsx")
        paycycle_lock(period=pay.march, actor=pay.finance)
        payouts = Payout.objects.count()
        # Later: people renamed and re-coded, deals grown, plans ended, the layout changed.
        for person in Person.objects.all():
            Person.objects.filter(pk=person.pk).update(name="Renamed",
                                                       employee_id=f"NEW-{person.pk}")
        PayeePayroll.objects.create(person=pay.comp.reps[0], payroll_code="LATER")
        Deal.objects.update(amount=Decimal("999999.00"))
        PlanAssignment.objects.update(target_incentive=Decimal("1.00"))
        payroll_layout_set(columns=["name", "amount"])
        again_csv = payroll_export(period=pay.march, file_format="csv")
        again_xlsx = payroll_export(period=pay.march, file_format="xlsx")
        assert Payout.objects.count() == payouts
        assert PayrollExport.objects.count() == 2
    assert bytes(again_csv.content) == bytes(first_csv.content)
    assert bytes(again_xlsx.content) == bytes(first_xlsx.content)
    assert hashlib.sha256(bytes(again_csv.content)).hexdigest() == first_csv.sha256


def test_a_period_that_is_not_approved_is_refused_naming_why_and_nothing_is_written(
        tenant_a, pay, tmp_path):
    with tenant_context(tenant_a):
        paycycle_submit(period=pay.march, actor=pay.finance)
        with pytest.raises(ValidationError, match="is in review, not approved"):
            payroll_export(period=pay.march, file_format="csv")
        assert not Payout.objects.exists()
        assert not PayrollExport.objects.exists()
    out = tmp_path / "march.csv"
    with pytest.raises(CommandError, match="in review, not approved"):
        call_command("payroll_export", tenant="acme", period="2026-03", file_format="csv",
                     output=str(out))
    assert not out.exists()


def test_the_command_writes_the_stored_file_of_an_approved_month(tenant_a, pay, tmp_path):
    approve(tenant_a, pay)
    out = tmp_path / "march.xlsx"
    printed = io.StringIO()
    call_command("payroll_export", "--tenant", "acme", "--period", "2026-03", "--format", "xlsx",
                 "--output", str(out), stdout=printed)
    with tenant_context(tenant_a):
        export = PayrollExport.objects.get()
    assert out.read_bytes() == bytes(export.content)
    assert export.sha256 in printed.getvalue()


def test_a_layout_with_an_unknown_or_repeated_column_is_refused_and_nothing_saved(tenant_a):
    with tenant_context(tenant_a):
        with pytest.raises(ValidationError, match="Column 2 'salary' is not a payroll column"):
            payroll_layout_set(columns=["employee_id", "salary"])
        with pytest.raises(ValidationError, match="Column 3 'amount' is already"):
            payroll_layout_set(columns=["amount", "name", "amount"])
        assert not PayrollLayout.objects.exists()


def test_a_csv_cell_that_looks_like_a_formula_is_written_as_text(tenant_a, pay):
    rep = pay.comp.reps[0]
    approve(tenant_a, pay)
    with tenant_context(tenant_a):
        Person.objects.filter(pk=rep.pk).update(name="=HYPERLINK(1)")
        payroll_layout_set(columns=["name", "amount"])
        export = payroll_export(period=pay.march, file_format="csv")
    names = [r[0] for r in rows_of(bytes(export.content))]
    assert "'=HYPERLINK(1)" in names


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_exports_and_two_approvals_at_once_are_one_after_the_other(
        tenant_a, make_member, time_machine):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL")
    pay = build_pay_world(tenant_a, make_member, time_machine)
    with tenant_context(tenant_a):
        paycycle_submit(period=pay.march, actor=pay.finance)
    errors: list[BaseException] = []
    results: list[object] = []

    def run(action):
        def body():
            try:
                with tenant_context(tenant_a):
                    results.append(action())
            except ValidationError as exc:
                results.append(exc)
            except BaseException as exc:
                errors.append(exc)
            finally:
                connection.close()
        return body

    def both(action) -> None:
        threads = [threading.Thread(target=run(action)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

    both(lambda: paycycle_approve(period=pay.march, actor=pay.finance))
    approvals = [r for r in results if isinstance(r, PayCycle)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    results.clear()
    both(lambda: payroll_export(period=pay.march, file_format="csv"))
    exports = list(results)
    with tenant_context(tenant_a):
        approval_rows = PayeeApproval.objects.count()
        payout_rows = Payout.objects.count()
        payees = PayeePeriodResult.objects.filter(period=pay.march).count()
        stored = PayrollExport.objects.count()
    assert errors == []
    assert len(approvals) == 1
    assert "already approved" in str(refused[0]) or "only a period in review" in str(refused[0])
    assert approval_rows == payout_rows == payees
    assert stored == 1
    assert len({bytes(e.content) for e in exports}) == 1
