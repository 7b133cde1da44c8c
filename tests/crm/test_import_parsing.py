"""Reading uploads and cleaning cells: encodings, delimiters, workbooks, numbers and dates as CRMs
and spreadsheets write them, and a clear message for every file that cannot be read."""

from __future__ import annotations

import datetime
import io
import zipfile
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest

from spm.crm.imports import cleaning
from spm.crm.imports.export import write_error_report
from spm.crm.imports.fields import DEALS, KINDS, match_headers
from spm.crm.imports.reading import ImportFileError, read_table
from spm.web import csv_safe

SALESFORCE_OPPORTUNITY_EXPORT = [
    "Opportunity ID", "Opportunity Name", "Account ID", "Amount", "Close Date", "Stage",
    "Opportunity Owner", "Type", "Product Family", "Created Date", "Lost Reason",
    "Forecast Category",
]
HUBSPOT_DEAL_EXPORT = [
    "Record ID", "Deal Name", "Associated Company ID", "Amount", "Close Date", "Deal Stage",
    "Deal owner", "Deal Type", "Create Date", "Closed Lost Reason", "Forecast category",
    "Pipeline",
]


def workbook(sheets: dict[str, list[list]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def series(*values: str) -> pd.Series:
    return pd.Series(list(values), dtype=str)


# -- headers --------------------------------------------------------------------------------------


def test_a_salesforce_opportunity_export_maps_every_column_to_a_deal_field():
    match = match_headers(DEALS, SALESFORCE_OPPORTUNITY_EXPORT)
    assert match.ignored == []
    assert set(match.columns) == {
        "external_id", "name", "account_id", "amount", "close_date", "stage_id", "owner_id",
        "deal_type", "product_line", "created_date", "lost_reason", "forecast_category",
    }


def test_a_hubspot_deal_export_maps_its_columns_and_ignores_the_pipeline():
    match = match_headers(DEALS, HUBSPOT_DEAL_EXPORT)
    assert match.headers["external_id"] == "Record ID"
    assert match.headers["owner_id"] == "Deal owner"
    assert match.headers["stage_id"] == "Deal Stage"
    assert match.headers["created_date"] == "Create Date"
    assert match.ignored == ["Pipeline"]


def test_headers_match_whatever_their_case_spacing_and_punctuation():
    match = match_headers(DEALS, ["  opportunity_id ", "CLOSE-DATE", "amount"])
    assert match.columns == {"external_id": 0, "close_date": 1, "amount": 2}


def test_the_more_specific_header_wins_when_two_could_mean_the_same_field():
    match = match_headers(DEALS, ["Id", "Opportunity ID", "Owner", "Owner Email"])
    assert match.headers["external_id"] == "Opportunity ID"
    assert match.headers["owner_id"] == "Owner Email"
    assert match.ignored == ["Id", "Owner"]


def test_every_kind_has_a_required_key_column():
    for kind in KINDS.values():
        assert kind.field(kind.key).required


# -- files ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "deals.csv", "The file is empty."),
        (b"  \r\n\n ", "deals.csv", "The file is empty."),
        (b"Opportunity ID,Amount\r\n", "deals.csv", "a header row but no data rows"),
        (b"Opportunity ID,Amount\r\n,\r\n\r\n", "deals.csv", "a header row but no data rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "deals.csv", "binary file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 50, "deals.xls", "old-style Excel"),
        (b"a,b\n1,2\n", "deals.xlsx", "not a valid .xlsx workbook"),
        (b"a,b\n1,2,3,4\n", "deals.csv", "Line 2 has 4 fields but the header has 2"),
    ],
)
def test_an_unreadable_file_gets_a_message_that_says_why(content, name, message):
    with pytest.raises(ImportFileError, match=message):
        read_table(content, file_name=name)


def test_a_zip_archive_that_is_not_a_workbook_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ImportFileError, match=r"not an \.xlsx workbook"):
        read_table(out.getvalue(), file_name="deals.xlsx")


