"""`manage.py comp_simulate`: run a plan document over credits and quotas, without a database.

For trying a plan before publishing it and for what-if modelling. The files are read and checked
by the CRM import's readers (CSV in any common encoding and delimiter, or .xlsx); the columns are
documented in docs/plans.md ("Simulating a plan"). Every problem in the inputs is listed and
nothing is written when there is one.

Over 500 lines: it reads every kind of input file a run has (plans, credits, quotas, assignments,
MBO scores, cancellations), each with its own headers and checks, and maps every engine error back
to the file's own row and header; those readers serve this command alone. Splitting them out is
planned with the rest of its rework (proration, team quotas, cancellations from a file).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
from django.core.management.base import BaseCommand, CommandError, CommandParser

from compensation.engine import Calendar, EngineInputError, PlanInvalid, calculate
from compensation.engine.plans import PlanVersion
from compensation.imports.cells import (
    DECIMAL_COMMA,
    days_together,
    money_cents,
    unambiguous_marks,
)
from compensation.models import MBO_SCORE_LIMIT
from compensation.plan_documents import PlanDocumentError, load_plan
from spm.crm.imports import cleaning
from spm.crm.imports.cleaning import Cleaned
from spm.crm.imports.reading import ImportFileError, Table, read_table
from spm.web import neutralise


class Column(NamedTuple):
    required: bool
    kind: str  # text, period, window, date, money, integer, score or boolean
    # Credits may be reversals (a cancelled deal credited back), so their measures may be
    # negative; quotas and targets may not.
    negative: bool = False


CREDIT_COLUMNS = {
    "credit_id": Column(True, "text"),
    "payee_id": Column(True, "text"),
    "deal_id": Column(True, "text"),
    "period": Column(True, "period"),
    "credit_date": Column(True, "date"),
    "amount": Column(True, "money", negative=True),
    "units": Column(False, "integer", negative=True),
    "margin": Column(False, "money", negative=True),
    "product_line": Column(False, "text"),
    "deal_type": Column(False, "text"),
    "is_new_logo": Column(False, "boolean"),
    "deal_amount": Column(False, "money", negative=True),
    "close_date": Column(False, "date"),
}
QUOTA_COLUMNS = {
    "payee_id": Column(True, "text"),
    "period": Column(True, "period"),
    "quota": Column(False, "money"),
    "quota_units": Column(False, "integer"),
    "quota_margin": Column(False, "money"),
}
ASSIGNMENT_COLUMNS = {
    "payee_id": Column(True, "text"),
    "period": Column(True, "period"),
    "target_incentive": Column(False, "money"),
    "proration": Column(False, "text"),
    "valid_from": Column(False, "date"),
    "valid_to": Column(False, "date"),
}
MBO_COLUMNS = {
    "payee_id": Column(True, "text"),
    "component": Column(True, "text"),
    "window": Column(True, "window"),
    "score_pct": Column(True, "score"),
}
# Money columns arrive as decimals ("1234.50") and reach the engine as integer cents.
CENTS_NAME = {"amount": "amount_cents", "margin": "margin_cents",
              "deal_amount": "deal_amount_cents", "quota": "quota_cents",
              "quota_margin": "quota_margin_cents", "target_incentive": "target_incentive_cents"}
OUT_MONEY = ("basis", "cumulative", "quota", "amount_cents", "rounding_carry_cents",
             "capped_cents")
YES_NO = {cleaning.normal_key(label): value
          for labels, value in ((("true", "yes", "y", "t", "1"), True),
                                (("false", "no", "n", "f", "0"), False))
          for label in labels}
_MONTH = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{1,2})(?:-(?P<day>\d{1,2}))?$")
_FISCAL_WINDOW = re.compile(r"FY(?P<year>\d{4})(?:[-\s]?Q(?P<quarter>[1-4]))?", re.IGNORECASE)
WINDOW_HINT = "is not a window such as 2026-03, FY2026-Q1 or FY2026"


@dataclass
class Problems:
    items: list[str] = field(default_factory=list)

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")


@dataclass
class FileTerms:
    """How one input file names things, so engine errors can be told in the file's own words."""

    name: str
    headers: dict[str, str] = field(default_factory=dict)  # engine column -> the file's header
    rows: list[int] = field(default_factory=list)  # the file's row number of each frame row

    def header(self, column: str) -> str:
        return self.headers.get(column, column.removesuffix("_cents"))


