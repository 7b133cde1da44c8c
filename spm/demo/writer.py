"""Bulk writes of generated frames into tenant tables, fast enough for millions of rows.

On PostgreSQL a frame is COPied into a temporary table and moved across with one
INSERT ... SELECT: COPY is an order of magnitude faster than INSERT statements, but PostgreSQL
refuses COPY FROM into a table under row-level security, and the INSERT still passes the
policy's WITH CHECK. Elsewhere (SQLite) rows go through bulk_create in batches.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db import connection, models

from spm.tenancy.context import require_active_tenant

ORM_BATCH = 2000


def reserve_ids(model: type[models.Model], count: int) -> np.ndarray:
    """Primary keys for `count` new rows, taken from the table's own sequence."""
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return np.array([row[0] for row in cursor.fetchall()], dtype=np.int64)
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')  # noqa: S608
        (highest,) = cursor.fetchone()
        # AUTOINCREMENT never reuses an id, even of a deleted row; neither do we.
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        first = max(highest, row[0] if row else 0) + 1
    return np.arange(first, first + count, dtype=np.int64)


def cents_to_text(cents: pd.Series) -> pd.Series:
    """Integer cents as exact decimal text ("1234.50"); missing stays missing."""
    present = cents.notna()
    whole = cents[present].astype(np.int64)
    sign = np.where(whole < 0, "-", "")
    magnitude = whole.abs()
    text = (pd.Series(sign, index=whole.index) + (magnitude // 100).astype(str) + "."
            + (magnitude % 100).astype(str).str.zfill(2))
    out = pd.Series(None, index=cents.index, dtype=object)
    out[present] = text
    return out


def _as_text(
    frame: pd.DataFrame, money: set[str], dates: set[str], moments: set[str]
) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    for name in frame.columns:
        column = frame[name]
        if name in money:
            out[name] = cents_to_text(column)
        elif name in dates:
            out[name] = pd.to_datetime(column).dt.strftime("%Y-%m-%d")
        elif name in moments:
            out[name] = pd.to_datetime(column).dt.strftime("%Y-%m-%d %H:%M:%S+00")
        elif column.dtype == bool:
            out[name] = np.where(column, "t", "f")
        else:
            out[name] = column
    return out


def _copy(model: type[models.Model], frame: pd.DataFrame) -> None:
    table = model._meta.db_table
    temp = f"load_{table}"
    columns = list(frame.columns)
    quoted = ", ".join(f'"{c}"' for c in columns)
    fields = {f.column: f for f in model._meta.concrete_fields}
    not_null = [f'"{c}"' for c in columns if not fields[c].null]
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep="", quoting=csv.QUOTE_MINIMAL)
    buffer.seek(0)
    options = "FORMAT csv"
    if not_null:
        # An empty field is NULL in CSV; for NOT NULL text columns it is the empty string.
        options += f", FORCE_NOT_NULL ({', '.join(not_null)})"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TABLE IF EXISTS "{temp}"')
        cursor.execute(
            f'CREATE TEMPORARY TABLE "{temp}" AS SELECT {quoted} FROM "{table}" WITH NO DATA'  # noqa: S608
        )
        cursor.cursor.copy_expert(f'COPY "{temp}" ({quoted}) FROM STDIN WITH ({options})', buffer)
        cursor.execute(f'INSERT INTO "{table}" ({quoted}) SELECT {quoted} FROM "{temp}"')  # noqa: S608
        cursor.execute(f'DROP TABLE "{temp}"')


def _bulk_create(
    model: type[models.Model], frame: pd.DataFrame, money: set[str], dates: set[str],
    moments: set[str],
) -> None:
    converters = {}
    for name in frame.columns:
        if name in money:
            converters[name] = lambda v: None if v is None else Decimal(v)
        elif name in dates:
            converters[name] = lambda v: None if v is None else datetime.date.fromisoformat(v)
        elif name in moments:
            converters[name] = (
                lambda v: None if v is None else datetime.datetime.fromisoformat(v + ":00")
            )
    text = _as_text(frame, money, dates, moments).astype(object)
    text = text.where(text.notna(), None)
    names = list(text.columns)
    objs = []
    for values in text.itertuples(index=False, name=None):
        row = dict(zip(names, values, strict=True))
        for name, convert in converters.items():
            row[name] = convert(row[name])
        objs.append(model(**row))
    model.objects.bulk_create(objs, batch_size=ORM_BATCH)


def write_frame(
    model: type[models.Model],
    frame: pd.DataFrame,
    *,
    money: Iterable[str] = (),
    dates: Iterable[str] = (),
    moments: Iterable[str] = (),
) -> int:
    """Insert every row of `frame` (columns named as the table's) for the active tenant.

    `money` columns hold integer cents, `dates` and `moments` numpy datetimes (moments in UTC);
    missing values (NaN, NaT, pd.NA) become NULL.
    """
    if frame.empty:
        return 0
    tenant = require_active_tenant()
    frame = frame.assign(tenant_id=tenant.pk)
    money, dates, moments = set(money), set(dates), set(moments)
    if connection.vendor == "postgresql":
        _copy(model, _as_text(frame, money, dates, moments))
    else:
        _bulk_create(model, frame, money, dates, moments)
    return len(frame)