def test_row_numbers_are_the_files_own_even_across_blank_lines():
    table = read_table(b"ID,Amount\n1,10\n\n2,20\n", file_name="x.csv")
    assert table.cells.index.tolist() == [2, 4]
    assert table.cells[1].tolist() == ["10", "20"]


def test_a_byte_order_mark_is_not_part_of_the_first_header():
    table = read_table("\ufeffOpportunity ID,Amount\n1,10\n".encode(), file_name="x.csv")
    assert table.headers == ["Opportunity ID", "Amount"]
    assert table.notices == []


def test_windows_1252_text_is_read_with_a_notice():
    content = "Name,Owner\nMüller GmbH,José\n".encode("cp1252")
    table = read_table(content, file_name="x.csv")
    assert table.cells.iloc[0].tolist() == ["Müller GmbH", "José"]
    assert "not UTF-8; it was read as Windows-1252" in table.notices[0]


def test_excel_unicode_text_export_is_read_as_tab_separated_utf16():
    content = "Opportunity ID\tAmount\r\nA-1\t1.234,50\r\n".encode("utf-16")
    table = read_table(content, file_name="x.txt")
    assert table.headers == ["Opportunity ID", "Amount"]
    assert table.cells.iloc[0].tolist() == ["A-1", "1.234,50"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_detected(delimiter):
    content = delimiter.join(["ID", "Name", "Amount"]) + "\n" + delimiter.join(
        ["1", '"Smith, Jones"', "10"]
    ) + "\n"
    table = read_table(content.encode(), file_name="x.csv")
    assert table.headers == ["ID", "Name", "Amount"]


def test_formulas_are_kept_as_text_and_mentioned():
    table = read_table(b'ID,Name\n1,"=CMD(""calc"")"\n', file_name="x.csv")
    assert table.cells.iloc[0, 1] == '=CMD("calc")'
    assert "1 cell(s) begin with '='" in table.notices[0]


def test_a_workbook_is_read_from_its_first_sheet_with_a_notice_naming_the_others():
    content = workbook({
        "Opportunities": [["Opportunity ID", "Amount"], ["A-1", 1234.5]],
        "Notes": [["nothing", "here"]],
    })
    table = read_table(content, file_name="export.xlsx")
    assert table.sheet == "Opportunities"
    assert table.cells.iloc[0].tolist() == ["A-1", "1234.5"]
    assert "2 sheets (Opportunities, Notes)" in table.notices[0]


def test_a_chosen_sheet_is_read_by_name_or_number_and_an_unknown_one_is_named():
    content = workbook({"Summary": [["x"], ["y"]], "Deals": [["Deal ID"], ["D-9"]]})
    assert read_table(content, sheet="deals").cells.iloc[0, 0] == "D-9"
    assert read_table(content, sheet="2").cells.iloc[0, 0] == "D-9"
    with pytest.raises(ImportFileError, match="no sheet 'Pipeline'; its sheets are: Summary, "):
        read_table(content, sheet="Pipeline")


def test_workbook_dates_serials_and_formulas_become_text_the_cleaners_read():
    content = workbook({"Deals": [
        ["Close Date", "Serial", "Formula", "Whole"],
        [datetime.datetime(2026, 3, 31), 46112, "=HYPERLINK(\"http://x\")", 12.0],
    ]})
    row = read_table(content).cells.iloc[0].tolist()
    assert row == ["2026-03-31", "46112", '=HYPERLINK("http://x")', "12"]
    days = cleaning.day(series(row[0], row[1]), label="Close date")
    assert days.parsed.tolist() == [datetime.date(2026, 3, 31), datetime.date(2026, 3, 31)]


# -- cells ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1234.5", Decimal("1234.5")),
        ("1,234.50", Decimal("1234.50")),
        ("$1,234.50", Decimal("1234.50")),
        ("€ 1.234,50", Decimal("1234.50")),
        ("1 234,50 EUR", Decimal("1234.50")),
        ("USD 12", Decimal("12")),
        ("12,5", Decimal("12.5")),
        ("1,000,000", Decimal("1000000")),
        ("0.10", Decimal("0.10")),
        ("-0", Decimal("0")),
    ],
)
def test_amounts_are_read_exactly_in_the_ways_people_write_them(text, amount):
    result = cleaning.money(series(text))
    assert result.problems.tolist() == [None]
    assert result.parsed[0] == amount
    assert isinstance(result.parsed[0], Decimal)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("abc", "'abc' is not a number"),
        ("1e5", "'1e5' is not a number"),
        ("-250", "cannot be negative"),
        ("(250)", "cannot be negative"),
        ("10.125", "'10.125' has more than 2 decimal places"),
        ("1234567890123", "is too large"),
        ("=1+2", "'=1+2' is not a number"),
    ],
)
def test_bad_amounts_say_what_is_wrong(text, reason):
    result = cleaning.money(series(text))
    assert reason in result.problems[0]
    assert result.parsed[0] is None


