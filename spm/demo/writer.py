"""Bulk writes of generated frames into tenant tables, fast enough for millions of rows.

On PostgreSQL a frame is COPied into a temporary table and moved across with one
INSERT ... SELECT: COPY is an order of magnitude faster than INSERT statements, but PostgreSQL
refuses COPY FROM into a table under row-level security, and the INSERT still passes the
policy's WITH CHECK. The database work runs in a background thread on the same session, so the
next frame is generated while the server inserts this one. Elsewhere (SQLite) rows go through
bulk_create in batches, in the calling thread.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db import connection, models

from spm.tenancy.context import require_active_tenant

ORM_BATCH = 2000


def reserve_ids(model: type[models.Model], count: int) -> np.ndarray:
    """Primary keys for `count` new rows, taken from the table's own sequence.

    On PostgreSQL this uses a short side connection: sequences are not transactional, and the
    main session may be busy with a COPY in the writer's thread (one psycopg2 connection must
    not be used by two threads at once).
    """
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    table = model._meta.db_table
    if connection.vendor == "postgresql":
        side = connection.get_new_connection(connection.get_connection_params())
        try:
            side.autocommit = True
            with side.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
                    "FROM generate_series(1, %s)",
                    [table, count],
                )
                return np.array([row[0] for row in cursor.fetchall()], dtype=np.int64)
        finally:
            side.close()
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')  # noqa: S608
        (highest,) = cursor.fetchone()
        # AUTOINCREMENT never reuses an id, even of a deleted row; neither do we.
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        first = max(highest, row[0] if row else 0) + 1
    return np.arange(first, first + count, dtype=np.int64)


def _copy(raw_connection, model: type[models.Model], frame: pd.DataFrame, money: set[str]) -> None:
    """COPY `frame` into a temporary table, then INSERT ... SELECT it into the model's table.

    Money arrives as integer cents and becomes NUMERIC in SQL, exactly; timestamps are naive
    UTC, which is the session's time zone under Django.
    """
    table = model._meta.db_table
    temp = f"load_{table}"
    fields = {f.column: f for f in model._meta.concrete_fields}
    columns = list(frame.columns)
    declared = ", ".join(
        f'"{c}" {"bigint" if c in money else fields[c].db_type(connection)}' for c in columns
    )
    selected = ", ".join(f'"{c}"::numeric / 100' if c in money else f'"{c}"' for c in columns)
    not_null = [f'"{c}"' for c in columns if not fields[c].null]
    options = "FORMAT csv"
    if not_null:
        # An empty field is NULL in CSV; for NOT NULL text columns it is the empty string.
        options += f", FORCE_NOT_NULL ({', '.join(not_null)})"
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep="", quoting=csv.QUOTE_MINIMAL)
    buffer.seek(0)
    quoted = ", ".join(f'"{c}"' for c in columns)
    with raw_connection.cursor() as cursor:
        cursor.execute(f'CREATE TEMPORARY TABLE "{temp}" ({declared})')
        cursor.copy_expert(f'COPY "{temp}" ({quoted}) FROM STDIN WITH ({options})', buffer)
        cursor.execute(f'INSERT INTO "{table}" ({quoted}) SELECT {selected} FROM "{temp}"')  # noqa: S608
        cursor.execute(f'DROP TABLE "{temp}"')


def _python_values(
    frame: pd.DataFrame, money: set[str], dates: set[str], moments: set[str]
) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    for name in frame.columns:
        column = frame[name]
        present = column.notna().to_numpy()
        if name in money:
            values = [Decimal(int(v)).scaleb(-2) if ok else None
                      for v, ok in zip(column.to_numpy(), present, strict=True)]
        elif name in dates:
            values = pd.to_datetime(column).dt.date.to_numpy(dtype=object)
        elif name in moments:
            values = pd.to_datetime(column).dt.tz_localize(datetime.UTC).to_numpy(dtype=object)
        elif isinstance(column.dtype, pd.Int64Dtype):
            values = column.to_numpy(dtype=object, na_value=None)
        else:
            values = column.to_numpy(dtype=object)
        out[name] = pd.Series(values, index=frame.index, dtype=object).where(present, None)
    return out


class FrameWriter:
    """Writes frames to tenant tables for the active tenant; `flush()` waits for them all.

    Until flush() returns, the writer's thread owns the database connection: call it before
    any other query on the connection, and before the transaction ends.
    """

    def __init__(self) -> None:
        self._postgres = connection.vendor == "postgresql"
        self._executor = ThreadPoolExecutor(max_workers=1) if self._postgres else None
        self._pending: list[Future] = []

    def write(
        self,
        model: type[models.Model],
        frame: pd.DataFrame,
        *,
        money: Iterable[str] = (),
        dates: Iterable[str] = (),
        moments: Iterable[str] = (),
    ) -> int:
        """Queue every row of `frame` (columns named as the table's) for insertion.

        `money` columns hold integer cents, `dates` and `moments` numpy datetimes (moments in
        UTC); missing values (NaN, NaT, pd.NA) become NULL.
        """
        if frame.empty:
            return 0
        frame = frame.assign(tenant_id=require_active_tenant().pk)
        money, dates, moments = set(money), set(dates), set(moments)
        if self._executor is not None:
            connection.ensure_connection()
            self._pending.append(
                self._executor.submit(_copy, connection.connection, model, frame, money)
            )
        else:
            values = _python_values(frame, money, dates, moments)
            names = list(values.columns)
            objs = [model(**dict(zip(names, row, strict=True)))
                    for row in values.itertuples(index=False, name=None)]
            model.objects.bulk_create(objs, batch_size=ORM_BATCH)
        return len(frame)

    def flush(self) -> None:
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=True)
