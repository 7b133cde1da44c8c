"""CSV written back to people (the error report): cells that a spreadsheet would run as a formula
are prefixed with a quote, so a hostile `=CMD(...)` in an uploaded file stays inert text."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import IO, Any

# OWASP's list: a leading =, +, -, @, tab or carriage return makes Excel and LibreOffice evaluate
# the cell (DDE, HYPERLINK, ...).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
REPORT_COLUMNS = ("row", "column", "reason", "value")


def csv_safe(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def write_error_report(out: IO[str], errors: Iterable[Mapping[str, Any]]) -> None:
    writer = csv.writer(out)
    writer.writerow(REPORT_COLUMNS)
    for error in errors:
        writer.writerow([csv_safe(error.get(name, "")) for name in REPORT_COLUMNS])
