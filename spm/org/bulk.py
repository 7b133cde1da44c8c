"""Keyed bulk upsert of tenant rows (by external id or employee id) for imports and the API.

Rows are cleaned column by column and every problem is reported with its row and field; nothing
is written unless every row is good. Existing rows and referenced ids are read in chunks and the
writes are batched, so the number of queries grows with batches, never with rows. On PostgreSQL the
writes are set-based SQL over column arrays; elsewhere they go through the ORM.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import connection, models
from django.utils import timezone

from spm.tenancy.context import require_active_tenant

# The cleaners live in their own module; importing them from here keeps working.
from .cleaners import (  # noqa: F401
    CENT,
    Cleaner,
    choice,
    count,
    day,
    moment,
    money,
    reference,
    text,
)

CHUNK = 5000
BATCH = 2000


@dataclass(frozen=True)
class RowError:
    index: int  # position in the rows given, from 0
    field: str
    message: str

    def __str__(self) -> str:
        return f"Row {self.index + 1}, {self.field}: {self.message}"


class RowsInvalid(ValidationError):
    """Raised with every row error found; `row_errors` keeps them structured."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.row_errors = list(errors)
        super().__init__([str(e) for e in self.row_errors])


@dataclass(frozen=True)
class Column:
    """One writable column: its model attname, cleaner, and what happens when a new row lacks it."""

    name: str
    clean: Cleaner
    required: bool = False
    default: Any = None  # a value, or a callable returning one, for new rows lacking the column
    references: type[models.Model] | None = None

    def default_value(self) -> Any:
        return self.default() if callable(self.default) else self.default


