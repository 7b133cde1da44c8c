"""Checking a read table against an import kind: header mapping, cell cleaning, references to
people, accounts, stages, deals and leads of the active tenant, duplicate keys. The result lists
every problem with its row, column and reason, and holds rows ready for the upserts."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from spm.crm.models import Deal, Lead
from spm.tenancy.context import require_active_tenant

from . import cleaning, roster
from .fields import PERSON_REF, Field, HeaderMatch, Kind, match_headers
from .options import ImportOptions
from .reading import Table
from .references import (
    NewAccount,
    adoptable_accounts,
    resolve_account_ids,
    resolve_account_names,
    resolve_people,
)
from .stages import resolve_stages

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
    options: ImportOptions = field(default_factory=ImportOptions)
    _frame: pd.DataFrame | None = None  # cleaned values, one column per mapped field
    row_numbers: list[int] = field(default_factory=list)  # file row of each data row
    # People: who reports to whom (employee ids; None: to no one), and from which day.
    reports: dict[str, str | None] = field(default_factory=dict)
    new_people: set[str] = field(default_factory=set)  # placed from their hire date
    effective_date: datetime.date | None = None
    # Deals: accounts to create by name (key -> name), and rows naming an unknown account.
    accounts_to_create: dict[str, str] = field(default_factory=dict)
    unknown_account_rows: int = 0
    # Deals: stage values no stage fits (key -> [value as written, rows]), to map on the preview.
    unknown_stages: dict[str, list] = field(default_factory=dict)
    # Accounts: accounts made from a deals file by name that this file gives their ID (pk -> ID).
    account_adoptions: dict[int, str] = field(default_factory=dict)

    @property
    def fixable_on_preview(self) -> bool:
        """Problems the preview page can fix without a new upload (a mapping, an option)."""
        return bool(self.unknown_stages or self.unknown_account_rows)

    @property
    def ok(self) -> bool:
        return not self.errors

    def row_number(self, index: int) -> int:
        return self.row_numbers[index]

    def upsert_rows(self) -> list[dict[str, Any]]:
        """Rows keyed by model attname; cells that mean "leave it as it is" are left out."""
        if self._frame is None or self.errors:
            raise ValueError("Only a file without errors has rows to write.")
        names = [n for n in self._frame.columns if self.kind.field(n).stored]
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


@dataclass
class Sheet:
    """A table while it is checked: each field's cells as text (from its column, or derived from
    others), the header to report it under, and its cleaned values."""

    kind: Kind
    cells: pd.DataFrame
    headers: dict[str, str]  # field name -> header in the file (or how it was derived)
    raw: dict[str, pd.Series]  # field name -> text cells
    cleaned: dict[str, cleaning.Cleaned] = field(default_factory=dict)
    timezone: str = "UTC"


def check_table(
    kind: Kind, table: Table, options: ImportOptions | None = None
) -> ImportCheck:
    """Check every cell of `table` as rows of `kind`: problems by row and column, and a preview."""
    tenant = require_active_tenant()
    options = options or ImportOptions()
    check = ImportCheck(
        kind=kind,
        row_count=len(table.cells),
        notices=list(table.notices),
        sheet_names=table.sheet_names,
        sheet=table.sheet,
        options=options,
    )
    match = match_headers(kind, table.headers)
    cells = table.cells
    sheet = Sheet(
        kind=kind,
        cells=cells,
        headers=dict(match.headers),
        raw={name: cells[position] for name, position in match.columns.items()},
        timezone=tenant.timezone,
    )
    _check_columns(kind, match, check)
    if kind.name == "people":
        check.effective_date = roster.effective_day(tenant, options.effective_date)
        roster.derive_name(sheet)
    _clean_cells(sheet, check, timezone=tenant.timezone)
    _collect_problems(sheet, check)
    _fill_preview(sheet, check)
    return check


def _check_columns(kind: Kind, match: HeaderMatch, check: ImportCheck) -> None:
    """Report required columns that are missing and columns that are not used."""
    for spec in kind.fields:
        present = spec.name in match.columns or any(n in match.columns for n in spec.or_from)
        if spec.required and not present:
            accepted = ", ".join(f"'{a}'" for a in spec.aliases)
            instead = "".join(
                f"; or give {kind.field(other).label.lower()} as one of "
                + ", ".join(f"'{a}'" for a in kind.field(other).aliases)
                for other in spec.or_from
            )
            check.errors.append(
                RowProblem(HEADER_ROW, spec.label,
                           f"required column is missing (name it one of {accepted}{instead})")
            )
    if match.ignored:
        check.notices.append(
            f"Columns not used for {kind.label.lower()}: {', '.join(match.ignored)}."
        )


def _clean_cells(sheet: Sheet, check: ImportCheck, *, timezone: str) -> None:
    """Clean each field's cells, then run the checks of the kind and across rows and fields."""
    kind = sheet.kind
    for spec in kind.fields:
        if spec.name in sheet.raw and spec.kind not in CONTEXTUAL:
            sheet.cleaned[spec.name] = _clean(spec, sheet.raw[spec.name], timezone=timezone)
            if sheet.cleaned[spec.name].notice:
                check.notices.append(sheet.cleaned[spec.name].notice)
    KIND_CHECKS.get(kind.name, _no_more_checks)(sheet, check)

    if kind.key in sheet.cleaned:
        _flag_duplicates(sheet.cleaned[kind.key], sheet.raw[kind.key])
    _cross_checks(kind, sheet.cleaned)


