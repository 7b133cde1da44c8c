"""The payroll file of a period, in the tenant's column layout, and its general-ledger summary.

Exporting an approved period writes one paid Payout per approved payee and keeps the file's
bytes and SHA-256: asking again (from the page or `manage.py payroll_export`) returns the same
bytes and pays nobody twice, whatever changes later to plans, deals or people.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from compensation.models import (
    LineItem,
    PayCycle,
    PayCycleStatus,
    PayeePayroll,
    PayeePeriodResult,
    Payout,
    PayoutStatus,
    PayrollExport,
    PayrollLayout,
)
from compensation.selectors import period_key
from compensation.services.paycycle import paycycle_for_update, paycycle_paid
from spm.org.models import Period, Person
from spm.org.selectors import placements_of
from spm.tenancy.actors import acting_user

FORMATS = ("csv", "xlsx")

#: Every column a payroll file may have: key -> header. A layout is an ordered choice of keys.
COLUMNS: dict[str, str] = {
    "employee_id": "Employee ID",
    "name": "Name",
    "email": "Email",
    "title": "Title",
    "team": "Team",
    "payroll_code": "Payroll code",
    "cost_centre": "Cost centre",
    "period": "Period",
    "period_start": "Period start",
    "period_end": "Period end",
    "currency": "Currency",
    "amount": "Amount",
    "amount_cents": "Amount (cents)",
    "reference": "Reference",
}
DEFAULT_COLUMNS = ["employee_id", "name", "payroll_code", "cost_centre", "period", "currency",
                   "amount"]


# ---- the layout ----------------------------------------------------------------------------


def payroll_columns() -> list[str]:
    """The tenant's column layout, or the default one."""
    layout = PayrollLayout.objects.first()
    return list(layout.columns) if layout and layout.columns else list(DEFAULT_COLUMNS)


def _clean_columns(columns: Sequence[str]) -> list[str]:
    cleaned = [str(c).strip() for c in columns if str(c).strip()]
    if not cleaned:
        raise ValidationError({"columns": "Choose at least one column for the payroll file."})
    for position, column in enumerate(cleaned, start=1):
        if column not in COLUMNS:
            raise ValidationError({"columns": (
                f"Column {position} {column!r} is not a payroll column; choose from: "
                + ", ".join(COLUMNS) + ".")})
    seen: set[str] = set()
    for position, column in enumerate(cleaned, start=1):
        if column in seen:
            raise ValidationError({"columns": f"Column {position} {column!r} is already in "
                                              "the layout; each column appears once."})
        seen.add(column)
    return cleaned


@transaction.atomic
def payroll_layout_set(*, columns: Sequence[str], actor: Any = None) -> PayrollLayout:
    """Set the tenant's payroll columns, in order; an unknown or repeated column writes
    nothing. Files already exported keep the layout they were made with."""
    cleaned = _clean_columns(columns)
    layout = PayrollLayout.objects.select_for_update().first() or PayrollLayout()
    layout.columns = cleaned
    layout.save()
    return layout


# ---- the export ----------------------------------------------------------------------------


def _refuse(cycle: PayCycle) -> None:
    status = cycle.get_status_display().lower()
    raise ValidationError(
        f"{cycle.period} is {status}, not approved: only an approved period is exported to "
        "payroll. Submit it for review and approve it on its pay page first.")


def payroll_export(*, period: Period, file_format: str, actor: Any = None) -> PayrollExport:
    """The payroll file of an approved (or already paid) period, in `file_format`.

    The first export of an approved period writes a paid Payout per approved payee and moves
    the cycle to paid; every later one returns the stored file, byte for byte. A format not yet
    asked for is made from the stored payouts. Runs under the cycle's lock, so two exports at
    once give one set of payouts and one file.
    """
    if file_format not in FORMATS:
        raise ValidationError({"file_format": f"{file_format!r} is not a payroll format; "
                                              "choose csv or xlsx."})
    with transaction.atomic():
        cycle = paycycle_for_update(period=period)
        stored = PayrollExport.objects.filter(cycle=cycle, file_format=file_format).first()
        if stored is not None:
            return stored
        if cycle.status == PayCycleStatus.APPROVED:
            _pay(cycle=cycle, actor=actor)
        elif cycle.status != PayCycleStatus.PAID:
            _refuse(cycle)
        payouts = list(Payout.objects.filter(period=period, status=PayoutStatus.PAID)
                       .select_related("payee"))
        columns = payroll_columns()
        rows = _rows(payouts=payouts, period=period, columns=columns)
        content = (_csv([COLUMNS[c] for c in columns], rows) if file_format == "csv"
                   else _xlsx(columns=columns, rows=rows, period=period,
                              summary=_summary(period=period, payouts=payouts)))
        summary = _csv(["Section", "Key", "Amount"], _summary(period=period, payouts=payouts))
        return PayrollExport.objects.create(
            cycle=cycle, file_format=file_format, content=content,
            sha256=hashlib.sha256(content).hexdigest(), summary=summary,
            summary_sha256=hashlib.sha256(summary).hexdigest(),
            created_by=acting_user(actor), created_at=timezone.now())


