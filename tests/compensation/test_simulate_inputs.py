"""`manage.py comp_simulate` reads the files finance people have: Excel and CRM exports in any
common encoding and delimiter, .xlsx workbooks, headers as people write them, and amounts with
currency signs and thousands separators, but never guesses which mark is the decimal one."""

from __future__ import annotations

import csv
import datetime
import io
import random
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from django.core.management import CommandError, call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from compensation.management.commands.comp_simulate import (
    CREDIT_COLUMNS,
    Problems,
    money_cents,
    read_input,
)

PLAN = """
plan: AE-SIM
version: 1
components:
  - code: commission
    kind: spiff
    measure: units
    per_unit: 10.00
  - code: revenue
    kind: rate_table
    method: graduated
    tiers:
      - {from: 0%, to: 100%, rate: 8%}
      - {from: 100%, rate: 12%}
"""
CREDIT_HEADER = ["credit_id", "payee_id", "deal_id", "period", "credit_date", "amount", "units"]
CREDIT_ROWS = [
    ["1", "Müller", "D1", "2026-01", "2026-01-10", "60000.00", "3"],
    ["2", "Müller", "D2", "2026-01", "2026-01-20", "60000.00", "2"],
    ["3", "Søren", "D3", "2026-02", "2026-02-03", "10000.50", "1"],
    ["4", "Søren", "D3", "2026-02", "2026-02-27", "-2500.25", "-1"],
]
QUOTA_HEADER = ["payee_id", "period", "quota"]
QUOTA_ROWS = [["Müller", "2026-01", "100000.00"], ["Søren", "2026-02", "50000.00"]]


