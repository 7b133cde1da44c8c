"""Reading an uploaded file into a table of text cells: CSV in any common encoding and delimiter,
or one sheet of an XLSX workbook. Whatever goes wrong becomes an ImportFileError whose message
tells the person who uploaded the file what to do."""

from __future__ import annotations

import csv
import datetime
import io
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 .xls and other Office binaries
# A workbook inflates to several times its size; far beyond that it is a zip bomb.
MAX_XLSX_INFLATION = 40
DELIMITERS = ",;\t|"
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ImportFileError(ValueError):
    """The file as a whole cannot be imported; the message says why and what to do."""


@dataclass
class Table:
    """Header names and text cells; the index holds each row's number in the file (header = 1)."""

    headers: list[str]
    cells: pd.DataFrame
    notices: list[str] = field(default_factory=list)
    sheet_names: list[str] = field(default_factory=list)
    sheet: str = ""


def read_table(
    content: bytes, *, file_name: str = "", sheet: str = "", allow_no_rows: bool = False
) -> Table:
    """`allow_no_rows` accepts a header with no data under it, for inputs that may be empty."""
    if not content or not content.strip():
        raise ImportFileError("The file is empty.")
    if content.startswith(XLSX_MAGIC):
        return _read_xlsx(content, sheet=sheet, allow_no_rows=allow_no_rows)
    if content.startswith(OLE_MAGIC):
        raise ImportFileError(
            "This is an old-style Excel file (.xls). Save it as .xlsx or CSV and upload that."
        )
    if file_name.lower().endswith((".xlsx", ".xlsm")):
        raise ImportFileError(f"{file_name} is not a valid .xlsx workbook.")
    text, notices = _decode(content)
    rows = _parse_csv(text)
    return _table(rows, notices=notices, allow_no_rows=allow_no_rows)


# -- CSV ------------------------------------------------------------------------------------------