ENGINE_TABLE = re.compile(r"^(credits|quotas|assignments|mbo_scores)(?:\.(\w+))?: (.*)$", re.S)


def in_file_terms(error: str, terms: dict[str, FileTerms]) -> str:
    """An engine error with its table and column names replaced by the file's name and headers.

    The engine speaks in its own columns (`margin_cents`); a finance user only knows the file
    they wrote, so a message naming `margin_cents` sends them looking for a column that is not
    there.
    """
    match = ENGINE_TABLE.match(error)
    if match is None:
        return error
    table, column, rest = match.groups()
    file = terms.get(table) or FileTerms(name=table)
    rest = re.sub(r"\b[a-z_]+_cents\b", lambda m: file.header(m[0]), rest)
    where = file.name if column is None else f"{file.name}, column {file.header(column)}"
    return f"{where}: {rest}"


def check_assignments(frame: pd.DataFrame, terms: FileTerms, problems: Problems) -> None:
    """A proration that is not a share of the period, or a validity that ends before it starts,
    named by its row and header: the engine would refuse it without saying which row."""
    if frame.empty or not terms.rows:
        return
    for i, text in enumerate(frame.get("proration", pd.Series(dtype=object))):
        if text is None or pd.isna(text) or str(text).strip() == "":
            continue
        try:
            share = Fraction(str(text).strip())
        except (ValueError, ZeroDivisionError):
            share = None
        if share is None or not 0 <= share <= 1:
            problems.add(f"{terms.name} row {terms.rows[i]}, {terms.header('proration')}",
                         f"{text!r} is not a share of the period between 0 and 1 "
                         f"(write it as 15/31 or 0.5)")
    if "valid_from" in frame.columns and "valid_to" in frame.columns:
        starts = pd.to_datetime(frame["valid_from"])
        ends = pd.to_datetime(frame["valid_to"])
        for i in frame.index[(starts > ends).fillna(False)]:
            problems.add(f"{terms.name} row {terms.rows[i]}, {terms.header('valid_from')}",
                         f"{starts[i]:%Y-%m-%d} is after {terms.header('valid_to')} "
                         f"{ends[i]:%Y-%m-%d}")


def repeated_rows(frame: pd.DataFrame, columns: list[str], terms: FileTerms,
                  problems: Problems, why: str) -> None:
    """Rows that repeat a key the engine needs unique, named by their row numbers in the file."""
    if frame.empty or any(c not in frame.columns for c in columns) or not terms.rows:
        return
    repeated = frame[frame.duplicated(columns, keep=False)]
    for key, group in repeated.groupby(columns, sort=False):
        rows = ", ".join(str(terms.rows[i]) for i in group.index)
        values = key if isinstance(key, tuple) else (key,)
        shown = ", ".join(f"{terms.header(c)} {v}" for c, v in zip(columns, values, strict=True))
        problems.add(f"{terms.name} rows {rows}", f"{shown} appears more than once: {why}")


# -- cells ----------------------------------------------------------------------------------------


def whole_numbers(raw: pd.Series, *, required: bool = False, negative: bool = False) -> Cleaned:
    """Whole numbers by the CRM import's rules ("1,200", "3.0"), below zero if allowed."""
    result = cleaning.count(raw, required=required)
    if negative:
        # count refuses a sign only once the number is otherwise good, so its magnitude is.
        below = result.problems == "cannot be negative"
        if below.any():
            magnitude = cleaning.count(
                raw[below].map(cleaning.canonical_number).str.removeprefix("-"))
            result.problems[below] = None
            result.set(below, [-value for value in magnitude.parsed.tolist()])
    unambiguous_marks(result, whole=True)
    return result


def months(raw: pd.Series, *, required: bool = False) -> Cleaned:
    """Period keys "YYYY-MM"; "2026-3" and a first-of-month date (how a spreadsheet stores a
    month typed as 2026-03) mean the same month."""

    def clean(values: pd.Series) -> Cleaned:
        result = Cleaned.empty_like(values)
        present = values != ""
        parts = values.str.extract(_MONTH)
        month = pd.to_numeric(parts["month"], errors="coerce")
        day = pd.to_numeric(parts["day"], errors="coerce")
        key = parts["year"] + "-" + parts["month"].str.zfill(2)
        is_month = present & month.between(1, 12)
        result.fail(is_month & day.notna() & (day != 1),
                    "'" + values + "' is a date, not a month: write " + key)
        result.fail(present & ~is_month, "{value} is not a month such as 2026-03")
        ok = is_month & result.problems.isna()
        result.set(ok, key[ok].tolist())
        return result

    result = cleaning.per_distinct_value(raw, clean)
    if required:
        result.fail(raw == "", "is empty")
    return result


