"""What each row of a plan assignment file does to the assignments its person already holds.

Pure rules (no Django, no database), so they can be checked day by day against a reference:
rows of one person are settled among themselves first (duplicates, overlaps, an open row ended
by the next one), then compared with what the person holds. Dates bound validity as everywhere
in the app: `valid_from` inclusive, `valid_to` exclusive, None for no end.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

CREATE = "create"
END_PREVIOUS = "end previous"
CHANGE_END = "change end"
UNCHANGED = "unchanged"
ERROR = "error"
ACTIONS = (CREATE, END_PREVIOUS, CHANGE_END, UNCHANGED, ERROR)

ONE_DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Held:
    """An assignment the person holds now."""

    id: int
    plan: str  # the plan's code
    valid_from: datetime.date
    valid_to: datetime.date | None
    target: Decimal


@dataclass(frozen=True)
class Wanted:
    """A row of the file, its cells already read; `ended_by` is the row whose start ends it
    when the row itself gives no end."""

    row: int
    plan: str
    valid_from: datetime.date
    valid_to: datetime.date | None
    target: Decimal
    ended_by: int | None = None


@dataclass(frozen=True)
class Problem:
    row: int
    field: str  # person, plan, valid_from, valid_to or target_incentive
    message: str


@dataclass(frozen=True)
class Outcome:
    """What applying a row does. `held` is the assignment it leaves alone (unchanged), changes
    the end of (change end) or ends (end previous); `new_valid_to` is that assignment's new end."""

    wanted: Wanted
    action: str
    held: Held | None = None
    new_valid_to: datetime.date | None = None
    problem: Problem | None = None

    @property
    def row(self) -> int:
        return self.wanted.row


def last_day(valid_to: datetime.date | None) -> str:
    """How people write an end: the last day in force (valid_to is the day after)."""
    return "open" if valid_to is None else (valid_to - ONE_DAY).isoformat()


def span(valid_from: datetime.date, valid_to: datetime.date | None) -> str:
    if valid_to is None:
        return f"from {valid_from} with no end"
    return f"from {valid_from} to {valid_to - ONE_DAY}"


def overlaps(a_from: datetime.date, a_to: datetime.date | None, b_from: datetime.date,
             b_to: datetime.date | None) -> bool:
    return (a_to is None or a_to > b_from) and (b_to is None or b_to > a_from)


# -- rows of one person among themselves -------------------------------------------------------


def settle_rows(rows: Iterable[Wanted]) -> tuple[list[Wanted], list[Problem]]:
    """One person's rows in date order, a row without an end ended by the next row's start.

    A second row starting on the same day, and a row starting inside an earlier row that has
    an end of its own, are problems and left out; the others are compared with what the person
    holds.
    """
    settled: list[Wanted] = []
    problems: list[Problem] = []
    for row in sorted(rows, key=lambda r: (r.valid_from, r.row)):
        before = settled[-1] if settled else None
        if before is not None and before.valid_from == row.valid_from:
            problems.append(Problem(row.row, "person", (
                f"row {before.row} has the same person starting on the same day "
                f"({row.valid_from}); give each assignment of a person once")))
            continue
        if before is not None and before.valid_to is None:
            settled[-1] = replace(before, valid_to=row.valid_from, ended_by=row.row)
        elif before is not None and before.valid_to > row.valid_from:
            problems.append(Problem(row.row, "valid_from", (
                f"overlaps row {before.row} of the same person ({before.plan} "
                f"{span(before.valid_from, before.valid_to)}); a person holds one plan at a "
                "time")))
            continue
        settled.append(row)
    return settled, problems


# -- rows against what the person holds ----------------------------------------------------------


@dataclass
class _Slot:
    """An assignment as it will be once the rows before are applied."""

    plan: str
    valid_from: datetime.date
    valid_to: datetime.date | None
    target: Decimal
    held: Held | None = None  # None for one this file creates
    row: int | None = None

    def describe(self) -> str:
        where = f" (row {self.row})" if self.row is not None else ""
        return f"{self.plan}{where} {span(self.valid_from, self.valid_to)}"


