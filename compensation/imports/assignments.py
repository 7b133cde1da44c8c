"""Plan assignment files: the columns accepted (with the spellings HR, payroll and CRM exports
use), every cell checked with the CRM import's cleaners, people and plans found, and each row's
outcome against the assignments people hold. Every problem names its row and its column as
headed in the file; nothing here writes."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd

from compensation.models import CompPlan
from compensation.services.assignments import assignments_overlapping
from spm.crm.imports import cleaning
from spm.crm.imports.cleaning import Cleaned, normal_key
from spm.crm.imports.fields import ChoiceMap, Field, Kind, match_headers
from spm.crm.imports.reading import Table
from spm.crm.imports.validation import RowProblem
from spm.org.models import Person
from spm.tenancy.context import require_active_tenant

from . import outcomes as rules
from .cells import days_together, money_exact

# Checking published versions cover each assignment lives in .coverage; importing
# first_uncovered_day from here keeps working.
from .coverage import coverage_problems, first_uncovered_day  # noqa: F401

HEADER_ROW = 1
PREVIEW_ROWS = 1000
ZERO = Decimal("0.00")
SEE_PROBLEMS = "see the problems"

BY_DAYS = "days"
PRORATION_CHOICES = ChoiceMap({normal_key(spelling): BY_DAYS for spelling in (
    "days", "day", "daily", "by days", "by day", "calendar days", "prorated", "prorate",
    "prorated daily", "yes", "y", "true", "t", "1", "100%")})
PRORATION_CHOICES.labels = {BY_DAYS: "days (also daily, yes or empty)"}
NO_PRORATION = {normal_key(spelling) for spelling in (
    "no", "n", "false", "f", "0", "0%", "none", "no proration", "not prorated", "full",
    "full month", "full period", "monthly")}
PRORATION_RULE = ("a partial month is always prorated by calendar days (the days on the plan "
                  "over the days of the month)")

PERSON_FIELDS = ("employee_id", "email", "person")
END_FIELDS = ("end_date", "valid_to")

ASSIGNMENTS = Kind(
    name="assignments",
    label="Plan assignments",
    key="employee_id",
    fields=(
        Field("employee_id", "Employee ID", "employee_id", (
            "Employee ID", "Employee Number", "Employee No", "Emp ID", "Worker ID",
            "Person ID", "Payee ID", "Rep ID"), max_length=64),
        Field("email", "Email", "email", (
            "Email", "Email Address", "E-mail", "Work Email", "Employee Email", "Payee Email",
            "Rep Email")),
        Field("person", "Person", "person", (
            "Person", "Payee", "Employee", "Rep", "Sales Rep")),
        Field("plan", "Plan", "plan", (
            "Plan Code", "Plan", "Comp Plan", "Comp Plan Code", "Compensation Plan",
            "Plan ID"), required=True),
        Field("valid_from", "Valid from", "day", (
            "Valid From", "Start Date", "Effective Date", "Effective From",
            "Effective Start Date", "Plan Start Date", "Assignment Start Date", "Start",
            "From"), required=True),
        Field("end_date", "End date (last day)", "day", (
            "End Date", "Effective End Date", "Effective To", "Plan End Date",
            "Assignment End Date", "Last Day", "End", "Through", "Until")),
        Field("valid_to", "Valid to (the day after the last)", "day", ("Valid To",)),
        Field("target_incentive", "Target incentive", "money", (
            "Target Incentive", "TI", "Annual Target Incentive", "Target Incentive Amount",
            "OTE Variable", "Variable OTE", "OTE Variable Pay", "Target Variable",
            "Variable Target", "Target Variable Pay", "Variable Pay", "Variable Compensation",
            "Incentive Target", "Target Bonus", "Target Commission")),
        Field("currency", "Currency", "currency", (
            "Currency", "Currency Code", "TI Currency", "Target Currency",
            "Target Incentive Currency", "Comp Currency", "Pay Currency")),
        Field("proration", "Proration", "proration", (
            "Proration", "Prorate", "Prorated", "Proration Method", "Proration Rule"),
            choices=PRORATION_CHOICES),
    ),
)


@dataclass
class RowOutcome:
    """One row of the file: what it names, what applying it does, and why not if in error."""

    row: int
    action: str = ""  # one of outcomes.ACTIONS once checked
    person_id: int | None = None
    plan_id: int | None = None
    valid_from: datetime.date | None = None
    valid_to: datetime.date | None = None
    target: Decimal | None = None
    held_id: int | None = None  # the assignment left alone, changed or ended
    new_valid_to: datetime.date | None = None
    ended_by: int | None = None
    shown: dict[str, str] = field(default_factory=dict)
    detail: str = ""

    def as_preview(self) -> dict[str, Any]:
        return {"row": self.row, "outcome": self.action, "detail": self.detail, **self.shown}


@dataclass
class AssignmentCheck:
    """Everything learnt from a file: problems, notices and each row's outcome."""

    row_count: int = 0
    errors: list[RowProblem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # field name -> header in the file
    sheet_names: list[str] = field(default_factory=list)
    sheet: str = ""
    rows: list[RowOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, int]:
        """Rows by outcome; a row that ends an earlier assignment also creates one."""
        actions = [r.action for r in self.rows]
        return {
            "created": sum(a in (rules.CREATE, rules.END_PREVIOUS) for a in actions),
            "ended": actions.count(rules.END_PREVIOUS),
            "changed": actions.count(rules.CHANGE_END),
            "unchanged": actions.count(rules.UNCHANGED),
            "errors": actions.count(rules.ERROR),
        }

    def column(self, field_name: str) -> str:
        """The header a problem of `field_name` is shown under: the file's, else the label."""
        names = {"person": PERSON_FIELDS, "valid_to": END_FIELDS}.get(field_name, (field_name,))
        for name in names:
            if name in self.headers:
                return self.headers[name]
        return ASSIGNMENTS.field(names[0]).label

    def preview(self) -> dict[str, Any]:
        return {"rows": [r.as_preview() for r in self.rows[:PREVIEW_ROWS]],
                "counts": self.counts(), "sheets": self.sheet_names}


def check_assignments(table: Table) -> AssignmentCheck:
    """Check a read file against the active tenant's people, plans and assignments."""
    tenant = require_active_tenant()
    check = AssignmentCheck(row_count=len(table.cells), notices=list(table.notices),
                            sheet_names=table.sheet_names, sheet=table.sheet)
    match = match_headers(ASSIGNMENTS, table.headers)
    check.headers = match.headers
    check.errors.extend(_header_problems(match.headers))
    if match.ignored:
        check.notices.append(f"Columns not used for plan assignments: "
                             f"{', '.join(match.ignored)}.")
    if check.errors:
        return check
    raw = {name: table.cells[position].astype(str) for name, position in match.columns.items()}
    directory = _Directory()
    cleaned = _clean(raw, directory, currency=tenant.currency)
    for result in cleaned.values():
        if result.notice and result.notice not in check.notices:
            check.notices.append(result.notice)
    rows = _rows(check, raw, cleaned, directory.labels)
    _settle(check, rows)
    check.errors.sort(key=lambda e: (e.row, _column_order(check, e.column)))
    check.rows = [rows[row] for row in sorted(rows)]
    return check


# -- headers and cells --------------------------------------------------------------------------


def _header_problems(headers: dict[str, str]) -> list[RowProblem]:
    problems = []
    if not any(name in headers for name in PERSON_FIELDS):
        accepted = ", ".join(f"'{a}'" for name in PERSON_FIELDS[:2]
                             for a in ASSIGNMENTS.field(name).aliases[:3])
        problems.append(RowProblem(HEADER_ROW, "Person", (
            f"a column naming the person is missing: their employee ID or email (name it one "
            f"of {accepted})")))
    for spec in ASSIGNMENTS.fields:
        if spec.required and spec.name not in headers:
            accepted = ", ".join(f"'{a}'" for a in spec.aliases)
            problems.append(RowProblem(HEADER_ROW, spec.label,
                                       f"required column is missing (name it one of {accepted})"))
    if all(name in headers for name in END_FIELDS):
        problems.append(RowProblem(HEADER_ROW, headers["valid_to"], (
            f"both '{headers['end_date']}' (the last day on the plan) and "
            f"'{headers['valid_to']}' (the day after it) give the end; keep one of them")))
    return problems


def _clean(raw: dict[str, pd.Series], directory: _Directory, *,
           currency: str) -> dict[str, Cleaned]:
    cleaned = {name: _by_distinct(raw[name], directory.find)
               for name in PERSON_FIELDS if name in raw}
    cleaned["plan"] = _plans(raw["plan"])
    cleaned.update(days_together({n: raw[n] for n in ("valid_from", *END_FIELDS) if n in raw},
                                 label="Dates"))
    cleaned["valid_from"].fail(raw["valid_from"] == "", "is empty")
    if "target_incentive" in raw:
        cleaned["target_incentive"] = money_exact(raw["target_incentive"])
    if "currency" in raw:
        cleaned["currency"] = _currency(raw["currency"], tenant_currency=currency)
    if "proration" in raw:
        cleaned["proration"] = _proration(raw["proration"])
    return cleaned


def _by_distinct(raw: pd.Series,
                 find: Callable[[str], tuple[Any, str | None]]) -> Cleaned:
    """Look each distinct non-empty value up once; `find` gives (value, reason if bad)."""
    result = Cleaned.empty_like(raw)
    found = {text: find(text) for text in pd.unique(raw[raw != ""].to_numpy(dtype=object))}
    values = raw.map(lambda text: found[text][0] if text in found else None)
    reasons = raw.map(lambda text: found[text][1] if text in found else None)
    ok = (raw != "") & reasons.isna()
    result.set(ok, values[ok].tolist())
    result.fail(reasons.notna(), reasons)
    return result


class _Directory:
    """The tenant's people by employee ID (exact, then ignoring case) and by email."""

    def __init__(self) -> None:
        self.exact: dict[str, int] = {}
        self.folded: dict[str, set[int]] = defaultdict(set)
        self.emails: dict[str, set[int]] = defaultdict(set)
        self.labels: dict[int, str] = {}
        for pk, employee_id, email, name in Person.objects.values_list(
                "pk", "employee_id", "email", "name"):
            self.exact[employee_id.strip()] = pk
            self.folded[employee_id.strip().casefold()].add(pk)
            if email.strip():
                self.emails[email.strip().casefold()].add(pk)
            self.labels[pk] = f"{name} ({employee_id})"

    def by_employee_id(self, text: str) -> tuple[int | None, str | None]:
        if text in self.exact:
            return self.exact[text], None
        matches = self.folded.get(text.casefold(), set())
        if len(matches) == 1:
            return next(iter(matches)), None
        if matches:
            return None, (f"'{text}' matches the employee IDs of several people when case is "
                          "ignored; write it exactly")
        return None, f"unknown person: nobody has the employee ID '{text}'"

    def by_email(self, text: str) -> tuple[int | None, str | None]:
        matches = self.emails.get(text.casefold(), set())
        if len(matches) == 1:
            return next(iter(matches)), None
        if matches:
            return None, f"several people have the email '{text}'; use their employee ID"
        return None, f"unknown person: nobody has the email '{text}'"

    def find(self, text: str) -> tuple[int | None, str | None]:
        """By email when the cell holds one, else by employee ID: exports often put emails
        under an ID header or the other way round, and neither can be mistaken for the other."""
        return self.by_email(text) if "@" in text else self.by_employee_id(text)


def _plans(raw: pd.Series) -> Cleaned:
    plans = list(CompPlan.objects.values_list("pk", "code", "name"))
    exact = {code: pk for pk, code, _ in plans}
    folded: dict[str, set[int]] = defaultdict(set)
    named: dict[str, list[str]] = defaultdict(list)
    for pk, code, name in plans:
        folded[code.casefold()].add(pk)
        named[name.strip().casefold()].append(code)
    codes = ", ".join(code for _, code, _ in plans[:10]) or "none yet"

    def find(text: str) -> tuple[int | None, str | None]:
        if text in exact:
            return exact[text], None
        matches = folded.get(text.casefold(), set())
        if len(matches) == 1:
            return next(iter(matches)), None
        if named.get(text.casefold()):
            return None, (f"unknown plan '{text}': that is the name of "
                          f"{' and '.join(named[text.casefold()])}; write the plan's code")
        return None, f"unknown plan: no plan has the code '{text}' (the plans are: {codes})"

    return _by_distinct(raw, find)


def _currency(raw: pd.Series, *, tenant_currency: str) -> Cleaned:
    result = cleaning.currency(raw)
    other = result.parsed.notna() & (result.parsed != tenant_currency)
    result.fail(other, (
        f"{{value}} is not {tenant_currency}, the currency target incentives are kept in; give "
        f"the amount in {tenant_currency}"))
    return result


def _proration(raw: pd.Series) -> Cleaned:
    result = cleaning.choice(raw, mapping=PRORATION_CHOICES, what="proration",
                             allowed="days")
    refused = cleaning.normal_keys(raw).isin(NO_PRORATION) & (raw != "")
    result.problems[refused] = None
    result.fail(refused, (
        f"{{value}} asks for no proration, but {PRORATION_RULE}; write 'days' or leave it "
        "empty"))
    other = result.problems.notna() & ~refused
    result.problems[other] = None
    result.fail(other, (
        f"{{value}} is not a proration this app applies: {PRORATION_RULE}. Write 'days' or "
        "leave it empty; for a part-time share, give the reduced target incentive"))
    return result


# -- rows -----------------------------------------------------------------------------------------


def _column_order(check: AssignmentCheck, header: str) -> int:
    order = [check.headers[f.name] for f in ASSIGNMENTS.fields if f.name in check.headers]
    return order.index(header) if header in order else len(order)


def _rows(check: AssignmentCheck, raw: dict[str, pd.Series], cleaned: dict[str, Cleaned],
          labels: dict[int, str]) -> dict[int, RowOutcome]:
    """Each row's values, with the problems of its cells and of its cells together."""
    rows: dict[int, RowOutcome] = {}
    bad: set[int] = set()

    def problem(row: int, field_name: str, reason: str, value: str = "") -> None:
        check.errors.append(RowProblem(row, check.column(field_name), reason, value))
        bad.add(row)

    for name, result in cleaned.items():
        for row, reason in result.problems.dropna().items():
            check.errors.append(RowProblem(int(row), check.headers[name], str(reason),
                                           raw[name][row]))
            bad.add(int(row))
    present = [n for n in PERSON_FIELDS if n in raw]
    end_name = next((n for n in END_FIELDS if n in raw), None)
    for index in raw["plan"].index:
        row = int(index)
        outcome = RowOutcome(row=row)
        rows[row] = outcome
        # The first column that names someone decides; the others must agree with it.
        named = [(n, cleaned[n].parsed[index]) for n in present if raw[n][index] != ""]
        if not named:
            problem(row, "person", "is empty (give the person's employee ID or email)")
        else:
            first, person_id = named[0]
            for other, other_id in named[1:]:
                if None not in (person_id, other_id) and other_id != person_id:
                    problem(row, other, (
                        f"names {labels[other_id]}, but {check.headers[first]} names "
                        f"{labels[person_id]}"), raw[other][index])
            outcome.person_id = person_id
        outcome.plan_id = cleaned["plan"].parsed[index]
        outcome.valid_from = cleaned["valid_from"].parsed[index]
        if end_name is not None:
            end = cleaned[end_name].parsed[index]
            outcome.valid_to = end + rules.ONE_DAY if end and end_name == "end_date" else end
            if outcome.valid_from and outcome.valid_to and outcome.valid_to <= outcome.valid_from:
                if end_name == "end_date":
                    reason = (f"the last day, {end}, is before the first day, "
                              f"{outcome.valid_from}")
                else:
                    reason = (f"must be after the first day, {outcome.valid_from} (valid to is "
                              "the day after the last day on the plan)")
                problem(row, "valid_to", reason, raw[end_name][index])
        target = cleaned["target_incentive"].parsed[index] if "target_incentive" in raw \
            else None
        if "target_incentive" not in raw or raw["target_incentive"][index] == "":
            target = ZERO
        outcome.target = target
        outcome.shown = {
            "person": labels.get(outcome.person_id) or next(
                (raw[n][index] for n in present if raw[n][index]), ""),
            "plan": raw["plan"][index],
            "first_day": _day(outcome.valid_from, raw["valid_from"][index]),
            "last_day": "",
            "target": f"{target:.2f}" if target is not None else raw["target_incentive"][index],
        }
        if end_name is not None and raw[end_name][index] and outcome.valid_to is None:
            outcome.shown["last_day"] = raw[end_name][index]
    for row in bad:
        rows[row].action = rules.ERROR
        rows[row].detail = SEE_PROBLEMS
    return rows


def _day(value: datetime.date | None, text: str) -> str:
    return value.isoformat() if value is not None else text


def _settle(check: AssignmentCheck, rows: dict[int, RowOutcome]) -> None:
    """Rows of each person among themselves, against the plans' published versions, then
    against what the person holds."""
    failed = {row for row, r in rows.items() if r.action == rules.ERROR}

    def problem(p: rules.Problem) -> None:
        check.errors.append(RowProblem(p.row, check.column(p.field), p.message))
        rows[p.row].action = rules.ERROR
        rows[p.row].detail = SEE_PROBLEMS
        failed.add(p.row)

    codes = dict(CompPlan.objects.values_list("pk", "code"))
    by_person: dict[int, list[rules.Wanted]] = defaultdict(list)
    for row, r in rows.items():
        if r.person_id is not None and r.valid_from is not None and not (
                r.valid_to is not None and r.valid_to <= r.valid_from):
            by_person[r.person_id].append(rules.Wanted(
                row, codes.get(r.plan_id, ""), r.valid_from, r.valid_to, r.target or ZERO))
    settled: dict[int, list[rules.Wanted]] = {}
    for person_id, wanted in by_person.items():
        kept, problems = rules.settle_rows(wanted)
        for p in problems:
            problem(p)
        for w in kept:
            rows[w.row].valid_to, rows[w.row].ended_by = w.valid_to, w.ended_by
            rows[w.row].shown["last_day"] = rules.last_day(w.valid_to)
            if w.ended_by is not None:
                rows[w.row].shown["last_day"] += f" (the day before row {w.ended_by} starts)"
        settled[person_id] = [w for w in kept if w.row not in failed]
    for p in coverage_problems(rows, settled, codes):
        problem(p)
    people = Person.objects.in_bulk(list(settled))
    for person_id, wanted in settled.items():
        wanted = [w for w in wanted if w.row not in failed]
        if not wanted:
            continue
        held = [rules.Held(a.pk, a.plan.code, a.valid_from, a.valid_to, a.target_incentive)
                for a in assignments_overlapping(person=people[person_id],
                                                 valid_from=min(w.valid_from for w in wanted),
                                                 valid_to=None)]
        for outcome in rules.outcomes_for_person(held, wanted):
            if outcome.problem is not None:
                problem(outcome.problem)
                continue
            r = rows[outcome.row]
            r.action = outcome.action
            r.held_id = outcome.held.id if outcome.held else None
            r.new_valid_to = outcome.new_valid_to
            r.detail = _detail(outcome)


def _detail(outcome: rules.Outcome) -> str:
    held = outcome.held
    if outcome.action == rules.UNCHANGED:
        return "already held"
    if held is None:
        return "new assignment"
    if outcome.action == rules.END_PREVIOUS:
        return (f"ends {held.plan} {rules.span(held.valid_from, held.valid_to)}: its last day "
                f"becomes {rules.last_day(outcome.new_valid_to)}")
    return (f"the last day of {held.plan} from {held.valid_from} changes from "
            f"{rules.last_day(held.valid_to)} to {rules.last_day(outcome.new_valid_to)}")