def _window_key(text: str) -> str | None:
    fiscal = _FISCAL_WINDOW.fullmatch(text)
    if fiscal is not None:
        quarter = fiscal.group("quarter")
        return f"FY{fiscal.group('year')}" + (f"-Q{quarter}" if quarter else "")
    month = _MONTH.fullmatch(text)
    if month is not None and 1 <= int(month.group("month")) <= 12 and (
            month.group("day") is None or int(month.group("day")) == 1):
        return f"{month.group('year')}-{int(month.group('month')):02d}"
    return None


def windows(raw: pd.Series, *, required: bool = False) -> Cleaned:
    """MBO windows as the engine names them: a month "2026-03" (or "2026-3"), a quarter
    "FY2026-Q1" (or "fy2026 q1") and a year "FY2026"."""

    def clean(values: pd.Series) -> Cleaned:
        result = Cleaned.empty_like(values)
        keys = pd.Series([_window_key(v) if v else None for v in values.tolist()],
                         index=values.index, dtype=object)
        result.set(keys.notna(), keys[keys.notna()].tolist())
        result.fail((values != "") & keys.isna(), "{value} " + WINDOW_HINT)
        return result

    result = cleaning.per_distinct_value(raw, clean)
    if required:
        result.fail(raw == "", "is empty")
    return result


def scores(raw: pd.Series, *, required: bool = False) -> Cleaned:
    """Scores in percent as exact Decimals ("85", "87.5" or "85%"), at most two decimals and
    1000%, as the MBO score page takes them."""
    result = cleaning.money(raw.str.removesuffix("%").str.rstrip(), required=required,
                            max_digits=6, decimal_places=2)
    result.raw = raw
    unambiguous_marks(result, whole=False)
    too_high = pd.Series([v is not None and v > MBO_SCORE_LIMIT for v in result.parsed],
                         index=raw.index, dtype=bool)
    result.fail(too_high, "{value} is above 1000%, surely a typo: 85 means 85%")
    return result


def _text(raw: pd.Series, *, required: bool) -> Cleaned:
    result = Cleaned.empty_like(raw)
    present = raw != ""
    result.set(present, raw[present].tolist())
    if required:
        result.fail(~present, "is empty")
    return result


def _yes_no(raw: pd.Series, *, required: bool) -> Cleaned:
    result = cleaning.choice(raw, mapping=YES_NO, what="yes/no value", allowed="true or false")
    if required:
        result.fail(raw == "", "is empty")
    return result


def _dates(columns: dict[str, pd.Series], spec: dict[str, Column], label: str,
           ) -> dict[str, Cleaned]:
    out = days_together(columns, label=label)
    for column, result in out.items():
        if spec[column].required:
            result.fail(result.raw == "", "is empty")
    return out


def clean_cells(cells: dict[str, pd.Series], spec: dict[str, Column], label: str,
                ) -> dict[str, Cleaned]:
    """Each column's cells typed for the engine (money in cents), with a reason per bad cell."""
    out = _dates({c: raw for c, raw in cells.items() if spec[c].kind == "date"}, spec, label)
    for column, raw in cells.items():
        required, kind, negative = spec[column]
        if kind == "money":
            out[column] = money_cents(raw, required=required, negative=negative)
        elif kind == "integer":
            out[column] = whole_numbers(raw, required=required, negative=negative)
        elif kind == "period":
            out[column] = months(raw, required=required)
        elif kind == "window":
            out[column] = windows(raw, required=required)
        elif kind == "score":
            out[column] = scores(raw, required=required)
        elif kind == "boolean":
            out[column] = _yes_no(raw, required=required)
        elif kind == "text":
            out[column] = _text(raw, required=required)
    return out


# -- files ----------------------------------------------------------------------------------------


