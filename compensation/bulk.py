"""Bulk reads and writes for calculation runs: binary COPY on PostgreSQL, the ORM elsewhere.

A run reads a million credits and writes a million line items, so on PostgreSQL the rows travel
as binary COPY built and parsed with numpy (no per-cell text formatting). Writes go through a
temporary table and one INSERT ... SELECT because PostgreSQL refuses COPY FROM into a table under
row-level security, and the INSERT still passes the policy's WITH CHECK. On SQLite the same calls
use values_list() and bulk_create(), so tests and the embedded demo run the same code.
"""

from __future__ import annotations

import datetime
import json
import struct
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection, models

from compensation.columns import (
    CENTS,
    CODE,
    DATE,
    INT,
    MISSING,
    NULLABLE_CENTS,
    NULLABLE_INT,
    NULLABLE_MICROS,
    TEXT,
    Column,
)

_MISSING_SQL = f"'{MISSING}'::int8"  # a bare literal would be read as numeric
_EPOCH_DAYS = int(np.datetime64("2000-01-01", "D").astype(np.int64))  # PostgreSQL's day zero
_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_HEADER = _SIGNATURE + struct.pack(">ii", 0, 0)
_TRAILER = struct.pack(">h", -1)
ORM_BATCH = 2000

_SQL_TYPE = {INT: "int8", NULLABLE_INT: "int8", CENTS: "int8", NULLABLE_CENTS: "int8",
             NULLABLE_MICROS: "int8", DATE: "int4", CODE: "int4", TEXT: "text"}
_SCALE = {CENTS: 2, NULLABLE_CENTS: 2, NULLABLE_MICROS: 6}
_NULLABLE = (NULLABLE_INT, NULLABLE_CENTS, NULLABLE_MICROS)


# ---- reads --------------------------------------------------------------------------------


def read_frame(queryset: models.QuerySet, kinds: Mapping[str, str]) -> pd.DataFrame:
    """`queryset.values(*kinds)` as a DataFrame: int64 (Int64 when nullable) and dates.

    `kinds` maps each selected name (a field or an annotation) to INT, NULLABLE_INT or DATE;
    integers should be exact already (cents as whole numbers).
    """
    names = list(kinds)
    for name, kind in kinds.items():
        if kind not in (INT, NULLABLE_INT, DATE):
            raise ValueError(f"read_frame cannot read {name!r} as {kind!r}")
    queryset = queryset.order_by().values(*names)
    if connection.vendor == "postgresql":
        return _copy_out(queryset, kinds)
    rows = list(queryset.values_list(*names))
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    out = {}
    for name, values in zip(names, columns, strict=True):
        out[name] = _python_column(values, kinds[name])
    return pd.DataFrame(out, columns=names)


def _python_column(values: Sequence[Any], kind: str) -> Any:
    if kind == DATE:
        return pd.Series(np.array([np.datetime64(v, "D") for v in values],
                                  dtype="datetime64[D]"), dtype="datetime64[s]")
    if kind == NULLABLE_INT:
        return pd.array([None if v is None else int(v) for v in values], dtype="Int64")
    return np.array([int(v) for v in values], dtype=np.int64)


def _copy_out(queryset: models.QuerySet, kinds: Mapping[str, str]) -> pd.DataFrame:
    sql, params = queryset.query.sql_with_params()
    selected = []
    for name, kind in kinds.items():
        quoted = connection.ops.quote_name(name)
        if kind == DATE:
            selected.append(f"q.{quoted}::date")
        else:
            # Fixed-width rows parse in one numpy call; a NULL would break the width.
            selected.append(f"COALESCE(q.{quoted}::int8, {_MISSING_SQL})")
    copy_sql = (f"COPY (SELECT {', '.join(selected)} FROM ({sql}) AS q) "  # noqa: S608
                "TO STDOUT (FORMAT binary)")
    buffer = _CopyBuffer()
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(cursor.cursor.mogrify(copy_sql, params), buffer)
    return parse_binary(buffer.getvalue(), kinds)