def _collect_problems(sheet: Sheet, check: ImportCheck) -> None:
    """Turn the cleaned fields' problems into errors naming row and column, in row order."""
    for spec in sheet.kind.fields:
        if spec.name not in sheet.cleaned or spec.name not in sheet.headers:
            continue
        problems = sheet.cleaned[spec.name].problems.dropna()
        raw = sheet.raw[spec.name]
        check.errors.extend(
            RowProblem(int(row), sheet.headers[spec.name], str(reason), raw[row])
            for row, reason in problems.items()
        )
    check.errors.sort(key=lambda e: e.row)


def _fill_preview(sheet: Sheet, check: ImportCheck) -> None:
    """Keep the parsed rows for applying, and build the preview the user confirms."""
    cells = sheet.cells
    check._frame = pd.DataFrame(
        {name: c.parsed for name, c in sheet.cleaned.items()}, index=cells.index, dtype=object
    )
    check.headers = dict(sheet.headers)
    check.row_numbers = [int(i) for i in cells.index]
    check.preview = _preview(sheet)
    if check.accounts_to_create:
        check.preview["accounts_to_create"] = sorted(
            check.accounts_to_create.values(), key=str.casefold
        )
    if check.unknown_stages:
        check.preview["unknown_stages"] = [
            {"value": value, "rows": rows} for value, rows in check.unknown_stages.values()
        ]
    if check.unknown_account_rows:
        check.preview["unknown_account_rows"] = check.unknown_account_rows


# Fields whose cells are read against other fields of the row or the file; the checks of their
# kind (KIND_CHECKS) clean them.
CONTEXTUAL = {"manager", "account_name", "stage"}


def _no_more_checks(sheet: Sheet, check: ImportCheck) -> None:
    return None


def _check_deals(sheet: Sheet, check: ImportCheck) -> None:
    _merge_accounts(sheet, check)
    if "stage_id" in sheet.raw:
        status = sheet.cleaned.get("deal_status")
        resolution = resolve_stages(
            sheet.raw["stage_id"], statuses=status.parsed if status is not None else None
        )
        sheet.cleaned["stage_id"] = resolution.cleaned
        check.unknown_stages = resolution.unknown


def _merge_accounts(sheet: Sheet, check: ImportCheck) -> None:
    """The account of each row: by ID where the row gives one, else by name."""
    by_id = sheet.cleaned.get("account_id")
    if "account_name" not in sheet.raw:
        if by_id is not None:
            by_id.fail(sheet.raw["account_id"] == "", "is empty")
        return
    names = sheet.raw["account_name"]
    ids = sheet.raw.get("account_id", pd.Series("", index=names.index, dtype=object))
    by_name, to_create, unknown = resolve_account_names(
        names.where(ids == "", ""), create_missing=check.options.create_accounts
    )
    empty = (ids == "") & (names == "")
    (by_id if by_id is not None else by_name).fail(empty, "is empty")
    sheet.cleaned["account_name"] = by_name
    new = by_name.parsed.map(lambda value: isinstance(value, NewAccount))
    if new.any():
        by_name.shown = names.where(~new, names + " (new account)")
    merged = cleaning.Cleaned.empty_like(names)
    use_id = ids != ""
    merged.parsed = by_name.parsed.where(~use_id, by_id.parsed if by_id is not None else None)
    if by_id is not None:
        merged.problems = by_id.problems
    sheet.cleaned["account_id"] = merged
    used = {value.key for value in by_name.parsed[new].tolist()}
    check.accounts_to_create = {k: v for k, v in to_create.items() if k in used}
    check.unknown_account_rows = unknown


def _check_accounts(sheet: Sheet, check: ImportCheck) -> None:
    key, name = sheet.cleaned.get("external_id"), sheet.cleaned.get("name")
    if key is None or name is None:
        return
    clean = key.problems.isna() & name.problems.isna()
    check.account_adoptions = adoptable_accounts(
        zip(key.parsed[clean].tolist(), name.parsed[clean].tolist(), strict=True)
    )
    if check.account_adoptions:
        check.notices.append(
            f"{len(check.account_adoptions)} account(s) created earlier from a deals file by "
            "name take their ID from this file, so it updates them rather than adding twins."
        )


KIND_CHECKS = {
    "people": roster.check_people,
    "accounts": _check_accounts,
    "deals": _check_deals,
}


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
        return resolve_people(raw, required=required)
    if spec.kind == "account":
        return resolve_account_ids(raw)
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


def _preview(sheet: Sheet) -> dict[str, Any]:
    """The first rows as they will be stored; references show what the file said."""
    kind = sheet.kind
    names = [f.name for f in kind.fields if f.name in sheet.cleaned and f.name in sheet.headers]
    spec_of = {f.name: f for f in kind.fields}
    as_written = {
        f.name for f in kind.fields
        if (f.name.endswith("_id") and f.name != "external_id") or f.kind in CONTEXTUAL
    }
    rows = []
    for row in sheet.cells.index[:PREVIEW_ROWS]:
        shown = []
        for name in names:
            cleaned = sheet.cleaned[name]
            bad = cleaned.problems[row] is not None
            if cleaned.shown is not None and not bad:
                value = cleaned.shown[row]
            elif bad or name in as_written:
                value = sheet.raw[name][row]
            elif spec_of[name].kind == "choice":
                value = spec_of[name].label_of(cleaned.parsed[row] or "")
            else:
                value = _shown(cleaned.parsed[row])
            shown.append([value, bad])
        rows.append({"row": int(row), "cells": shown})
    return {"headers": [sheet.headers[n] for n in names], "fields": names, "rows": rows}
