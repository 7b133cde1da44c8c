"""Spreadsheet-safe CSV cells: text a spreadsheet would run as a formula is made inert. No Django,
so pure modules and pages share one rule."""

from __future__ import annotations

import re
from typing import Any

# OWASP's list: a leading =, +, -, @, tab or carriage return makes Excel and LibreOffice evaluate
# the cell (DDE, HYPERLINK, ...).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A plain negative number runs nothing, and quoting it would turn a reversal's amount into text
# that sums to zero.
_PLAIN_NUMBER = re.compile(r"-\d+(?:\.\d+)?")


def neutralise(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe; other values (numbers,
    dates, missing) pass through for the CSV writer to format."""
    if (isinstance(value, str) and value.startswith(FORMULA_PREFIXES)
            and not _PLAIN_NUMBER.fullmatch(value)):
        return "'" + value
    return value


def csv_safe(value: Any) -> str:
    """The cell as text, neutralised; None is an empty cell."""
    return neutralise("" if value is None else str(value))