def test_a_negative_margin_is_allowed_where_the_field_says_so():
    assert cleaning.money(series("-12.50"), negative=True).parsed[0] == Decimal("-12.50")


@pytest.mark.parametrize("text", ["(1,234.50)", "$ (1,234.50)", "-$1,234.50", "1,234.50-"])
def test_negative_amounts_are_read_as_accounting_exports_write_them(text):
    assert cleaning.money(series(text), negative=True).parsed[0] == Decimal("-1234.50")


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-03-31", datetime.date(2026, 3, 31)),
        ("2026-3-1", datetime.date(2026, 3, 1)),
        ("2026-03-31T17:00:00Z", datetime.date(2026, 3, 31)),
        ("3/31/2026", datetime.date(2026, 3, 31)),
        ("31.03.2026", datetime.date(2026, 3, 31)),
        ("2026/03/31", datetime.date(2026, 3, 31)),
        ("20260331", datetime.date(2026, 3, 31)),
        ("31-Mar-2026", datetime.date(2026, 3, 31)),
        ("Mar 31, 2026", datetime.date(2026, 3, 31)),
        ("46112", datetime.date(2026, 3, 31)),
        ("03/31/2026 00:00", datetime.date(2026, 3, 31)),
        ("3/31/2026 5:30 PM", datetime.date(2026, 3, 31)),
        ("31.03.2026 17:00:00", datetime.date(2026, 3, 31)),
    ],
)
def test_dates_are_read_in_iso_and_the_common_export_formats(text, day):
    result = cleaning.day(series(text), label="Close date")
    assert result.problems.tolist() == [None]
    assert result.parsed[0] == day


def test_slash_dates_are_month_first_unless_the_column_shows_day_first():
    us = cleaning.day(series("03/04/2026", "12/31/2026"), label="Close date")
    assert us.parsed.tolist() == [datetime.date(2026, 3, 4), datetime.date(2026, 12, 31)]
    assert "MM/DD/YYYY" in us.notice
    eu = cleaning.day(series("03/04/2026", "31/12/2026"), label="Close date")
    assert eu.parsed.tolist() == [datetime.date(2026, 4, 3), datetime.date(2026, 12, 31)]
    assert "DD/MM/YYYY (day first)" in eu.notice


