"""Properties of the payroll file's cells and layouts, against the simplest reference: what is
written is read back exactly, and a layout is accepted exactly when every column is known and
appears once."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from compensation.services.payroll import COLUMNS, _clean_columns, _csv

cents = st.integers(min_value=-10**12, max_value=10**12)
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                max_size=30)


@given(st.lists(st.tuples(texts, cents), max_size=20))
def test_every_amount_and_name_is_read_back_exactly_and_formulas_stay_text(rows):
    content = _csv(["Name", "Amount"], [[name, Decimal(c).scaleb(-2)] for name, c in rows])
    read = list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))[1:]
    assert [Decimal(r[1]) for r in read] == [Decimal(c).scaleb(-2) for _, c in rows]
    for (name, _), (written, _) in zip(rows, read, strict=True):
        if written.startswith("'") and name[:1] in "=+-@":
            assert written[1:] == name
        else:
            assert written == name
        assert not written.startswith(("=", "@"))  # never run as a formula


@given(st.lists(st.sampled_from([*COLUMNS, "salary", "bonus", "EMPLOYEE_ID"]), max_size=8))
def test_a_layout_is_accepted_exactly_when_its_columns_are_known_and_distinct(columns):
    known = all(c in COLUMNS for c in columns)
    distinct = len(set(columns)) == len(columns)
    try:
        cleaned = _clean_columns(columns)
    except ValidationError as exc:
        assert not (known and distinct and columns)
        message = exc.message_dict["columns"][0]
        assert "Column" in message or "at least one" in message
    else:
        assert known
        assert distinct
        assert cleaned == columns
