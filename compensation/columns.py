"""The columns of a bulk write, with no database: what a frame column holds and how it is
stored. Frame shaping (`compensation.run_frames`) describes its rows with these; `bulk` writes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Integer columns that may be missing travel as this value and become NULL (or <NA>) again.
MISSING = np.iinfo(np.int64).min

# Column kinds: what a frame column holds and how it is stored.
INT = "int"  # int64, never missing
NULLABLE_INT = "int?"  # int64 or pandas Int64 with <NA>
CENTS = "cents"  # int64 cents into a NUMERIC(…, 2) column
NULLABLE_CENTS = "cents?"
NULLABLE_MICROS = "micros?"  # int64 millionths into a NUMERIC(…, 6) column (ratios)
DATE = "date"  # anything pandas reads as a date, never missing
CODE = "code"  # text from a short list: the frame holds category codes (see Column.labels)
TEXT = "text"  # free text, at most one column per write


@dataclass(frozen=True)
class Column:
    """One column of a bulk write: the frame column, its kind, and the table column it fills."""

    name: str
    kind: str
    db_column: str = ""
    labels: tuple[str, ...] = ()  # for CODE: the text of each code

    @property
    def target(self) -> str:
        return self.db_column or self.name