def text_file(header: list[str], rows: list[list[str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows([header, *rows])
    return out.getvalue()


def workbook(sheets: dict[str, list[list[object]]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class Simulation:
    def __init__(self, folder: Path):
        self.folder = folder
        self.plan = folder / "plan.yaml"
        self.plan.write_text(PLAN, encoding="utf-8")
        self.out = folder / "lines.csv"
        self.stderr = ""

    def file(self, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = self.folder / name
        if isinstance(content, str):
            content = content.encode(encoding)
        path.write_bytes(content)
        return path

    def run(self, credits: Path, quotas: Path, assignments: Path | None = None,
            ) -> list[dict[str, str]]:
        self.out.unlink(missing_ok=True)
        stderr = io.StringIO()
        try:
            call_command("comp_simulate", plan=self.plan, credits=credits, quotas=quotas,
                         assignments=assignments, out=self.out, stderr=stderr)
        finally:
            self.stderr = stderr.getvalue()
        with self.out.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))

    def errors(self, credits: Path, quotas: Path, assignments: Path | None = None) -> str:
        with pytest.raises(CommandError) as caught:
            self.run(credits, quotas, assignments)
        assert not self.out.exists()
        return str(caught.value)


@pytest.fixture
def sim(tmp_path: Path) -> Simulation:
    return Simulation(tmp_path)


@pytest.fixture
def reference(sim: Simulation) -> list[dict[str, str]]:
    """The lines for the plain UTF-8, comma-separated files every other format must match."""
    lines = sim.run(sim.file("ref-credits.csv", text_file(CREDIT_HEADER, CREDIT_ROWS)),
                    sim.file("ref-quotas.csv", text_file(QUOTA_HEADER, QUOTA_ROWS)))
    assert len(lines) == 2 * len(CREDIT_ROWS)
    return lines


def quotas_file(sim: Simulation) -> Path:
    return sim.file("quotas.csv", text_file(QUOTA_HEADER, QUOTA_ROWS))


# -- files ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("delimiter", "label"), [(";", "semicolon"), ("\t", "tab"),
                                                  ("|", "pipe")])
def test_a_file_separated_by_semicolons_tabs_or_pipes_gives_the_same_lines(
        sim, reference, delimiter, label):
    credits = sim.file(f"{label}.csv", text_file(CREDIT_HEADER, CREDIT_ROWS, delimiter))
    quotas = sim.file(f"{label}-quotas.csv", text_file(QUOTA_HEADER, QUOTA_ROWS, delimiter))
    assert sim.run(credits, quotas) == reference


def test_excel_unicode_text_utf16_with_tabs_gives_the_same_lines(sim, reference):
    credits = sim.file("credits.txt", text_file(CREDIT_HEADER, CREDIT_ROWS, "\t"), "utf-16")
    assert credits.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    assert sim.run(credits, quotas_file(sim)) == reference


def test_a_windows_1252_file_keeps_accented_names_and_says_how_it_was_read(sim, reference):
    credits = sim.file("credits.csv", text_file(CREDIT_HEADER, CREDIT_ROWS), "cp1252")
    quotas = sim.file("quotas.csv", text_file(QUOTA_HEADER, QUOTA_ROWS), "cp1252")
    lines = sim.run(credits, quotas)
    assert lines == reference
    assert {line["payee_id"] for line in lines} == {"Müller", "Søren"}
    assert "credits.csv: The file is not UTF-8; it was read as Windows-1252" in sim.stderr


def test_a_byte_order_mark_does_not_hide_the_first_column(sim, reference):
    credits = sim.file("credits.csv", text_file(CREDIT_HEADER, CREDIT_ROWS), "utf-8-sig")
    assert credits.read_bytes().startswith(b"\xef\xbb\xbf")
    assert sim.run(credits, quotas_file(sim)) == reference


def test_headers_match_whatever_their_case_spacing_and_punctuation(sim, reference):
    header = ["Credit ID", "PAYEE_ID", " deal-id ", "Period", "Credit Date", "AMOUNT", "Units"]
    credits = sim.file("credits.csv", text_file(header, CREDIT_ROWS))
    quotas = sim.file("quotas.csv", text_file(["Payee Id", "period", "Quota"], QUOTA_ROWS))
    assert sim.run(credits, quotas) == reference


def test_a_workbook_is_read_with_its_numbers_dates_and_months_as_excel_stores_them(
        sim, reference):
    def typed(row: list[str]) -> list[object]:
        credit_id, payee, deal, period, day, amount, units = row
        year, month = map(int, period.split("-"))
        # Excel turns a typed "2026-01" into the date 2026-01-01 and amounts into floats.
        return [int(credit_id), payee, deal, datetime.datetime(year, month, 1),
                datetime.datetime.fromisoformat(day), float(amount), int(units)]

    credits = sim.file("credits.xlsx", workbook(
        {"Credits": [CREDIT_HEADER, *[typed(row) for row in CREDIT_ROWS]]}))
    assert sim.run(credits, quotas_file(sim)) == reference


def test_one_workbook_serves_every_input_from_its_sheet_of_that_name(sim, reference):
    book = sim.file("model.xlsx", workbook({
        "Notes": [["what-if for the board"]],
        "Quotas": [QUOTA_HEADER, *QUOTA_ROWS],
        "Credits": [CREDIT_HEADER, *CREDIT_ROWS],
    }))
    assert sim.run(book, book) == reference
    assert "the sheet 'Credits' was read" in sim.stderr
    assert "the sheet 'Quotas' was read" in sim.stderr


def test_an_empty_quota_file_with_only_its_header_is_a_plan_without_quotas(sim):
    credits = sim.file("credits.csv", text_file(CREDIT_HEADER, CREDIT_ROWS))
    quotas = sim.file("quotas.csv", text_file(QUOTA_HEADER, []))
    lines = sim.run(credits, quotas)
    by_component = {(line["credit_id"], line["component"]): line["amount"] for line in lines}
    # The per-unit component needs no quota: 10.00 per unit, reversals included.
    assert [by_component[(row[0], "commission")] for row in CREDIT_ROWS] == [
        f"{Decimal(row[6]) * 10:.2f}" for row in CREDIT_ROWS]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("credits.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old-style Excel"),
        ("credits.csv", b"", "credits.csv: The file is empty."),
        ("credits.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "credits.csv: This is a binary"),
        ("credits.csv", b"credit_id,amount\n1,2,3\n", "Line 2 has 3 fields but the header has 2"),
    ],
)
def test_a_file_that_cannot_be_read_is_named_with_the_reason(sim, name, content, message):
    assert message in sim.errors(sim.file(name, content), quotas_file(sim))


def test_unknown_repeated_and_missing_headers_are_each_named(sim):
    header = ["Credit ID", "credit_id", "payee_id", "deal_id", "period", "credit_date",
              "amount", "colour"]
    credits = sim.file("credits.csv", text_file(header, [["1", "2", "E1", "D1", "2026-01",
                                                          "2026-01-02", "5", "red"]]))
    quotas = sim.file("quotas.csv", text_file(["payee_id", "quota"], []))
    message = sim.errors(credits, quotas)
    assert "credits.csv: unknown column(s) colour; expected some of credit_id" in message
    assert "credits.csv: two columns mean the same: 'Credit ID' and 'credit_id'" in message
    assert "quotas.csv: missing column(s) period" in message


def test_an_empty_unnamed_column_after_the_data_is_ignored(sim, reference):
    rows = [[*row, ""] for row in CREDIT_ROWS]
    credits = sim.file("credits.csv", text_file([*CREDIT_HEADER, ""], rows, ";"))
    assert sim.run(credits, quotas_file(sim)) == reference


# -- cells ----------------------------------------------------------------------------------------


def _with(column: str, values: list[str]) -> list[list[str]]:
    at = CREDIT_HEADER.index(column)
    return [[*row[:at], value, *row[at + 1:]] for row, value in zip(CREDIT_ROWS, values,
                                                                     strict=True)]


def test_amounts_with_currency_signs_separators_and_accounting_negatives_are_exact(
        sim, reference):
    written = ["$60,000.00", "USD 60,000", "10,000.50", "$ (2,500.25)"]
    credits = sim.file("credits.csv", text_file(CREDIT_HEADER, _with("amount", written)))
    assert sim.run(credits, quotas_file(sim)) == reference


@pytest.mark.parametrize(
    ("written", "meant"),
    [("1,5", "1.50"), ("1234,50", "1234.50"), ("1.234,50", "1234.50"), ("€ 60.000,00", "60000.00"),
     ("1.234.567", "1234567.00"), ("(1,5)", "-1.50")],
)
def test_an_amount_that_needs_a_guess_at_its_decimal_mark_is_an_error_saying_what_to_write(
        sim, written, meant):
    credits = sim.file("credits.csv", text_file(
        CREDIT_HEADER, _with("amount", ["5.00", "5.00", written, "5.00"]), ";"))
    message = sim.errors(credits, quotas_file(sim))
    assert f"credits.csv row 4, amount: '{written}' " in message
    assert f"if it means {meant}, write {meant}" in message
    assert message.count("credits.csv row") == 1


def test_a_decimal_comma_file_is_told_once_how_to_avoid_the_errors(sim):
    amounts = ["60000,00", "60000,00", "10000,50", "-2500,25"]
    credits = sim.file("credits.csv", text_file(CREDIT_HEADER, _with("amount", amounts), ";"))
    message = sim.errors(credits, quotas_file(sim))
    assert message.count("credits.csv: amounts are written with a decimal comma") == 1
    assert [f"row {n}, amount" in message for n in (2, 3, 4, 5)] == [True] * 4


def test_whole_numbers_refuse_fractions_and_a_dot_that_may_group_thousands(sim):
    credits = sim.file("credits.csv", text_file(
        CREDIT_HEADER, _with("units", ["1,000", "1.000", "2.5", "-3"])))
    message = sim.errors(credits, quotas_file(sim))
    assert "credits.csv row 3, units: '1.000' could mean 1 or 1000" in message
    assert "credits.csv row 4, units: '2.5' is not a whole number" in message
    assert "row 2," not in message
    assert "row 5," not in message


def test_quotas_cannot_be_negative_but_credits_can(sim):
    quotas = sim.file("quotas.csv", text_file(QUOTA_HEADER, [["Müller", "2026-01", "(100)"]]))
    credits = sim.file("credits.csv", text_file(CREDIT_HEADER, _with("amount", [
        "-1.00", "(2.00)", "3.00-", "-$4.00"])))
    message = sim.errors(credits, quotas)
    assert message.splitlines()[1:] == ["  quotas.csv row 2, quota: cannot be negative"]


def test_us_slash_dates_are_read_and_a_day_above_twelve_anywhere_makes_the_file_day_first(
        sim, reference):
    us = _with("credit_date", ["01/10/2026", "01/20/2026", "02/03/2026", "02/27/2026"])
    assert sim.run(sim.file("us.csv", text_file(CREDIT_HEADER, us)), quotas_file(sim)) \
        == reference
    assert "us.csv: dates like 03/04/2025 were read as MM/DD/YYYY" in sim.stderr

    # Lines come in credit-date order within a month: 2 Jan before 1 Feb day-first, the other
    # way round month-first.
    dates = _with("credit_date", ["02/01/2026", "01/02/2026", "03/02/2026", "12/02/2026"])
    header = [*CREDIT_HEADER, "close_date"]

    def order(lines: list[dict[str, str]]) -> list[str]:
        return [line["credit_id"] for line in lines if line["component"] == "revenue"]

    assert order(sim.run(sim.file("ambiguous.csv", text_file(CREDIT_HEADER, dates)),
                         quotas_file(sim))) == ["2", "1", "3", "4"]
    # Only close_date shows the order (31/12), yet it settles credit_date too.
    eu = sim.run(sim.file("eu.csv", text_file(header, [[*row, "31/12/2025"] for row in dates])),
                 quotas_file(sim))
    assert "eu.csv: dates like 03/04/2025 were read as DD/MM/YYYY" in sim.stderr
    assert order(eu) == ["1", "2", "3", "4"]


def test_periods_accept_a_month_without_its_zero_and_refuse_a_day_within_it(sim, reference):
    credits = sim.file("credits.csv", text_file(
        CREDIT_HEADER, _with("period", ["2026-1", "2026-01-01", "2026-2", "2026-02"])))
    assert sim.run(credits, quotas_file(sim)) == reference

    credits = sim.file("credits.csv", text_file(
        CREDIT_HEADER, _with("period", ["2026-01", "2026-01-15", "Feb 2026", "2026-02"])))
    message = sim.errors(credits, quotas_file(sim))
    assert "credits.csv row 3, period: '2026-01-15' is a date, not a month: write 2026-01" \
        in message
    assert "credits.csv row 4, period: 'Feb 2026' is not a month such as 2026-03" in message


def test_rows_are_numbered_as_the_spreadsheet_shows_them_past_blank_lines_and_line_breaks(sim):
    content = ("credit_id;payee_id;deal_id;period;credit_date;amount\r\n"
               '1;E1;"Deal\nwith a line break";2026-01;2026-01-02;1.00\r\n'
               "\r\n"
               "2;E1;D2;2026-01;2026-01-02;1,5\r\n")
    message = sim.errors(sim.file("credits.csv", content), quotas_file(sim))
    assert "credits.csv row 4, amount: '1,5' has a decimal comma" in message


# -- amounts, directly ----------------------------------------------------------------------------


def _written(cents: int, *, grouped: bool, sign: str, currency: str) -> str:
    digits = f"{Decimal(abs(cents)).scaleb(-2):{',' if grouped else ''}.2f}"
    if cents >= 0:
        return currency + digits
    return {"minus": f"-{currency}{digits}", "brackets": f"({currency}{digits})",
            "accounting": f"{currency} ({digits})" if currency else f"({digits})",
            "trailing": f"{currency}{digits}-"}[sign]


@settings(max_examples=300, deadline=None)
@given(cents=st.lists(st.integers(-10**14 + 1, 10**14 - 1), min_size=1, max_size=30),
       grouped=st.booleans(), sign=st.sampled_from(["minus", "brackets", "accounting",
                                                    "trailing"]),
       currency=st.sampled_from(["", "$", "€", "USD "]))
def test_any_amount_with_or_without_thousands_separators_reads_back_as_its_cents(
        cents, grouped, sign, currency):
    raw = pd.Series([_written(c, grouped=grouped, sign=sign, currency=currency) for c in cents],
                    dtype=object)
    result = money_cents(raw, negative=True)
    assert result.problems.isna().all(), result.problems.dropna().tolist()
    assert result.parsed.tolist() == cents


@settings(max_examples=200, deadline=None)
@given(whole=st.integers(0, 10**9), cents=st.integers(1, 99))
def test_a_decimal_comma_is_never_read_as_anything(whole, cents):
    written = f"{whole},{cents:02d}" if cents % 10 else f"{whole},{cents // 10}"
    result = money_cents(pd.Series([written], dtype=object))
    assert result.parsed.tolist() == [None]
    assert "decimal comma" in result.problems[0]


def test_a_hundred_thousand_rows_are_read_and_checked_column_by_column(tmp_path):
    rng = random.Random(7)
    cents = [rng.randint(-10**8, 10**10) for _ in range(100_000)]
    lines = ["Credit ID;Payee ID;Deal ID;Period;Credit Date;Amount;Units"]
    for number, amount in enumerate(cents):
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        lines.append(f"{number};E{number % 700};D{number};2026-{month};{month}/{day}/2026;"
                     f"\"{_written(amount, grouped=True, sign='brackets', currency='$')}\";"
                     f"{rng.randint(0, 5000):,}")
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems, notices = Problems(), []
    frame = read_input(path, CREDIT_COLUMNS, problems, notices, role="credits")
    assert problems.items == []
    assert len(frame) == 100_000
    assert frame["amount_cents"].dtype == "int64"
    assert frame["amount_cents"].tolist() == cents
    assert frame["period"].str.fullmatch(r"2026-\d\d").all()


# -- errors in the file's own words ---------------------------------------------------------------

MARGIN_PLAN = """
plan: M
version: 1
components:
  - code: commission
    kind: rate_table
    measure: margin
    method: graduated
    tiers:
      - {from: 0%, to: 100%, rate: 8%}
      - {from: 100%, rate: 12%}
"""


def test_a_plan_paid_on_margin_names_the_missing_margin_column_as_the_file_would_have_it(sim):
    sim.plan.write_text(MARGIN_PLAN, encoding="utf-8")
    message = sim.errors(sim.file("deals.csv", text_file(CREDIT_HEADER, CREDIT_ROWS)),
                         quotas_file(sim))
    assert "deals.csv: missing column(s) margin" in message
    assert "quotas.csv: missing column(s) quota_margin" in message
    assert "_cents" not in message
    assert "credits:" not in message


def test_an_engine_error_about_a_column_uses_the_header_the_file_wrote(sim):
    from compensation.management.commands.comp_simulate import FileTerms, in_file_terms

    terms = {"quotas": FileTerms(name="targets.xlsx", headers={"quota_cents": "Quota (USD)"})}
    assert in_file_terms("quotas.quota_cents: must be ≥ 0", terms) == (
        "targets.xlsx, column Quota (USD): must be ≥ 0")
    assert in_file_terms("credits: missing column(s) margin_cents, units", {}) == (
        "credits: missing column(s) margin, units")


def test_a_repeated_credit_id_names_the_rows_that_repeat_it(sim):
    rows = [CREDIT_ROWS[0], CREDIT_ROWS[1], [*CREDIT_ROWS[2][:0], "1", *CREDIT_ROWS[2][1:]]]
    header = ["Credit ID", *CREDIT_HEADER[1:]]
    message = sim.errors(sim.file("credits.csv", text_file(header, rows)), quotas_file(sim))
    assert ("credits.csv rows 2, 4: Credit ID 1 appears more than once: each credit needs its "
            "own id") in message


def test_two_quotas_for_one_payee_and_month_name_both_rows(sim):
    quotas = sim.file("quotas.csv", text_file(QUOTA_HEADER, [*QUOTA_ROWS, QUOTA_ROWS[0]]))
    message = sim.errors(sim.file("credits.csv", text_file(CREDIT_HEADER, CREDIT_ROWS)), quotas)
    assert ("quotas.csv rows 2, 4: payee_id Müller, period 2026-01 appears more than once: "
            "a payee has one quota per period") in message


def test_a_proration_that_cannot_be_read_and_dates_out_of_order_name_their_rows(sim):
    header = ["payee_id", "period", "Proration", "valid_from", "valid_to"]
    rows = [["Müller", "2026-01", "1/0", "2026-01-01", "2026-01-31"],
            ["Søren", "2026-02", "15/28", "2026-02-20", "2026-02-01"],
            ["Søren", "2026-01", "3/2", "", ""]]
    message = sim.errors(sim.file("credits.csv", text_file(CREDIT_HEADER, CREDIT_ROWS)),
                         quotas_file(sim), sim.file("people.csv", text_file(header, rows)))
    assert ("people.csv row 2, Proration: '1/0' is not a share of the period between 0 and 1"
            in message)
    assert "people.csv row 3, valid_from: 2026-02-20 is after valid_to 2026-02-01" in message
    assert "people.csv row 4, Proration: '3/2' is not a share" in message
    assert "Fraction" not in message


@pytest.mark.parametrize(("field", "value"), [("last_draw_period", "June"),
                                              ("recovery_start", "2026-13")])
def test_a_draw_month_that_cannot_be_read_is_an_error_naming_its_path(sim, field, value):
    sim.plan.write_text(f"""
plan: D
version: 1
components:
  - code: ramp
    kind: draw
    recoverable: true
    amount: 3000.00
    {field}: "{value}"
""", encoding="utf-8")
    message = sim.errors(sim.file("credits.csv", text_file(CREDIT_HEADER, CREDIT_ROWS)),
                         quotas_file(sim))
    assert (f"plan.yaml: components[0].{field}: '{value}' is not a month; "
            f"write it as 2026-06") in message
