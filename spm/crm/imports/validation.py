"""Checking a read table against an import kind: header mapping, cell cleaning, references to
people, accounts, stages, deals and leads of the active tenant, duplicate keys. The result lists
every problem with its row, column and reason, and holds rows ready for the upserts."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from spm.crm.models import Account, Deal, Lead, Stage
from spm.org.models import Person
from spm.tenancy.context import require_active_tenant

from . import cleaning
from .fields import PERSON_REF, Field, Kind, match_headers
from .reading import Table

PREVIEW_ROWS = 50
CHUNK = 5000
HEADER_ROW = 1

# The names HubSpot and most spreadsheets write instead of ISO codes, for the common markets.
COUNTRY_NAMES = {
    "unitedstates": "US", "unitedstatesofamerica": "US", "usa": "US", "america": "US",
    "unitedkingdom": "GB", "uk": "GB", "greatbritain": "GB", "england": "GB",
    "germany": "DE", "deutschland": "DE", "france": "FR", "spain": "ES", "espana": "ES",
    "italy": "IT", "netherlands": "NL", "thenetherlands": "NL", "belgium": "BE",
    "switzerland": "CH", "austria": "AT", "ireland": "IE", "sweden": "SE", "norway": "NO",
    "denmark": "DK", "finland": "FI", "poland": "PL", "portugal": "PT", "canada": "CA",
    "mexico": "MX", "brazil": "BR", "argentina": "AR", "australia": "AU", "newzealand": "NZ",
    "japan": "JP", "china": "CN", "india": "IN", "singapore": "SG", "southkorea": "KR",
    "israel": "IL", "southafrica": "ZA", "unitedarabemirates": "AE", "uae": "AE",
}


@dataclass(frozen=True)
class RowProblem:
    row: int  # the row's number in the file; the header is row 1
    column: str  # the header as written in the file, or the field's label if it is missing
    reason: str
    value: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason, "value": self.value}

    def __str__(self) -> str:
        return f"Row {self.row}, {self.column}: {self.reason}"


@dataclass
class ImportCheck:
    """Everything learnt from a file: problems, notices, a preview, and rows for the upsert."""

    kind: Kind
    row_count: int = 0
    errors: list[RowProblem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # field name -> header in the file
    preview: dict[str, Any] = field(default_factory=dict)
    sheet_names: list[str] = field(default_factory=list)
    sheet: str = ""
    _frame: pd.DataFrame | None = None  # cleaned values, one column per mapped field
    row_numbers: list[int] = field(default_factory=list)  # file row of each data row

    @property
    def ok(self) -> bool:
        return not self.errors

    def row_number(self, index: int) -> int:
        return self.row_numbers[index]

    def upsert_rows(self) -> list[dict[str, Any]]:
        """Rows keyed by model attname; cells that mean "leave it as it is" are left out."""
        if self._frame is None or self.errors:
            raise ValueError("Only a file without errors has rows to write.")
        names = list(self._frame.columns)
        columns = []
        for name in names:
            values = self._frame[name].tolist()
            if self.kind.field(name).empty == "blank":
                values = ["" if v is None else v for v in values]
            columns.append(values)
        rows = [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
        for name in names:
            if self.kind.field(name).empty == "omit":
                for row in rows:
                    if row[name] is None:
                        del row[name]
        return rows


def check_table(kind: Kind, table: Table) -> ImportCheck:
    tenant = require_active_tenant()
    check = ImportCheck(
        kind=kind,
        row_count=len(table.cells),
        notices=list(table.notices),
        sheet_names=table.sheet_names,
        sheet=table.sheet,
    )
    match = match_headers(kind, table.headers)
    check.headers = match.headers
    for spec in kind.fields:
        if spec.required and spec.name not in match.columns:
            accepted = ", ".join(f"'{a}'" for a in spec.aliases)
            check.errors.append(
                RowProblem(HEADER_ROW, spec.label,
                           f"required column is missing (name it one of {accepted})")
            )
    if match.ignored:
        check.notices.append(
            f"Columns not used for {kind.label.lower()}: {', '.join(match.ignored)}."
        )

    cells = table.cells
    cleaned: dict[str, cleaning.Cleaned] = {}
    for spec in kind.fields:
        if spec.name in match.columns:
            raw = cells[match.columns[spec.name]]
            cleaned[spec.name] = _clean(spec, raw, timezone=tenant.timezone)
            if cleaned[spec.name].notice:
                check.notices.append(cleaned[spec.name].notice)

    if kind.key in cleaned:
        _flag_duplicates(cleaned[kind.key], cells[match.columns[kind.key]])
    _cross_checks(kind, cleaned)

    for spec in kind.fields:
        if spec.name not in cleaned:
            continue
        problems = cleaned[spec.name].problems.dropna()
        raw = cells[match.columns[spec.name]]
        check.errors.extend(
            RowProblem(int(row), match.headers[spec.name], str(reason), raw[row])
            for row, reason in problems.items()
        )
    check.errors.sort(key=lambda e: e.row)

    check._frame = pd.DataFrame(
        {name: c.parsed for name, c in cleaned.items()}, index=cells.index, dtype=object
    )
    check.row_numbers = [int(i) for i in cells.index]
    check.preview = _preview(kind, cleaned, cells, match.columns, match.headers)
    return check


# -- cells ----------------------------------------------------------------------------------------


def _clean(spec: Field, raw: pd.Series, *, timezone: str) -> cleaning.Cleaned:
    required = spec.required
    if spec.kind == "key":
        return cleaning.text(raw, max_length=spec.max_length, required=True)
    if spec.kind == "text":
        return cleaning.text(raw, max_length=spec.max_length, required=required)
    if spec.kind == "email":
        return cleaning.email(raw, required=required)
    if spec.kind == "choice":
        result = cleaning.choice(raw, mapping=spec.choices, what=spec.label.lower(),
                                 allowed=spec.allowed)
        if required:
            result.fail(raw == "", "is empty")
        return result
    if spec.kind == "currency":
        return cleaning.currency(raw)
    if spec.kind == "country":
        return _country(raw)
    if spec.kind == "money":
        return cleaning.money(raw, required=required, negative=spec.negative,
                              max_digits=spec.max_digits)
    if spec.kind == "count":
        return cleaning.count(raw, required=required)
    if spec.kind == "day":
        return cleaning.day(raw, label=spec.label, required=required)
    if spec.kind == "moment":
        return cleaning.moment(raw, label=spec.label, timezone=timezone, required=required)
    if spec.kind == PERSON_REF:
        return _resolve_people(raw, required=required)
    if spec.kind == "stage":
        return _resolve_stages(raw, required=required)
    if spec.kind in REFERENCED:
        model, noun, hint = REFERENCED[spec.kind]
        return _resolve_external_ids(raw, model, noun=noun, hint=hint, required=required)
    raise ValueError(f"unknown field kind {spec.kind!r}")


def _country(raw: pd.Series) -> cleaning.Cleaned:
    def clean(values: pd.Series) -> cleaning.Cleaned:
        result = cleaning.Cleaned.empty_like(values)
        present = values != ""
        codes = values.str.upper().where(values.str.fullmatch(r"[A-Za-z]{2}"))
        codes = codes.fillna(cleaning.normal_keys(values).map(COUNTRY_NAMES))
        ok = present & codes.notna()
        result.set(ok, codes[ok].tolist())
        result.fail(
            present & ~ok,
            "{value} is not a country code; use the two-letter ISO code (e.g. US, DE, GB)",
        )
        return result

    return cleaning.per_distinct_value(raw, clean)


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


REFERENCED = {
    "account": (Account, "account", "import accounts first"),
    "deal": (Deal, "deal", "import deals first"),
    "lead": (Lead, "lead", "import leads first"),
}


def _resolved(raw: pd.Series, ids: pd.Series, *, required: bool) -> cleaning.Cleaned:
    result = cleaning.Cleaned.empty_like(raw)
    found = (raw != "") & ids.notna()
    result.set(found, ids[found].astype(int).tolist())
    if required:
        result.fail(raw == "", "is empty")
    return result


def _resolve_external_ids(
    raw: pd.Series, model: type, *, noun: str, hint: str, required: bool
) -> cleaning.Cleaned:
    def clean(values: pd.Series) -> cleaning.Cleaned:
        wanted = sorted(set(values) - {""})
        known: dict[str, int] = {}
        for chunk in _chunks(wanted):
            known.update(
                model.objects.filter(external_id__in=chunk).values_list("external_id", "pk")
            )
        result = _resolved(values, values.map(known), required=required)
        result.fail(
            (values != "") & result.parsed.isna(),
            f"unknown {noun}: no {noun} has the ID {{value}} ({hint})",
        )
        return result

    return cleaning.per_distinct_value(raw, clean)


def _resolve_people(raw: pd.Series, *, required: bool) -> cleaning.Cleaned:
    """By employee id, else email, else a full name that only one person has."""
    by_employee_id: dict[str, int] = {}
    by_email: dict[str, int] = {}
    by_name: dict[str, int] = {}
    ambiguous_names: set[str] = set()
    for pk, employee_id, email, name in Person.objects.values_list(
        "pk", "employee_id", "email", "name"
    ):
        by_employee_id[employee_id.strip()] = pk
        by_email.setdefault(email.strip().casefold(), pk)
        key = name.strip().casefold()
        if key in by_name and by_name[key] != pk:
            ambiguous_names.add(key)
        by_name.setdefault(key, pk)

    def clean(values: pd.Series) -> cleaning.Cleaned:
        folded = values.str.casefold()
        ids = values.map(by_employee_id).fillna(folded.map(by_email))
        ambiguous = ids.isna() & folded.isin(ambiguous_names)
        ids = ids.fillna(folded.map(by_name).where(~ambiguous))
        result = _resolved(values, ids, required=required)
        present = values != ""
        result.fail(
            present & ambiguous,
            "{value} is the name of several people; use their employee ID or email",
        )
        result.fail(
            present & result.parsed.isna(),
            "unknown person: nobody has the employee ID, email or name {value}",
        )
        return result

    return cleaning.per_distinct_value(raw, clean)


def _resolve_stages(raw: pd.Series, *, required: bool) -> cleaning.Cleaned:
    stages = list(Stage.objects.order_by("order").values_list("name", "pk"))
    exact = {name.strip().casefold(): pk for name, pk in stages}
    loose = {cleaning.normal_key(name): pk for name, pk in stages}
    names = ", ".join(name for name, _ in stages) or "none are set up yet"

    def clean(values: pd.Series) -> cleaning.Cleaned:
        ids = values.str.casefold().map(exact).fillna(cleaning.normal_keys(values).map(loose))
        result = _resolved(values, ids, required=required)
        result.fail(
            (values != "") & result.parsed.isna(),
            f"unknown stage {{value}} (the stages are: {names})",
        )
        return result

    return cleaning.per_distinct_value(raw, clean)


# -- rows -----------------------------------------------------------------------------------------


def _flag_duplicates(key: cleaning.Cleaned, raw: pd.Series) -> None:
    present = raw != ""
    repeated = present & raw.duplicated(keep="first")
    if not repeated.any():
        return
    first_row = pd.Series(raw.index, index=raw.index).groupby(raw).transform("min")
    key.fail(
        repeated,
        cleaning.quoted(raw[repeated]) + " appears more than once in the file (first in row "
        + first_row[repeated].astype(str) + ")",
    )


def _cross_checks(kind: Kind, cleaned: dict[str, cleaning.Cleaned]) -> None:
    pairs = {
        "people": [("hire_date", "termination_date", "is before the hire date")],
        "leads": [("created_at", "first_response_at", "is before the lead was created"),
                  ("created_at", "converted_at", "is before the lead was created")],
    }
    for earlier, later, reason in pairs.get(kind.name, []):
        if earlier in cleaned and later in cleaned:
            wrong = cleaning.timestamps_before(cleaned[earlier].parsed, cleaned[later].parsed)
            cleaned[later].fail(wrong, reason)


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        text = value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
        return re.sub(r"\+00:00$", " UTC", text)
    return str(value)


def _preview(
    kind: Kind,
    cleaned: dict[str, cleaning.Cleaned],
    cells: pd.DataFrame,
    columns: dict[str, int],
    headers: dict[str, str],
) -> dict[str, Any]:
    """The first rows as they will be stored; references show what the file said."""
    names = [f.name for f in kind.fields if f.name in cleaned]
    spec_of = {f.name: f for f in kind.fields}
    references = {f.name for f in kind.fields if f.name.endswith("_id") and f.name != "external_id"}
    rows = []
    for row in cells.index[:PREVIEW_ROWS]:
        shown = []
        for name in names:
            bad = cleaned[name].problems[row] is not None
            raw = cells.loc[row, columns[name]]
            if bad or name in references:
                value = raw
            elif spec_of[name].kind == "choice":
                value = spec_of[name].label_of(cleaned[name].parsed[row] or "")
            else:
                value = _shown(cleaned[name].parsed[row])
            shown.append([value, bad])
        rows.append({"row": int(row), "cells": shown})
    return {"headers": [headers[n] for n in names], "fields": names, "rows": rows}
