"""Bulk reads and writes of calculation runs: binary COPY on PostgreSQL, the ORM on SQLite, and
both give back exactly the values written (money to the cent, missing values as NULL)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from django.db.models import F
from django.utils import timezone

from compensation import bulk
from compensation.models import CalculationRun, LineItem
from spm.org.models import Period
from spm.tenancy.context import tenant_context
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db
TIMES = "\N{MULTIPLICATION SIGN}"
EXPLANATION = f"graduated: 100,000.00 {TIMES} 8% = 8,000.00"

COLUMNS = [
    bulk.Column("payee_id", bulk.INT),
    bulk.Column("period_id", bulk.INT),
    bulk.Column("deal_id", bulk.NULLABLE_INT),
    bulk.Column("basis", bulk.CENTS),
    bulk.Column("quota", bulk.NULLABLE_CENTS),
    bulk.Column("attainment", bulk.NULLABLE_MICROS),
    bulk.Column("amount", bulk.CENTS),
    bulk.Column("line_type", bulk.CODE, labels=("credit", "clawback")),
    bulk.Column("explanation_text", bulk.TEXT),
]


@pytest.fixture
def run(tenant_a):
    with tenant_context(tenant_a):
        month = Period.objects.create(kind="month", fiscal_year=2026, number=1,
                                      start_date=datetime.date(2026, 1, 1),
                                      end_date=datetime.date(2026, 2, 1), label="Jan 2026")
        return CalculationRun.objects.create(period=month, requested_at=timezone.now())


def _frame(payee_id: int, period_id: int) -> pd.DataFrame:
    return pd.DataFrame({
        "payee_id": [payee_id] * 3,
        "period_id": [period_id] * 3,
        "deal_id": pd.array([None, None, None], dtype="Int64"),
        "basis": np.array([12_345_678, -50, 0], dtype=np.int64),
        "quota": pd.array([10_000_000, None, 1], dtype="Int64"),
        "attainment": pd.array([1_234_568, None, 0], dtype="Int64"),
        "amount": np.array([98_765, -1, 99_999_999_999], dtype=np.int64),
        "line_type": np.array([0, 1, 0], dtype=np.int64),
        # Text with commas, quotes, new lines, tabs and non-ASCII: binary COPY takes it as is.
        "explanation_text": [EXPLANATION, 'a "quoted"\nline\t',
                             ""],
    })


@pytest.mark.smoke
def test_written_lines_read_back_exactly(tenant_a, run):
    with tenant_context(tenant_a):
        payee = PersonFactory()
        written = bulk.write_frame(LineItem, _frame(payee.pk, run.period_id), COLUMNS,
                                   constants={"tenant_id": tenant_a.pk, "run_id": run.pk,
                                              "window": "2026-01",
                                              "kind": "rate_table", "measure": "amount",
                                              "rate": "", "rounding_carry": 0, "capped": 0})
        lines = list(LineItem.objects.filter(run=run).order_by("pk"))
    assert written == 3
    assert [line.basis for line in lines] == [Decimal("123456.78"), Decimal("-0.50"),
                                              Decimal("0.00")]
    assert [line.quota for line in lines] == [Decimal("100000.00"), None, Decimal("0.01")]
    assert [line.attainment for line in lines] == [Decimal("1.234568"), None, Decimal("0")]
    assert [line.amount for line in lines] == [Decimal("987.65"), Decimal("-0.01"),
                                               Decimal("999999999.99")]
    assert [line.line_type for line in lines] == ["credit", "clawback", "credit"]
    assert lines[1].explanation_text == 'a "quoted"\nline\t'
    assert lines[0].explanation_text == EXPLANATION
    assert all(line.deal_id is None for line in lines)
    assert {line.tenant_id for line in lines} == {tenant_a.pk}


def test_read_frame_gives_integers_dates_and_missing_values(tenant_a, run):
    with tenant_context(tenant_a):
        payee = PersonFactory()
        bulk.write_frame(LineItem, _frame(payee.pk, run.period_id), COLUMNS,
                         constants={"tenant_id": tenant_a.pk, "run_id": run.pk,
                                    "window": "2026-01", "kind": "",
                                    "measure": "amount", "rate": "", "rounding_carry": 0,
                                    "capped": 0})
        frame = bulk.read_frame(
            LineItem.objects.filter(run=run).annotate(
                start=F("period__start_date")).order_by("pk"),
            {"payee_id": bulk.INT, "deal_id": bulk.NULLABLE_INT, "start": bulk.DATE})
    assert frame["payee_id"].tolist() == [payee.pk] * 3
    assert frame["deal_id"].isna().all()
    assert frame["start"].dt.date.tolist() == [datetime.date(2026, 1, 1)] * 3


def test_an_empty_frame_writes_nothing(tenant_a, run):
    with tenant_context(tenant_a):
        assert bulk.write_frame(LineItem, _frame(1, 1).head(0), COLUMNS) == 0
        assert LineItem.objects.count() == 0


def test_binary_rows_round_trip_through_the_encoder_and_parser():
    frame = pd.DataFrame({"a": np.array([1, -2, 2**40], dtype=np.int64),
                          "b": pd.array([None, 5, 6], dtype="Int64"),
                          "d": pd.to_datetime(["1999-12-31", "2000-01-01", "2026-03-05"])})
    columns = [bulk.Column("a", bulk.INT), bulk.Column("b", bulk.NULLABLE_INT),
               bulk.Column("d", bulk.DATE)]
    data = bulk.encode_rows(frame, columns)
    back = bulk.parse_binary(data, {"a": bulk.INT, "b": bulk.NULLABLE_INT, "d": bulk.DATE})
    assert back["a"].tolist() == [1, -2, 2**40]
    assert back["b"].tolist() == [pd.NA, 5, 6]
    assert back["d"].dt.date.tolist() == [datetime.date(1999, 12, 31),
                                          datetime.date(2000, 1, 1),
                                          datetime.date(2026, 3, 5)]


@pytest.mark.smoke
def test_the_missing_marker_in_a_plain_integer_column_is_written_as_null(tenant_a, run):
    # The run maps ids through lookup arrays that hold bulk.MISSING where nothing matched (an
    # adjustment line has no component); both backends must store NULL there, not the marker.
    frame = _frame(0, run.period_id).head(1)
    frame["deal_id"] = np.array([bulk.MISSING], dtype=np.int64)
    frame["attainment"] = np.array([bulk.MISSING], dtype=np.int64)
    with tenant_context(tenant_a):
        frame["payee_id"] = PersonFactory().pk
        bulk.write_frame(LineItem, frame, COLUMNS,
                         constants={"tenant_id": tenant_a.pk, "run_id": run.pk,
                                    "window": "2026-01", "kind": "",
                                    "measure": "amount", "rate": "", "rounding_carry": 0,
                                    "capped": 0})
        line = LineItem.objects.get(run=run)
    assert line.deal_id is None
    assert line.attainment is None


def test_rows_sent_in_several_chunks_arrive_whole_and_in_order(tenant_a, run, monkeypatch):
    monkeypatch.setattr(bulk, "CHUNK_ROWS", 2)
    with tenant_context(tenant_a):
        payee = PersonFactory()
        frame = pd.concat([_frame(payee.pk, run.period_id)] * 3, ignore_index=True)
        frame["amount"] = np.arange(len(frame), dtype=np.int64)
        bulk.write_frame(LineItem, frame, COLUMNS,
                         constants={"tenant_id": tenant_a.pk, "run_id": run.pk,
                                    "window": "2026-01", "kind": "",
                                    "measure": "amount", "rate": "", "rounding_carry": 0,
                                    "capped": 0})
        amounts = list(LineItem.objects.filter(run=run).order_by("pk")
                       .values_list("amount", "explanation_text"))
    assert [a for a, _ in amounts] == [Decimal(i).scaleb(-2) for i in range(9)]
    assert [t for _, t in amounts] == frame["explanation_text"].tolist()


def test_chunked_encoding_is_the_same_stream():
    frame = _frame(1, 2)
    frame = pd.concat([frame] * 5, ignore_index=True)
    whole = bulk.encode_rows(frame, COLUMNS)
    for size in (1, 2, 7, 100):
        assert b"".join(bulk.encode_chunks(frame, COLUMNS, size)) == whole