@dataclass
class UpsertPlan:
    """What an upsert will do. `values` are complete rows (existing values merged with new)."""

    creates: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    updates: list[tuple[int, int, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    unchanged: list[tuple[int, int]] = field(default_factory=list)  # (index, pk)


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stage_changes: int = 0  # deals that existed and moved stage (a new deal's start is no change)
    ids: dict[str, int] = field(default_factory=dict)  # key -> primary key, for every row


def _scoped(model: type[models.Model]) -> models.Manager[Any]:
    """The model's `objects`: every model written here is a TenantModel, whose `objects` sees
    the active tenant only."""
    return model.objects  # type: ignore[attr-defined]  # declared by TenantModel, not Model


def _field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    """The model's column `name` (not a reverse relation)."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), f"{model.__name__}.{name} is not a column"
    return field


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def existing_by_key(
    model: type[models.Model], key: str, keys: Sequence[str], attnames: Iterable[str]
) -> dict[str, dict[str, Any]]:
    names = ["pk", key, *attnames]
    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(keys):
        for row in _scoped(model).filter(**{f"{key}__in": chunk}).values(*names):
            found[row[key]] = row
    return found


def ids_in_tenant(model: type[models.Model], ids: Iterable[int]) -> set[int]:
    wanted = sorted(set(ids))
    found: set[int] = set()
    for chunk in _chunks(wanted):
        found.update(_scoped(model).filter(pk__in=chunk).values_list("pk", flat=True))
    return found


def plan_upsert(
    model: type[models.Model],
    *,
    rows: Sequence[Mapping[str, Any]],
    key: str,
    columns: Sequence[Column],
    extra_keys: Iterable[str] = (),
    check: Callable[[dict[str, Any]], list[tuple[str, str]]] | None = None,
) -> UpsertPlan:
    """Clean and check every row; return the plan or raise RowsInvalid listing every problem.

    Columns a row leaves out keep their stored value (or get their default on creation), so a
    caller may send only what changed. `check` sees each complete row (stored values merged with
    new ones) and returns (field, reason) pairs for rules that span fields.
    """
    by_name = {c.name: c for c in columns}
    errors: list[RowError] = []
    cleaned = _rows_cleaned(rows, key=key, by_name=by_name,
                            allowed={key, *by_name, *extra_keys}, errors=errors)
    _references_check(columns, cleaned, errors)
    existing = existing_by_key(model, key, [k for _, k, _ in cleaned], by_name)
    plan = _rows_planned(cleaned, existing, key=key, by_name=by_name, check=check, errors=errors)
    if errors:
        raise RowsInvalid(sorted(errors, key=lambda e: (e.index, e.field)))
    return plan


#: A cleaned row: its index in the input, its key, and the values it gives.
_Cleaned = tuple[int, str, dict[str, Any]]


def _rows_cleaned(
    rows: Sequence[Mapping[str, Any]],
    *,
    key: str,
    by_name: Mapping[str, Column],
    allowed: set[str],
    errors: list[RowError],
) -> list[_Cleaned]:
    """Each row's key and cleaned values; unknown fields, bad cells, repeated keys to `errors`."""
    cleaned: list[_Cleaned] = []
    seen: dict[str, int] = {}
    key_clean = text(64, required=True)
    for index, row in enumerate(rows):
        unknown = sorted(set(row) - allowed)
        errors.extend(RowError(index, name, "is not a known field") for name in unknown)
        try:
            row_key = key_clean(row.get(key))
        except ValueError as exc:
            errors.append(RowError(index, key, str(exc)))
            continue
        if row_key in seen:
            first = seen[row_key] + 1
            errors.append(RowError(index, key, f"{row_key!r} appears twice (first in row {first})"))
            continue
        seen[row_key] = index
        values: dict[str, Any] = {}
        for name, column in by_name.items():
            if name not in row:
                continue
            try:
                values[name] = column.clean(row[name])
            except ValueError as exc:
                errors.append(RowError(index, name, str(exc)))
        cleaned.append((index, row_key, values))
    return cleaned


def _references_check(
    columns: Sequence[Column], cleaned: Sequence[_Cleaned], errors: list[RowError]
) -> None:
    """Report referenced ids that are not in the active tenant (one query per column)."""
    # The database's foreign keys alone would accept another tenant's id.
    for column in columns:
        if column.references is None:
            continue
        referenced = {v[column.name] for _, _, v in cleaned if v.get(column.name) is not None}
        known = ids_in_tenant(column.references, referenced) if referenced else set()
        label = column.references._meta.verbose_name
        for index, _, values in cleaned:
            ref = values.get(column.name)
            if ref is not None and ref not in known:
                errors.append(RowError(index, column.name, f"no {label} with id {ref}"))


def _rows_planned(
    cleaned: Sequence[_Cleaned],
    existing: Mapping[str, dict[str, Any]],
    *,
    key: str,
    by_name: Mapping[str, Column],
    check: Callable[[dict[str, Any]], list[tuple[str, str]]] | None,
    errors: list[RowError],
) -> UpsertPlan:
    """Sort the rows into creates, updates and unchanged, running `check` on complete rows."""
    bad_rows = {e.index for e in errors}
    plan = UpsertPlan()
    for index, row_key, values in cleaned:
        old = existing.get(row_key)
        if old is None:
            new = {key: row_key}
            for name, column in by_name.items():
                if name in values:
                    new[name] = values[name]
                elif column.required:
                    errors.append(RowError(index, name, "is required for a new record"))
                else:
                    new[name] = column.default_value()
            plan.creates.append((index, new))
            if check is not None and index not in bad_rows and len(new) == len(by_name) + 1:
                errors.extend(RowError(index, f, reason) for f, reason in check(new))
            continue
        merged = {name: old[name] for name in by_name} | values
        merged[key] = row_key
        if check is not None and index not in bad_rows:
            errors.extend(RowError(index, f, reason) for f, reason in check(merged))
        if all(merged[name] == old[name] for name in by_name):
            plan.unchanged.append((index, old["pk"]))
        else:
            plan.updates.append((index, old["pk"], old, merged))
    return plan


# -- set-based writes ------------------------------------------------------------------------------

_TEXT_FIELDS = {"CharField", "TextField", "SlugField", "EmailField", "URLField"}
_NUMBER_FIELDS = {
    "AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField",
    "SmallIntegerField", "PositiveIntegerField", "PositiveBigIntegerField",
    "PositiveSmallIntegerField", "DecimalField", "ForeignKey", "OneToOneField",
}


def _quoted(value: Any) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _array_literal(field: models.Field, values: Sequence[Any]) -> str:
    """One PostgreSQL array literal ('{...}') for a whole column: the server parses a single
    text value instead of one expression per row, and Decimals travel as their exact digits."""
    column = cast("models.ForeignKey[Any, Any]", field).target_field if field.is_relation else field
    kind = column.get_internal_type()
    if kind in _NUMBER_FIELDS:
        items = ["NULL" if v is None else str(v) for v in values]
    elif kind in ("DateField", "DateTimeField"):
        items = ["NULL" if v is None else v.isoformat() for v in values]
    elif kind == "BooleanField":
        items = ["NULL" if v is None else ("t" if v else "f") for v in values]
    else:
        items = ["NULL" if v is None else _quoted(v) for v in values]
    return "{" + ",".join(items) + "}"


def _array_type(field: models.Field) -> str:
    # Text goes as text[] so that assignment, not a cast, meets varchar(n): a cast would cut a
    # long value silently, assignment refuses it. Numeric without precision keeps every digit.
    kind = field.get_internal_type()
    if kind in _TEXT_FIELDS:
        return "text[]"
    if kind == "DecimalField":
        return "numeric[]"
    return f"{field.db_type(connection)}[]"


def _constants(model: type[models.Model], given: Iterable[str]) -> dict[models.Field, Any]:
    """Values of a new row's columns that the rows leave out: the active tenant, now for
    auto_now(_add) stamps, else the field's default (what Model() and save() would give)."""
    tenant = require_active_tenant()
    now = timezone.now()
    given = set(given)
    constants: dict[models.Field, Any] = {}
    for f in model._meta.concrete_fields:
        if f.primary_key or f.attname in given:
            continue
        if f.attname == "tenant_id":
            constants[f] = tenant.pk
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            constants[f] = f.get_db_prep_save(now, connection)
        else:
            # get_default() is "" for a blank text column without a default, as in Model().
            constants[f] = f.get_db_prep_save(f.get_default(), connection)
    return constants


def _batch(
    fields: Sequence[models.Field], columns: Sequence[Sequence[Any]], start: int, stop: int
) -> list[str]:
    return [_array_literal(f, c[start:stop]) for f, c in zip(fields, columns, strict=True)]


def insert_columns(
    model: type[models.Model],
    columns: Mapping[str, Sequence[Any]],
    *,
    key: str | None = None,
    batch_size: int = BATCH,
) -> dict[Any, int]:
    """Insert one row per position of the column lists (named by attname) for the active tenant.

    Returns key value -> new primary key when `key` names one of the columns. On PostgreSQL each
    batch is one INSERT ... SELECT FROM unnest(arrays): no model instances, one parameter per
    column, and the row-level security policy still checks every row against the active tenant.
    """
    names = list(columns)
    total = len(columns[names[0]]) if names else 0
    if total == 0:
        return {}
    if connection.vendor != "postgresql":
        objs = [model(**dict(zip(names, row, strict=True)))
                for row in zip(*(columns[n] for n in names), strict=True)]
        _scoped(model).bulk_create(objs, batch_size=batch_size)
        return {getattr(obj, key): obj.pk for obj in objs} if key else {}

    meta = model._meta
    fields = [_field(model, n) for n in names]
    constants = _constants(model, names)
    targets = ", ".join(f'"{f.column}"' for f in [*constants, *fields])
    placeholders = ", ".join(["%s"] * len(constants))
    arrays = ", ".join(f"%s::{_array_type(f)}" for f in fields)
    selected = f"{placeholders}, u.*" if constants else "u.*"
    pk_column = meta.pk.column
    returning = f' RETURNING "{pk_column}", "{_field(model, key).column}"' if key else ""
    sql = (
        f'INSERT INTO "{meta.db_table}" ({targets}) '  # noqa: S608 - names from model metadata
        f"SELECT {selected} FROM unnest({arrays}) AS u{returning}"
    )
    values = [columns[n] for n in names]
    ids: dict[Any, int] = {}
    with connection.cursor() as cursor:
        for start in range(0, total, batch_size):
            params = [*constants.values(), *_batch(fields, values, start, start + batch_size)]
            cursor.execute(sql, params)
            if key:
                ids.update((row_key, pk) for pk, row_key in cursor.fetchall())
    return ids


def update_columns(
    model: type[models.Model],
    pks: Sequence[int],
    columns: Mapping[str, Sequence[Any]],
    *,
    batch_size: int = BATCH,
) -> None:
    """Set the named columns of the rows `pks` to the values at the same positions (PostgreSQL).

    Each batch is one UPDATE ... FROM unnest(arrays); auto_now stamps are set to now. Rows outside
    the active tenant are invisible to the statement under row-level security.
    """
    if not pks:
        return
    meta = model._meta
    pk = meta.pk
    assert pk is not None  # every model has a primary key
    fields = [pk, *(_field(model, n) for n in columns)]
    values = [pks, *columns.values()]
    stamped = [f for f in meta.concrete_fields if getattr(f, "auto_now", False)]
    now = timezone.now()
    assignments = [f'"{f.column}" = u."{f.column}"' for f in fields[1:] if f not in stamped]
    assignments += [f'"{f.column}" = %s' for f in stamped]
    aliases = ", ".join(f'"{f.column}"' for f in fields)
    arrays = ", ".join(f"%s::{_array_type(f)}" for f in fields)
    sql = (
        f'UPDATE "{meta.db_table}" AS t SET {", ".join(assignments)} '  # noqa: S608
        f'FROM unnest({arrays}) AS u({aliases}) WHERE t."{pk.column}" = u."{pk.column}"'
    )
    stamps = [f.get_db_prep_save(now, connection) for f in stamped]
    with connection.cursor() as cursor:
        for start in range(0, len(pks), batch_size):
            cursor.execute(sql, [*stamps, *_batch(fields, values, start, start + batch_size)])


def write_upsert(
    model: type[models.Model],
    plan: UpsertPlan,
    *,
    key: str,
    update_fields: Sequence[str],
    batch_size: int = BATCH,
) -> dict[str, int]:
    """Insert new rows and rewrite changed ones in batches; returns key -> primary key."""
    if connection.vendor == "postgresql":
        ids: dict[str, int] = {}
        if plan.creates:
            names = list(plan.creates[0][1])
            columns = {n: [values[n] for _, values in plan.creates] for n in names}
            ids.update(insert_columns(model, columns, key=key, batch_size=batch_size))
        if plan.updates:
            written = [n for n in update_fields if n in plan.updates[0][3]]
            update_columns(
                model,
                [pk for _, pk, _, _ in plan.updates],
                {n: [values[n] for _, _, _, values in plan.updates] for n in written},
                batch_size=batch_size,
            )
            ids.update((values[key], pk) for _, pk, _, values in plan.updates)
        return ids
    return _write_upsert_orm(
        model, plan, key=key, update_fields=update_fields, batch_size=batch_size
    )


def _write_upsert_orm(
    model: type[models.Model],
    plan: UpsertPlan,
    *,
    key: str,
    update_fields: Sequence[str],
    batch_size: int,
) -> dict[str, int]:
    ids: dict[str, int] = {}
    created = [model(**values) for _, values in plan.creates]
    _scoped(model).bulk_create(created, batch_size=batch_size)
    ids.update((getattr(obj, key), obj.pk) for obj in created)
    if plan.updates:
        # INSERT ... ON CONFLICT (tenant, key) DO UPDATE: one statement per batch, where
        # bulk_update would build a CASE per column per row.
        changed = [model(pk=pk, **values) for _, pk, _, values in plan.updates]
        _scoped(model).bulk_create(
            changed,
            batch_size=batch_size,
            update_conflicts=True,
            unique_fields=["tenant", key],
            update_fields=list(update_fields),
        )
        ids.update((values[key], pk) for _, pk, _, values in plan.updates)
    return ids
