"""`manage.py comp_simulate`: run a plan document over CSV credits and quotas, without a database.

For trying a plan before publishing it and for what-if modelling; the CSV columns are documented
in docs/plans.md ("Simulating a plan"). Every problem in the inputs is listed and nothing is
written when there is one.
"""

from __future__ import annotations

import csv
import datetime
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pandas as pd
from django.core.management.base import BaseCommand, CommandError, CommandParser

from compensation.engine import Calendar, EngineInputError, PlanInvalid, calculate
from compensation.plan_documents import PlanDocumentError, load_plan

CREDIT_COLUMNS = {
    # column: (required, reader)
    "credit_id": (True, "text"),
    "payee_id": (True, "text"),
    "deal_id": (True, "text"),
    "period": (True, "period"),
    "credit_date": (True, "date"),
    "amount": (True, "money"),
    "units": (False, "integer"),
    "margin": (False, "money"),
    "product_line": (False, "text"),
    "deal_type": (False, "text"),
    "is_new_logo": (False, "boolean"),
    "deal_amount": (False, "money"),
    "close_date": (False, "date"),
}
QUOTA_COLUMNS = {
    "payee_id": (True, "text"),
    "period": (True, "period"),
    "quota": (False, "money"),
    "quota_units": (False, "integer"),
    "quota_margin": (False, "money"),
}
ASSIGNMENT_COLUMNS = {
    "payee_id": (True, "text"),
    "period": (True, "period"),
    "target_incentive": (False, "money"),
    "proration": (False, "text"),
    "valid_from": (False, "date"),
    "valid_to": (False, "date"),
}
# Money columns arrive as decimals ("1234.50") and reach the engine as integer cents.
CENTS_NAME = {"amount": "amount_cents", "margin": "margin_cents",
              "deal_amount": "deal_amount_cents", "quota": "quota_cents",
              "quota_margin": "quota_margin_cents", "target_incentive": "target_incentive_cents"}
OUT_MONEY = ("basis", "cumulative", "quota", "amount_cents", "rounding_carry_cents",
             "capped_cents")
_PLAIN_NUMBER = re.compile(r"-\d+(?:\.\d+)?")


@dataclass
class _Problems:
    items: list[str] = field(default_factory=list)

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")


def _text(value: str) -> str:
    return value


def _period(value: str) -> str:
    datetime.date.fromisoformat(f"{value}-01")
    return value


def _date(value: str) -> datetime.date:
    return datetime.date.fromisoformat(value)


def _money(value: str) -> int:
    amount = Decimal(value.replace(",", ""))
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise ValueError("must be an amount with at most two decimals")
    return int(amount * 100)


def _integer(value: str) -> int:
    number = Decimal(value)
    if number != number.to_integral_value():
        raise ValueError("must be a whole number")
    return int(number)


def _boolean(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "yes", "1", "y", "t"):
        return True
    if lowered in ("false", "no", "0", "n", "f"):
        return False
    raise ValueError("must be true or false")


READERS: dict[str, Callable[[str], Any]] = {
    "text": _text, "period": _period, "date": _date, "money": _money, "integer": _integer,
    "boolean": _boolean,
}
HINTS = {"period": "a month such as 2026-03", "date": "a date such as 2026-03-31",
         "money": "an amount such as 1234.50", "integer": "a whole number",
         "boolean": "true or false", "text": "text"}


