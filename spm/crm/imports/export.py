"""CSV written back to people (the error report): cells that a spreadsheet would run as a formula
are prefixed with a quote, so a hostile `=CMD(...)` in an uploaded file stays inert text."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import IO, Any

from spm.csv_cells import csv_safe

REPORT_COLUMNS = ("row", "column", "reason", "value")


def write_error_report(out: IO[str], errors: Iterable[Mapping[str, Any]]) -> None:
    writer = csv.writer(out)
    writer.writerow(REPORT_COLUMNS)
    for error in errors:
        writer.writerow([csv_safe(error.get(name, "")) for name in REPORT_COLUMNS])