class _CopyBuffer:
    """A write-only sink for copy_expert that keeps the chunks (cheaper than BytesIO growth)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def getvalue(self) -> bytes:
        return b"".join(self.chunks)


def _row_dtype(kinds: Mapping[str, str]) -> np.dtype:
    fields: list[tuple[str, str]] = [("__n", ">i2")]
    for i, kind in enumerate(kinds.values()):
        fields.append((f"__len{i}", ">i4"))
        fields.append((f"__v{i}", ">i4" if kind == DATE else ">i8"))
    return np.dtype(fields)


def parse_binary(data: bytes, kinds: Mapping[str, str]) -> pd.DataFrame:
    """Rows of a binary COPY whose columns are all non-null int8 or date, as a DataFrame."""
    if not data.startswith(_SIGNATURE):
        raise ValueError("not a PostgreSQL binary COPY stream")
    (extension,) = struct.unpack(">i", data[15:19])
    body = memoryview(data)[19 + extension:]
    if bytes(body[-2:]) != _TRAILER:
        raise ValueError("binary COPY stream has no trailer")
    body = body[:-2]
    dtype = _row_dtype(kinds)
    if len(body) % dtype.itemsize:
        raise ValueError("binary COPY rows are not of the expected width (a NULL or a type "
                         "the reader did not ask for)")
    rows = np.frombuffer(body, dtype=dtype)
    out: dict[str, Any] = {}
    for i, (name, kind) in enumerate(kinds.items()):
        values = rows[f"__v{i}"]
        if kind == DATE:
            out[name] = pd.Series((values.astype(np.int64) + _EPOCH_DAYS).astype("datetime64[D]"),
                                  dtype="datetime64[s]")
        elif kind == NULLABLE_INT:
            values = values.astype(np.int64)
            out[name] = pd.arrays.IntegerArray(values, values == MISSING)
        else:
            out[name] = values.astype(np.int64)
    return pd.DataFrame(out, columns=list(kinds))


# ---- writes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedWrite:
    """A bulk write made ready without the database: for PostgreSQL, its binary COPY rows.

    Building one is pure work on the frame, so a worker thread may do it while the thread
    that owns the connection writes another.
    """

    model: type[models.Model]
    frame: pd.DataFrame
    columns: tuple[Column, ...]
    constants: Mapping[str, Any]
    data: bytes | None  # the binary COPY stream; None for the ORM path


def _text_last(columns: Sequence[Column]) -> tuple[Column, ...]:
    """The columns with the one free-text column last: each binary row is then a fixed-width
    head followed by the text's bytes, which numpy can build for all rows at once."""
    texts = [c for c in columns if c.kind == TEXT]
    if len(texts) > 1:
        raise ValueError("write_frame takes at most one free-text column")
    return (*[c for c in columns if c.kind != TEXT], *texts)


def prepare_write(
    model: type[models.Model],
    frame: pd.DataFrame,
    columns: Sequence[Column],
    *,
    constants: Mapping[str, Any] | None = None,
    binary: bool,
) -> PreparedWrite:
    """What write_prepared() needs to insert `frame`; `binary` for PostgreSQL's COPY path."""
    ordered = _text_last(columns)
    data = None
    if binary:
        if not frame.empty:
            data = encode_rows(frame, ordered)
    else:
        ordered = tuple(columns)
    return PreparedWrite(model=model, frame=frame, columns=ordered,
                         constants=dict(constants or {}), data=data)


def write_prepared(prepared: PreparedWrite) -> int:
    """Insert a prepared write's rows; returns their number. Inside the tenant's transaction."""
    if prepared.frame.empty:
        return 0
    if prepared.data is not None:
        _copy_in(prepared.model, prepared.columns, prepared.constants,
                 _Reader(prepared.data))
    else:
        _bulk_create(prepared.model, prepared.frame, prepared.columns, prepared.constants)
    return len(prepared.frame)