@dataclass
class _Person:
    slots: list[_Slot] = field(default_factory=list)

    def clashes(self, valid_from: datetime.date, valid_to: datetime.date | None,
                *, besides: _Slot | None = None) -> list[_Slot]:
        return sorted((s for s in self.slots if s is not besides
                       and overlaps(s.valid_from, s.valid_to, valid_from, valid_to)),
                      key=lambda s: s.valid_from)


def outcomes_for_person(held: Sequence[Held], rows: Sequence[Wanted]) -> list[Outcome]:
    """Each settled row's outcome, in date order; a row in error changes nothing for the rows
    after it, so every problem of the file is found in one pass."""
    person = _Person([_Slot(h.plan, h.valid_from, h.valid_to, h.target, held=h) for h in held])
    out = []
    for row in sorted(rows, key=lambda r: r.valid_from):
        outcome = _outcome(person, row)
        out.append(outcome)
    return out


def _error(row: Wanted, field_name: str, message: str) -> Outcome:
    return Outcome(row, ERROR, problem=Problem(row.row, field_name, message))


def _outcome(person: _Person, row: Wanted) -> Outcome:
    same_start = next((s for s in person.slots if s.valid_from == row.valid_from), None)
    if same_start is not None:
        return _same_start(person, row, same_start)
    clashes = person.clashes(row.valid_from, row.valid_to)
    later = [s for s in clashes if s.valid_from > row.valid_from]
    if later:
        first = later[0]
        if row.valid_to is None:
            message = (f"has no end, but the person is on {first.describe()}; give this row a "
                       f"last day before {first.valid_from}")
        else:
            message = (f"runs into {first.describe()}; end this row before "
                       f"{first.valid_from}")
        return _error(row, "valid_to", message)
    created = _Slot(row.plan, row.valid_from, row.valid_to, row.target, row=row.row)
    if not clashes:
        person.slots.append(created)
        return Outcome(row, CREATE)
    earlier = clashes[0]
    if earlier.held is None:  # rows are settled first, so an earlier row never clashes
        raise AssertionError(f"row {row.row} overlaps row {earlier.row} after settling")
    if (row.valid_to is not None and earlier.valid_to is not None
            and earlier.valid_to > row.valid_to):
        return _error(row, "valid_from", (
            f"the person is on {earlier.describe()}, which goes on after this row ends; the "
            "import ends an earlier assignment only when the new one runs at least as long "
            "(end that assignment in the admin first, or give this row a later last day)"))
    earlier.valid_to = row.valid_from
    person.slots.append(created)
    return Outcome(row, END_PREVIOUS, held=earlier.held, new_valid_to=row.valid_from)


def _same_start(person: _Person, row: Wanted, slot: _Slot) -> Outcome:
    held = slot.held
    if held is None:  # rows are settled first, so two never start on one day
        raise AssertionError(f"row {row.row} starts with row {slot.row} after settling")
    if slot.plan != row.plan or slot.target != row.target:
        differs = "plan" if slot.plan != row.plan else "target_incentive"
        return _error(row, differs, (
            f"the person is already on {slot.describe()} with a target incentive of "
            f"{slot.target:.2f}; an import does not change the plan or target of an "
            "assignment (change it in the admin, or start the new assignment on a later day)"))
    if slot.valid_to == row.valid_to:
        return Outcome(row, UNCHANGED, held=held, new_valid_to=row.valid_to)
    clash = next(iter(person.clashes(row.valid_from, row.valid_to, besides=slot)), None)
    if clash is not None:
        return _error(row, "valid_to", (
            f"would make {slot.plan} from {slot.valid_from} run into {clash.describe()}; end "
            f"it before {clash.valid_from}"))
    slot.valid_to = row.valid_to
    return Outcome(row, CHANGE_END, held=held, new_valid_to=row.valid_to)