def read_table(path: Path, spec: dict[str, tuple[bool, str]], problems: _Problems,
               ) -> pd.DataFrame:
    """A CSV file as engine columns; problems name the file, row and column."""
    name = path.name
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except OSError as exc:
        problems.add(name, f"cannot be read ({exc.strerror or exc})")
        return pd.DataFrame()
    except UnicodeDecodeError:
        problems.add(name, "is not UTF-8 text")
        return pd.DataFrame()
    if not rows:
        problems.add(name, "is empty: it needs a header row")
        return pd.DataFrame()
    header = [h.strip() for h in rows[0]]
    missing = [c for c, (required, _) in spec.items() if required and c not in header]
    if missing:
        problems.add(name, f"missing column(s) {', '.join(missing)}")
    unknown = [h for h in header if h not in spec]
    if unknown:
        problems.add(name, f"unknown column(s) {', '.join(unknown)}; expected some of "
                           f"{', '.join(spec)}")
    if missing or unknown:
        return pd.DataFrame()
    data: dict[str, list[Any]] = {c: [] for c in header}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.add(f"{name} row {number}", f"has {len(row)} cells, the header has "
                                                 f"{len(header)}")
            continue
        for column, cell in zip(header, row, strict=True):
            kind = spec[column][1]
            cell = cell.strip()
            if not cell:
                if spec[column][0]:
                    problems.add(f"{name} row {number}, {column}", "is empty")
                data[column].append(None)
                continue
            try:
                data[column].append(READERS[kind](cell))
            except (ValueError, InvalidOperation):
                problems.add(f"{name} row {number}, {column}",
                             f"{cell!r} is not {HINTS[kind]}")
                data[column].append(None)
    frame = pd.DataFrame(data)
    for column in list(frame.columns):
        kind = spec[column][1]
        if kind in ("money", "integer") and not frame[column].isna().any():
            frame[column] = frame[column].astype("int64")
        if kind == "money":
            frame = frame.rename(columns={column: CENTS_NAME[column]})
        elif kind == "boolean" and not frame[column].isna().any():
            frame[column] = frame[column].astype(bool)
    return frame


def default_assignments(plan_key: str, payees: Iterable[str], calendar: Calendar,
                        ) -> pd.DataFrame:
    """Everyone credited or given a quota holds the plan in every period, with no target."""
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


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe.

    A plain number such as "-1234.50" runs nothing, and quoting it would turn a reversal's
    amount into text that sums to zero.
    """
    if (isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r")
            and not _PLAIN_NUMBER.fullmatch(value)):
        return "'" + value
    return value


class Command(BaseCommand):
    help = ("Run a plan document (YAML) over credits and quotas in CSV files and write the "
            "line items to a CSV file, without touching the database.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--plan", required=True, type=Path, help="Plan document (YAML).")
        parser.add_argument("--credits", required=True, type=Path, help="Credits CSV.")
        parser.add_argument("--quotas", required=True, type=Path, help="Quotas CSV.")
        parser.add_argument("--assignments", type=Path, default=None,
                            help="Assignments CSV (default: everyone on the plan every month, "
                                 "with no target incentive).")
        parser.add_argument("--out", required=True, type=Path,
                            help="Where to write the line items (CSV); '-' for stdout.")
        parser.add_argument("--fiscal-year-start-month", type=int, default=1,
                            help="First month of the fiscal year (1-12), for quarters and years.")

    def handle(self, *args: Any, **options: Any) -> None:
        start_month = options["fiscal_year_start_month"]
        if not 1 <= start_month <= 12:
            raise CommandError("--fiscal-year-start-month must be 1 to 12.")
        problems = _Problems()
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
        credits = read_table(options["credits"], CREDIT_COLUMNS, problems)
        quotas = read_table(options["quotas"], QUOTA_COLUMNS, problems)
        assignments = (read_table(options["assignments"], ASSIGNMENT_COLUMNS, problems)
                       if options["assignments"] is not None else None)
        if problems.items or plan is None:
            raise CommandError(_listing(problems.items))

        plan_key = f"{plan.plan} v{plan.version}"
        keys = [*credits.get("period", []), *quotas.get("period", [])]
        if assignments is not None:
            keys += list(assignments.get("period", []))
        try:
            calendar = Calendar.covering(keys, start_month)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if assignments is None:
            assignments = default_assignments(
                plan_key, [*credits.get("payee_id", []), *quotas.get("payee_id", [])], calendar)
        else:
            assignments["plan"] = plan_key
        if "quota_cents" not in quotas.columns and not quotas.empty:
            quotas["quota_cents"] = 0
        credits = _typed(credits, CREDIT_COLUMNS)
        quotas = _typed(quotas, QUOTA_COLUMNS)
        try:
            result = calculate(plans={plan_key: plan}, credits=credits, quotas=quotas,
                               assignments=assignments, calendar=calendar)
        except (EngineInputError, PlanInvalid) as exc:
            raise CommandError(_listing(exc.errors)) from exc

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


def _typed(frame: pd.DataFrame, spec: dict[str, tuple[bool, str]]) -> pd.DataFrame:
    """An empty table still needs its columns for the engine to check."""
    if frame.empty:
        columns = [CENTS_NAME.get(c, c) for c, (required, _) in spec.items() if required]
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