@pytest.mark.parametrize(
    "text", ["2026-13-01", "31/31/2026", "2026-02-00", "soon", "99999999", "1234"]
)
def test_a_bad_date_says_which_formats_work(text):
    result = cleaning.day(series(text), label="Close date")
    assert result.problems[0] == (
        f"'{text}' is not a date (use YYYY-MM-DD; MM/DD/YYYY, DD.MM.YYYY, 1-Mar-2025 and Excel "
        "date numbers also work)"
    )


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("2/30/2026", "February 30, 2026"),
        ("2026-02-30", "February 30, 2026"),
        ("2026/04/31", "April 31, 2026"),
        ("31.06.2026", "June 31, 2026"),
        ("30-Feb-2026", "February 30, 2026"),
        ("Feb 29, 2025", "February 29, 2025"),
        ("2/29/25", "February 29, 2025"),
        ("20260931", "September 31, 2026"),
    ],
)
def test_a_day_the_month_does_not_have_is_named_rather_than_called_a_bad_format(text, missing):
    result = cleaning.day(series(text), label="Close date")
    assert result.problems[0] == f"'{text}' is not a real day: {missing} does not exist"
    assert result.parsed[0] is None


def test_a_missing_day_with_a_time_after_it_is_named_as_written():
    result = cleaning.day(series("04/31/2026 00:00"), label="Close date")
    assert result.problems[0] == (
        "'04/31/2026 00:00' is not a real day: April 31, 2026 does not exist"
    )


def test_a_day_missing_from_a_day_first_column_is_read_day_first():
    result = cleaning.day(series("31/12/2026", "30/02/2026"), label="Close date")
    assert result.parsed[0] == datetime.date(2026, 12, 31)
    assert result.problems[1] == "'30/02/2026' is not a real day: February 30, 2026 does not exist"


def test_february_29_of_a_leap_year_is_a_real_day():
    assert cleaning.day(series("2/29/2028"), label="Close date").parsed[0] == datetime.date(
        2028, 2, 29
    )


def test_a_time_on_a_day_that_does_not_exist_says_so():
    result = cleaning.moment(series("2026-02-30 10:00", "4/31/2026 9:00 AM"), label="Created",
                             timezone="UTC")
    assert result.problems.tolist() == [
        "'2026-02-30 10:00' is not a real day: February 30, 2026 does not exist",
        "'4/31/2026 9:00 AM' is not a real day: April 31, 2026 does not exist",
    ]


def test_times_without_offset_are_local_and_a_clock_change_gap_is_flagged():
    result = cleaning.moment(
        series("2026-03-01 10:00", "2026-03-01T10:00:00+02:00", "3/1/2026 10:15 AM",
               "2026-03-29 02:30"),
        label="Created", timezone="Europe/Berlin",
    )
    utc = datetime.UTC
    assert result.parsed.tolist()[:3] == [
        datetime.datetime(2026, 3, 1, 9, 0, tzinfo=utc),
        datetime.datetime(2026, 3, 1, 8, 0, tzinfo=utc),
        datetime.datetime(2026, 3, 1, 9, 15, tzinfo=utc),
    ]
    assert "does not exist or is ambiguous in Europe/Berlin" in result.problems[3]


def test_whole_numbers_refuse_fractions_and_negatives():
    result = cleaning.count(series("1,200", "3.0", "2.5", "-1"))
    assert result.parsed.tolist()[:2] == [1200, 3]
    assert result.problems.tolist()[2:] == ["'2.5' is not a whole number", "cannot be negative"]


def test_text_longer_than_the_field_is_flagged():
    result = cleaning.text(series("x" * 65), max_length=64)
    assert result.problems[0] == "is longer than 64 characters"


# -- export ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=CMD(\"calc\")", "'=CMD(\"calc\")"),
        ("+1-555", "'+1-555"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("Initech", "Initech"),
        (12, "12"),
        (None, ""),
    ],
)
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(value, safe):
    assert csv_safe(value) == safe


def test_the_error_report_csv_neutralises_every_cell():
    out = io.StringIO()
    write_error_report(out, [{"row": 3, "column": "=Amount", "reason": "bad",
                              "value": '=CMD("calc")'}])
    assert out.getvalue().splitlines() == [
        "row,column,reason,value", "3,'=Amount,bad,\"'=CMD(\"\"calc\"\")\"",
    ]