def _pay(*, cycle: PayCycle, actor: Any) -> None:
    if Payout.objects.filter(period=cycle.period).exists():
        # A cycle is paid once: payouts already here came from an earlier export.
        raise ValidationError(f"{cycle.period} already has payouts: it is not paid twice.")
    approvals = list(cycle.approvals.all())
    runs = dict(PayeePeriodResult.objects.filter(period=cycle.period)
                .values_list("payee_id", "run_id"))
    now = timezone.now()
    reference = f"PAYROLL-{period_key(cycle.period.start_date)}"
    Payout.objects.bulk_create([
        Payout(payee_id=a.payee_id, period=cycle.period, run_id=runs[a.payee_id],
               amount=a.amount, currency=a.currency, status=PayoutStatus.PAID,
               approved_by_id=a.second_approved_by_id or a.approved_by_id,
               approved_at=a.second_approved_at or a.approved_at,
               exported_at=now, paid_at=now, reference=reference)
        for a in approvals])
    total = sum((a.amount for a in approvals), Decimal("0.00"))
    paycycle_paid(cycle=cycle, actor=actor,
                  reason=f"Exported to payroll: {len(approvals)} payouts, {total}.")


def _rows(*, payouts: Sequence[Payout], period: Period,
          columns: Sequence[str]) -> list[list[Any]]:
    people: list[Person] = [p.payee for p in payouts]
    codes = {c.person_id: c for c in PayeePayroll.objects.filter(
        person_id__in=[p.pk for p in people])}
    placements = placements_of(people=people, on=period.last_day)
    rows = []
    for payout in sorted(payouts, key=lambda p: (p.payee.employee_id, p.payee_id)):
        person = payout.payee
        code = codes.get(person.pk)
        team = placements[person.pk].team
        values: dict[str, Any] = {
            "employee_id": person.employee_id, "name": person.name, "email": person.email,
            "title": person.title, "team": team.name if team else "",
            "payroll_code": code.payroll_code if code else "",
            "cost_centre": code.cost_centre if code else "",
            "period": period_key(period.start_date), "period_start": period.start_date,
            "period_end": period.last_day, "currency": payout.currency,
            "amount": payout.amount, "amount_cents": int(payout.amount.scaleb(2)),
            "reference": payout.reference,
        }
        rows.append([values[c] for c in columns])
    return rows


def _summary(*, period: Period, payouts: Sequence[Payout]) -> list[list[Any]]:
    """Totals for the general ledger: by component (from the paid run's lines) and by team."""
    payee_ids = [p.payee_id for p in payouts]
    by_component = (LineItem.objects.filter(period=period, payee_id__in=payee_ids)
                    .values("component__name", "line_type").annotate(total=Sum("amount"))
                    .order_by("component__name", "line_type"))
    rows: list[list[Any]] = []
    for row in by_component:
        name = row["component__name"] or row["line_type"].replace("_", " ").capitalize()
        rows.append(["component", name, row["total"]])
    placements = placements_of(people=[p.payee for p in payouts], on=period.last_day)
    teams: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for payout in payouts:
        team = placements[payout.payee_id].team
        teams[team.name if team else "No team"] += payout.amount
    rows.extend(["team", name, teams[name]] for name in sorted(teams))
    rows.append(["total", "All payees", sum((p.amount for p in payouts), Decimal("0.00"))])
    return rows


def _csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([[_text(v) for v in row] for row in rows])
    return out.getvalue().encode("utf-8")


def _text(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    text = str(value)
    # A spreadsheet would run a cell that starts like a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def _xlsx(*, columns: Sequence[str], rows: Sequence[Sequence[Any]], period: Period,
          summary: Sequence[Sequence[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Payroll"
    sheet.append([COLUMNS[c] for c in columns])
    for row in rows:
        sheet.append([_text(v) if isinstance(v, str) else v for v in row])
    for column, key in enumerate(columns, start=1):
        if key == "amount":
            for cell in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
                cell[0].number_format = "#,##0.00"
    ledger = book.create_sheet("GL summary")
    ledger.append(["Section", "Key", "Amount"])
    for row in summary:
        ledger.append(list(row))
    # The file is kept as exported; fixed properties at least make a rebuild comparable.
    stamp = datetime.datetime(period.start_date.year, period.start_date.month, 1)  # noqa: DTZ001
    book.properties.created = book.properties.modified = stamp
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


__all__ = [
    "COLUMNS",
    "DEFAULT_COLUMNS",
    "FORMATS",
    "payroll_columns",
    "payroll_export",
    "payroll_layout_set",
]