def _column_letter(position: int) -> str:
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _read_file(path: Path, role: str) -> Table:
    """The file's table; from a workbook, the sheet named after the role if there is one."""
    content = path.read_bytes()
    table = read_table(content, file_name=path.name, allow_no_rows=True)
    if len(table.sheet_names) > 1:
        named = [s for s in table.sheet_names
                 if cleaning.normal_key(s) == cleaning.normal_key(role)]
        if named and named[0] != table.sheet:
            table = read_table(content, file_name=path.name, sheet=named[0],
                               allow_no_rows=True)
        # The import's own note points at its upload form; this says how the sheet was chosen.
        table.notices = [n for n in table.notices if not n.startswith("The workbook has ")]
        table.notices.append(
            f"the workbook has sheets {', '.join(table.sheet_names)}; the sheet "
            f"{table.sheet!r} was read (a sheet named {role!r} is read when there is one, "
            "else the first).")
    return table


def _match_headers(table: Table, spec: dict[str, Column], name: str, problems: Problems,
                   ) -> dict[str, int]:
    """Where each known column is; headers match ignoring case, spaces and punctuation."""
    by_key = {cleaning.normal_key(column): column for column in spec}
    found: dict[str, int] = {}
    unknown, repeated = [], []
    for position, header in enumerate(table.headers):
        if not header:
            # Spreadsheets often export empty columns past the data; only filled ones matter.
            if (table.cells[position] != "").any():
                problems.add(name, f"column {_column_letter(position)} has values but no "
                                   "header")
            continue
        column = by_key.get(cleaning.normal_key(header))
        if column is None:
            unknown.append(header)
        elif column in found:
            repeated.append(f"{table.headers[found[column]]!r} and {header!r} are both "
                            f"{column}")
        else:
            found[column] = position
    missing = [c for c, rule in spec.items() if rule.required and c not in found]
    if missing:
        problems.add(name, f"missing column(s) {', '.join(missing)}")
    if unknown:
        problems.add(name, f"unknown column(s) {', '.join(unknown)}; expected some of "
                           f"{', '.join(spec)}")
    for pair in repeated:
        problems.add(name, f"two columns mean the same: {pair}")
    return found


def read_input(path: Path, spec: dict[str, Column], problems: Problems, notices: list[str],
               *, role: str, terms: FileTerms | None = None) -> pd.DataFrame:
    """A CSV or .xlsx file as engine columns; problems name the file, row and column.

    `terms`, if given, is filled with the file's headers and row numbers for later messages.
    """
    name = path.name
    try:
        table = _read_file(path, role)
    except OSError as exc:
        problems.add(name, f"cannot be read ({exc.strerror or exc})")
        return pd.DataFrame()
    except ImportFileError as exc:
        problems.add(name, str(exc))
        return pd.DataFrame()
    notices.extend(f"{name}: {notice}" for notice in table.notices)
    known = len(problems.items)
    positions = _match_headers(table, spec, name, problems)
    if len(problems.items) > known:
        return pd.DataFrame()
    if terms is not None:
        terms.headers = {CENTS_NAME.get(c, c): table.headers[p] for c, p in positions.items()}
        terms.rows = [int(row) for row in table.cells.index]
    if table.cells.empty:
        return pd.DataFrame({CENTS_NAME.get(c, c): [] for c in positions})
    cleaned = clean_cells({c: table.cells[p] for c, p in positions.items()}, spec, name)
    notices.extend(sorted({result.notice for result in cleaned.values() if result.notice}))
    bad = []
    for column, result in cleaned.items():
        wrong = result.problems.dropna()
        header = table.headers[positions[column]]
        bad += [(row, positions[column], f"{name} row {row}, {header}", reason)
                for row, reason in zip(wrong.index.tolist(), wrong.tolist(), strict=True)]
    if any(DECIMAL_COMMA in reason for *_, reason in bad):
        # A whole export in a decimal-comma locale fails row by row; say once how to fix it.
        problems.add(name, "amounts are written with a decimal comma; save the sheet as .xlsx "
                           "(which keeps numbers as numbers), or format them with a decimal "
                           "point")
    for _, _, where, reason in sorted(bad, key=lambda item: item[:2]):
        problems.add(where, reason)
    return pd.DataFrame({CENTS_NAME.get(c, c): _engine_values(result.parsed, spec[c].kind)
                         for c, result in cleaned.items()}).reset_index(drop=True)


def _engine_values(parsed: pd.Series, kind: str) -> pd.Series:
    """Numbers as int64 and flags as bool when every row has one; the engine reports gaps."""
    if parsed.isna().any():
        return parsed
    if kind in ("money", "integer"):
        return parsed.astype("int64")
    if kind == "boolean":
        return parsed.astype(bool)
    return parsed