def write_frame(
    model: type[models.Model],
    frame: pd.DataFrame,
    columns: Sequence[Column],
    *,
    constants: Mapping[str, Any] | None = None,
) -> int:
    """Insert every row of `frame` into `model`'s table; returns the number of rows.

    `constants` (table column -> value) are the same on every row, such as the tenant and the
    run: they are not sent per row. The caller is inside the tenant's transaction.
    """
    ordered = _text_last(columns)
    if frame.empty:
        return 0
    constants = dict(constants or {})
    if connection.vendor == "postgresql":
        # Streamed: the server parses one chunk while the next is encoded.
        _copy_in(model, ordered, constants,
                 _ChunkReader(encode_chunks(frame, ordered, CHUNK_ROWS)))
    else:
        _bulk_create(model, frame, columns, constants)
    return len(frame)


def _int_values(series: pd.Series) -> np.ndarray:
    """int64 values with MISSING where the series has no value."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        raise TypeError(f"{series.name}: pass category codes for a CODE column, not categories")
    if series.isna().any():
        return series.astype("Int64").fillna(MISSING).to_numpy(dtype=np.int64)
    return series.to_numpy(dtype=np.int64)


def _days(series: pd.Series) -> np.ndarray:
    return pd.to_datetime(series).to_numpy().astype("datetime64[D]").astype(np.int64)


CHUNK_ROWS = 100_000


def encode_rows(frame: pd.DataFrame, columns: Sequence[Column]) -> bytes:
    """The frame as a PostgreSQL binary COPY stream in the order of `columns` (text last)."""
    return b"".join(encode_chunks(frame, columns))


def encode_chunks(frame: pd.DataFrame, columns: Sequence[Column],
                  rows_per_chunk: int = CHUNK_ROWS) -> Iterator[bytes]:
    """encode_rows in pieces: the header, then `rows_per_chunk` rows at a time, then the trailer.

    Sent as it is made, so the server parses one piece while the next is encoded.
    """
    fixed = [c for c in columns if c.kind != TEXT]
    text = [c for c in columns if c.kind == TEXT]
    if [c.name for c in columns] != [c.name for c in fixed + text]:
        raise ValueError("the free-text column must come last")
    yield _HEADER
    for start in range(0, len(frame), rows_per_chunk):
        yield _encode_slice(frame.iloc[start:start + rows_per_chunk], fixed, text,
                            len(columns))
    yield _TRAILER


def _encode_slice(frame: pd.DataFrame, fixed: Sequence[Column], text: Sequence[Column],
                  width: int) -> bytes:
    n = len(frame)
    fields: list[tuple[str, str]] = [("__n", ">i2")]
    for i, c in enumerate(fixed):
        fields += [(f"__len{i}", ">i4"), (f"__v{i}", ">i4" if _SQL_TYPE[c.kind] == "int4"
                                          else ">i8")]
    if text:
        fields.append(("__textlen", ">i4"))
    rows = np.empty(n, dtype=np.dtype(fields))
    rows["__n"] = width
    for i, c in enumerate(fixed):
        rows[f"__len{i}"] = 4 if _SQL_TYPE[c.kind] == "int4" else 8
        series = frame[c.name]
        if c.kind == DATE:
            rows[f"__v{i}"] = _days(series) - _EPOCH_DAYS
        else:
            rows[f"__v{i}"] = _int_values(series)
    if not text:
        return rows.tobytes()
    encoded = [str(v).encode() if v is not None and v == v else b""
               for v in frame[text[0].name].tolist()]
    rows["__textlen"] = np.fromiter(map(len, encoded), dtype=np.int64, count=n)
    heads = np.frombuffer(rows.tobytes(), dtype=f"V{rows.dtype.itemsize}").tolist()
    parts: list[bytes] = [b""] * (2 * n)
    parts[0::2] = heads
    parts[1::2] = encoded
    return b"".join(parts)


def _select_expression(column: Column, params: list[Any]) -> str:
    source = f'l."{column.name}"'
    if column.kind == NULLABLE_INT:
        return f"NULLIF({source}, {_MISSING_SQL})"
    # int8 × an exact numeric constant such as 0.01 is exact and cheaper than a division.
    unit = f"0.{'0' * (_SCALE.get(column.kind, 1) - 1)}1"
    if column.kind == CENTS:
        return f"({source} * {unit})"
    if column.kind in (NULLABLE_CENTS, NULLABLE_MICROS):
        return f"(NULLIF({source}, {_MISSING_SQL}) * {unit})"
    if column.kind == DATE:
        return f"(DATE '2000-01-01' + {source})"
    if column.kind == CODE:
        params.append(list(column.labels))
        # PostgreSQL arrays count from 1; codes from 0.
        return f"(%s::text[])[{source} + 1]"
    return source


def _copy_in(model: type[models.Model], columns: Sequence[Column],
             constants: Mapping[str, Any], rows: _Reader | _ChunkReader) -> None:
    table = model._meta.db_table
    temp = f"load_{table}"
    definition = ", ".join(f'"{c.name}" {_SQL_TYPE[c.kind]}' for c in columns)
    params: list[Any] = []
    selected = [_select_expression(c, params) for c in columns]
    targets = [c.target for c in columns]
    for name, value in constants.items():
        targets.append(name)
        if isinstance(value, dict | list):
            selected.append("%s::jsonb")
            params.append(json.dumps(value))
        else:
            selected.append("%s")
            params.append(value)
    quoted = ", ".join(connection.ops.quote_name(t) for t in targets)
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TABLE IF EXISTS "{temp}"')
        cursor.execute(f'CREATE TEMPORARY TABLE "{temp}" ({definition})')
        cursor.cursor.copy_expert(f'COPY "{temp}" FROM STDIN (FORMAT binary)', rows,
                                  size=1 << 20)
        cursor.execute(
            f'INSERT INTO "{table}" ({quoted}) SELECT {", ".join(selected)} '  # noqa: S608
            f'FROM "{temp}" AS l',
            params,
        )
        cursor.execute(f'DROP TABLE "{temp}"')


class _Reader:
    """A file-like view of bytes for copy_expert, without copying them into a BytesIO."""

    def __init__(self, data: bytes) -> None:
        self.view = memoryview(data)
        self.position = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.view) if size is None or size < 0 else self.position + size
        chunk = self.view[self.position:end]
        self.position += len(chunk)
        return bytes(chunk)

    def readline(self, size: int = -1) -> bytes:  # copy_expert checks for it; binary never calls
        return self.read(size)


class _ChunkReader:
    """A file-like view of an iterator of bytes for copy_expert, read as it is produced."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.current = _Reader(b"")

    def read(self, size: int = -1) -> bytes:
        while True:
            data = self.current.read(size)
            if data:
                return data
            following = next(self.chunks, None)
            if following is None:
                return b""
            self.current = _Reader(following)

    def readline(self, size: int = -1) -> bytes:  # copy_expert checks for it; binary never calls
        return self.read(size)


def _python_value(column: Column, value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if column.kind in _NULLABLE and int(value) == MISSING:  # as NULLIF does on PostgreSQL
        return None
    if column.kind in (INT, NULLABLE_INT):
        return int(value)
    if column.kind in _SCALE:
        return Decimal(int(value)).scaleb(-_SCALE[column.kind])
    if column.kind == DATE:
        return pd.Timestamp(value).date() if not isinstance(value, datetime.date) else value
    if column.kind == CODE:
        return column.labels[int(value)]
    return str(value)


def _bulk_create(model: type[models.Model], frame: pd.DataFrame, columns: Sequence[Column],
                 constants: Mapping[str, Any]) -> None:
    attnames = {f.column: f.attname for f in model._meta.concrete_fields}
    fixed = {attnames.get(name, name): value for name, value in constants.items()}
    names = [attnames.get(c.target, c.target) for c in columns]
    series = [frame[c.name].astype(object).tolist() for c in columns]
    objects = []
    for values in zip(*series, strict=True):
        row = {name: _python_value(c, v) for name, c, v in zip(names, columns, values,
                                                                strict=True)}
        objects.append(model(**fixed, **row))
    model._default_manager.bulk_create(objects, batch_size=ORM_BATCH)