def _decode(content: bytes) -> tuple[str, list[str]]:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text" export: UTF-16 with a byte-order mark, tab separated.
        try:
            return content.decode("utf-16"), []
        except UnicodeDecodeError:
            raise ImportFileError("The file claims to be UTF-16 text but is not.") from None
    if b"\x00" in content:
        raise ImportFileError(
            "This is a binary file, not CSV text or an .xlsx workbook. Export the data from your "
            "CRM or spreadsheet as CSV (UTF-8) or .xlsx."
        )
    try:
        text = content.decode("utf-8-sig")
        notices = []
    except UnicodeDecodeError:
        try:
            text = content.decode("cp1252")
            encoding = "Windows-1252 (Western European)"
        except UnicodeDecodeError:
            text = content.decode("latin-1")
            encoding = "Latin-1 (ISO 8859-1)"
        notices = [
            f"The file is not UTF-8; it was read as {encoding}. Check accented names in the "
            "preview, or export the file as CSV UTF-8."
        ]
    sample = text[:65536]
    if len(CONTROL_CHARS.findall(sample)) > max(len(sample) // 100, 2):
        raise ImportFileError(
            "This does not look like CSV text (it is full of control characters). Export the "
            "data as CSV (UTF-8) or .xlsx."
        )
    return text, notices


def _delimiter(text: str) -> str:
    sample = "\n".join(text[:65536].splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        header = sample.split("\n", 1)[0]
        counts = {d: header.count(d) for d in DELIMITERS}
        best = max(counts, key=counts.__getitem__)
        return best if counts[best] else ","


def _parse_csv(text: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=_delimiter(text),
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
        )
    except pd.errors.EmptyDataError:
        raise ImportFileError("The file is empty.") from None
    except (pd.errors.ParserError, ValueError, OverflowError) as exc:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if found:
            expected, line, saw = found.groups()
            raise ImportFileError(
                f"Line {line} has {saw} fields but the header has {expected}. A value that "
                "contains the delimiter must be in double quotes."
            ) from None
        raise ImportFileError(
            "The file could not be read as CSV. Check that quotes are balanced."
        ) from None
    return frame


# -- XLSX -----------------------------------------------------------------------------------------


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        # repr is the shortest text that reads back as the same float: 1234.5, not 1234.49999.
        return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    text = getattr(value, "text", None)  # array formulas: keep the formula as text
    return str(text if text is not None else value)


def _pick_sheet(names: list[str], wanted: str) -> str:
    wanted = wanted.strip()
    if not wanted:
        return names[0]
    for name in names:
        if name.casefold() == wanted.casefold():
            return name
    if wanted.isdigit() and 1 <= int(wanted) <= len(names):
        return names[int(wanted) - 1]
    raise ImportFileError(
        f"The workbook has no sheet {wanted!r}; its sheets are: {', '.join(names)}."
    )


def _read_xlsx(content: bytes, *, sheet: str, allow_no_rows: bool = False) -> Table:
    not_a_workbook = ImportFileError(
        "This is a ZIP archive but not an .xlsx workbook. Upload CSV or .xlsx."
    )
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
            names = {m.filename for m in members}
            inflated = sum(m.file_size for m in members)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise not_a_workbook from None
    if "xl/workbook.xml" not in names:
        raise not_a_workbook
    if inflated > MAX_XLSX_INFLATION * len(content) + 10_000_000:
        raise ImportFileError("The workbook expands to an implausible size; it was not read.")

    import openpyxl

    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it ignores; none matter for data.
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(
                io.BytesIO(content), read_only=True, data_only=False
            )
            try:
                sheet_names = list(workbook.sheetnames)
                if not sheet_names:
                    raise ImportFileError("The workbook has no sheets.")
                chosen = _pick_sheet(sheet_names, sheet)
                rows = [
                    [_cell_text(value) for value in row]
                    for row in workbook[chosen].iter_rows(values_only=True)
                ]
            finally:
                workbook.close()
    except ImportFileError:
        raise
    except Exception:  # openpyxl raises many kinds (KeyError, TypeError, XML errors) on bad files
        raise ImportFileError(
            "The workbook could not be read; it may be damaged. Open it in your spreadsheet "
            "program, save it again as .xlsx (or CSV) and upload that."
        ) from None
    if not rows:
        raise ImportFileError(f"The sheet {chosen!r} is empty.")
    width = max(len(row) for row in rows)
    frame = pd.DataFrame([row + [""] * (width - len(row)) for row in rows], dtype=str)
    notices = []
    if len(sheet_names) > 1:
        notices.append(
            f"The workbook has {len(sheet_names)} sheets ({', '.join(sheet_names)}); the sheet "
            f"{chosen!r} was read. Choose another sheet on the upload form if needed."
        )
    table = _table(frame, notices=notices, allow_no_rows=allow_no_rows)
    table.sheet_names = sheet_names
    table.sheet = chosen
    return table


# -- both -----------------------------------------------------------------------------------------


def _table(frame: pd.DataFrame, *, notices: list[str], allow_no_rows: bool = False) -> Table:
    if frame.empty:
        raise ImportFileError("The file is empty.")
    # Plain comprehensions: without pyarrow, pandas' .str methods loop in Python anyway, with
    # more overhead per cell.
    frame = pd.DataFrame(
        {position: list(map(str.strip, map(str, frame[column].tolist())))
         for position, column in enumerate(frame.columns)},
        dtype=object,
    )
    headers = frame.iloc[0].tolist()
    if not any(headers):
        raise ImportFileError("The first row must hold the column names; it is empty.")
    cells = frame.iloc[1:]
    cells.index = pd.RangeIndex(2, len(frame) + 1)
    cells = cells[(cells != "").any(axis=1)]
    cells, footer = _without_report_footer(cells)
    if footer:
        notices.append(f"The report's footer under the data ({footer}) was left out.")
    if cells.empty and not allow_no_rows:
        raise ImportFileError("The file has a header row but no data rows.")
    formulas = sum(
        1 for column in cells.columns for cell in cells[column].tolist() if cell[:1] == "="
    )
    if formulas:
        notices.append(
            f"{formulas} cell(s) begin with '=' like a spreadsheet formula. They were read as "
            "plain text and are never evaluated."
        )
    return Table(headers=headers, cells=cells, notices=notices)


# Salesforce writes these lines, one cell each, under the rows of an exported report.
REPORT_FOOTER_STARTS = ("grand totals", "copyright (c)", "confidential information",
                        "generated by")


def _without_report_footer(cells: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The rows without a report's trailing footer, and what the footer said (or "")."""
    filled = (cells != "").sum(axis=1)
    trailing = 0
    for count in reversed(filled.tolist()):
        if count > 1:
            break
        trailing += 1
    if not trailing or trailing == len(cells):
        return cells, ""
    tail = cells.iloc[len(cells) - trailing:]
    firsts = [next((c for c in row if c), "") for row in tail.itertuples(index=False)]
    marked = [text for text in firsts if text.casefold().startswith(REPORT_FOOTER_STARTS)]
    if not marked:
        return cells, ""
    rows = tail.index
    where = f"row {rows[0]}" if len(rows) == 1 else f"rows {rows[0]} to {rows[-1]}"
    return cells.iloc[: len(cells) - trailing], f"{where}, from {firsts[0][:40]!r}"