def check_scores(scores: pd.DataFrame, plan: PlanVersion, name: str, problems: Problems,
                 ) -> None:
    """Scores the plan could never pay are refused: the engine reads a score by component code
    and window label, so a misspelt code or a quarter given for a monthly component would
    otherwise be ignored without a word."""
    if scores.empty:
        return
    cadence_of = {c.code: c.period for c in plan.components if c.kind == "mbo"}
    known = ", ".join(sorted(cadence_of)) or "none"
    for code in sorted({str(c) for c in scores["component"].dropna()} - set(cadence_of)):
        problems.add(name, f"component {code!r} is not an MBO component of the plan (its MBO "
                           f"components: {known})")
    for code, cadence in sorted(cadence_of.items()):
        given = scores.loc[scores["component"] == code, "window"].dropna()
        wrong = sorted({str(w) for w in given if window_cadence(str(w)) != cadence})
        if wrong:
            problems.add(name, f"{code} is scored per {cadence}, so {', '.join(wrong[:5])} "
                               f"cannot be its window{'s' if len(wrong) > 1 else ''}")


def window_cadence(window: str) -> str:
    if window.startswith("FY"):
        return "quarter" if "-Q" in window else "year"
    return "month"


def month_of_window(window: str, start_month: int) -> str:
    """A "YYYY-MM" key in the window's fiscal year (its first month for a quarter or year), so
    the calendar, which covers whole fiscal years, holds every scored window."""
    if not window.startswith("FY"):
        return window
    fiscal_year = int(window[2:6])
    # A fiscal year is named after the calendar year it ends in.
    year = fiscal_year if start_month == 1 else fiscal_year - 1
    return f"{year:04d}-{start_month:02d}"


def default_assignments(plan_key: str, payees: Iterable[str], calendar: Calendar,
                        ) -> pd.DataFrame:
    """Everyone credited, given a quota or scored holds the plan in every period, with no
    target."""
    people = sorted(set(payees))
    return pd.DataFrame(
        [{"payee_id": p, "period": key, "plan": plan_key} for p in people
         for key in calendar.periods],
        columns=["payee_id", "period", "plan"],
    )


def lines_for_csv(lines: pd.DataFrame) -> pd.DataFrame:
    """Engine lines with money as decimals ("1234.50") for people and spreadsheets."""
    out = lines.copy()
    for column in OUT_MONEY:
        if column not in out.columns:
            continue
        values = out[column]
        out[column] = [None if pd.isna(v) else f"{Decimal(int(v)).scaleb(-2):.2f}"
                       for v in values]
    return out.rename(columns={c: c.removesuffix("_cents") for c in OUT_MONEY})


class Command(BaseCommand):
    help = ("Run a plan document (YAML) over credits and quotas in CSV or .xlsx files and "
            "write the line items to a CSV file, without touching the database.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--plan", required=True, type=Path, help="Plan document (YAML).")
        parser.add_argument("--credits", required=True, type=Path, help="Credits (CSV or .xlsx).")
        parser.add_argument("--quotas", required=True, type=Path, help="Quotas (CSV or .xlsx).")
        parser.add_argument("--assignments", type=Path, default=None,
                            help="Assignments, CSV or .xlsx (default: everyone on the plan "
                                 "every month, with no target incentive).")
        parser.add_argument("--mbo-scores", type=Path, default=None,
                            help="MBO scores, CSV or .xlsx: payee_id, component, window "
                                 "(2026-03, FY2026-Q1 or FY2026), score_pct (85 = 85%%).")
        parser.add_argument("--out", required=True, type=Path,
                            help="Where to write the line items (CSV); '-' for stdout.")
        parser.add_argument("--fiscal-year-start-month", type=int, default=1,
                            help="First month of the fiscal year (1-12), for quarters and years.")

    def handle(self, *args: Any, **options: Any) -> None:
        start_month = options["fiscal_year_start_month"]
        if not 1 <= start_month <= 12:
            raise CommandError("--fiscal-year-start-month must be 1 to 12.")
        problems = Problems()
        plan = None
        try:
            plan = load_plan(options["plan"].read_text(encoding="utf-8"))
        except OSError as exc:
            problems.add(options["plan"].name, f"cannot be read ({exc.strerror or exc})")
        except UnicodeDecodeError:
            problems.add(options["plan"].name, "is not UTF-8 text")
        except PlanDocumentError as exc:
            for error in exc.errors:
                problems.items.append(f"{options['plan'].name}: {error}")
        notices: list[str] = []
        terms = {role: FileTerms(name=options[role].name)
                 for role in ("credits", "quotas", "assignments", "mbo_scores")
                 if options[role] is not None}
        credits = read_input(options["credits"], CREDIT_COLUMNS, problems, notices,
                             role="credits", terms=terms["credits"])
        quotas = read_input(options["quotas"], QUOTA_COLUMNS, problems, notices, role="quotas",
                            terms=terms["quotas"])
        assignments = (read_input(options["assignments"], ASSIGNMENT_COLUMNS, problems,
                                  notices, role="assignments", terms=terms["assignments"])
                       if options["assignments"] is not None else None)
        mbo_scores = (read_input(options["mbo_scores"], MBO_COLUMNS, problems, notices,
                                 role="mbo_scores", terms=terms.get("mbo_scores"))
                      if options["mbo_scores"] is not None else None)
        if not problems.items:
            repeated_rows(credits, ["credit_id"], terms["credits"], problems,
                          "each credit needs its own id")
            if assignments is not None:
                check_assignments(assignments, terms["assignments"], problems)
            repeated_rows(quotas, ["payee_id", "period"], terms["quotas"], problems,
                          "a payee has one quota per period")
        if mbo_scores is not None and plan is not None and not problems.items:
            check_scores(mbo_scores, plan, options["mbo_scores"].name, problems)
        for notice in notices:
            self.stderr.write(f"Note: {notice}")
        if problems.items or plan is None:
            raise CommandError(_listing(problems.items))

        plan_key = f"{plan.plan} v{plan.version}"
        keys = [*credits.get("period", []), *quotas.get("period", [])]
        if assignments is not None:
            keys += list(assignments.get("period", []))
        if mbo_scores is not None:
            keys += [month_of_window(w, start_month) for w in mbo_scores.get("window", [])]
        try:
            calendar = Calendar.covering(keys, start_month)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if assignments is None:
            scored = [] if mbo_scores is None else list(mbo_scores.get("payee_id", []))
            assignments = default_assignments(
                plan_key, [*credits.get("payee_id", []), *quotas.get("payee_id", []), *scored],
                calendar)
        else:
            assignments["plan"] = plan_key
        if "quota_cents" not in quotas.columns and not quotas.empty:
            quotas["quota_cents"] = 0
        credits = _typed(credits, CREDIT_COLUMNS)
        quotas = _typed(quotas, QUOTA_COLUMNS)
        try:
            result = calculate(plans={plan_key: plan}, credits=credits, quotas=quotas,
                               assignments=assignments, mbo_scores=mbo_scores,
                               calendar=calendar)
        except (EngineInputError, PlanInvalid) as exc:
            raise CommandError(_listing([in_file_terms(e, terms) for e in exc.errors])) from exc

        table = lines_for_csv(result.lines).map(neutralise)
        if str(options["out"]) == "-":
            table.to_csv(sys.stdout, index=False)
        else:
            try:
                table.to_csv(options["out"], index=False)
            except OSError as exc:
                raise CommandError(f"{options['out']}: cannot be written "
                                   f"({exc.strerror or exc})") from exc
        total = int(result.totals["amount_cents"].sum()) if len(result.totals) else 0
        self.stderr.write(
            f"{len(result.lines)} line(s) for {result.totals['payee_id'].nunique()} payee(s), "
            f"total {Decimal(total).scaleb(-2):,.2f}"
            + (f"; written to {options['out']}" if str(options["out"]) != "-" else ""))
        for issue in result.issues.itertuples():
            self.stderr.write(f"  {issue.severity}: {issue.payee_id} {issue.period} "
                              f"{issue.component} {issue.message}")


def _typed(frame: pd.DataFrame, spec: dict[str, Column]) -> pd.DataFrame:
    """An empty table still needs its columns for the engine to check."""
    if frame.empty:
        columns = [CENTS_NAME.get(c, c) for c, rule in spec.items() if rule.required]
        if spec is QUOTA_COLUMNS:
            columns.append("quota_cents")
        return pd.DataFrame({c: pd.Series(dtype="int64" if c.endswith("_cents") else object)
                             for c in columns})
    return frame


def _listing(errors: list[str]) -> str:
    shown = errors[:50]
    more = f"\n  … and {len(errors) - 50} more" if len(errors) > 50 else ""
    return "The inputs have errors; nothing was written:\n" + "\n".join(
        f"  {e}" for e in shown) + more
