"""The rules deciding what each row of an assignment file does, checked day by day against a
simple reference: applying the outcomes gives every row's days to its plan, ends only the
assignment a row starts inside, keeps everything else, and a second import changes nothing."""

from __future__ import annotations

import datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from compensation.imports import outcomes as rules
from compensation.imports.assignments import first_uncovered_day

BASE = datetime.date(2026, 1, 1)
HORIZON = 120  # days looked at; every generated date is before day 90
PLANS = ("A", "B")
TARGETS = (Decimal("1.00"), Decimal("2.00"))


def day(n: int) -> datetime.date:
    return BASE + datetime.timedelta(days=n)


@st.composite
def held_assignments(draw) -> list[rules.Held]:
    """Non-overlapping assignments, some with gaps between them, the last maybe open."""
    cuts = sorted(draw(st.sets(st.integers(0, 90), max_size=6)))
    out = []
    for index, (start, end) in enumerate(zip(cuts, [*cuts[1:], None], strict=False)):
        if draw(st.booleans()) and end is not None:
            end = draw(st.integers(start + 1, end))  # a gap before the next one
        out.append(rules.Held(index + 1, draw(st.sampled_from(PLANS)), day(start),
                              day(end) if end is not None else None,
                              draw(st.sampled_from(TARGETS))))
    return out


@st.composite
def file_rows(draw) -> list[rules.Wanted]:
    out = []
    for row in range(2, 2 + draw(st.integers(0, 5))):
        start = draw(st.integers(0, 89))
        end = draw(st.none() | st.integers(start + 1, 90))
        out.append(rules.Wanted(row, draw(st.sampled_from(PLANS)), day(start),
                                day(end) if end is not None else None,
                                draw(st.sampled_from(TARGETS))))
    return out


def days_of(valid_from: datetime.date, valid_to: datetime.date | None, *,
            horizon: int = HORIZON) -> range:
    start = (valid_from - BASE).days
    return range(start, horizon if valid_to is None else (valid_to - BASE).days)


def day_map(assignments: dict[object, tuple]) -> dict[int, tuple]:
    """day -> (key, plan, target); fails if two assignments share a day."""
    out: dict[int, tuple] = {}
    for key, (plan, valid_from, valid_to, target) in assignments.items():
        for n in days_of(valid_from, valid_to):
            assert n not in out, f"{key} overlaps {out[n][0]} on day {n}"
            out[n] = (key, plan, target)
    return out


def apply(held: list[rules.Held], outcomes: list[rules.Outcome]) -> dict[object, tuple]:
    """What the import service does with the outcomes (end, change end, create)."""
    state: dict[object, tuple] = {h.id: (h.plan, h.valid_from, h.valid_to, h.target)
                                  for h in held}
    for outcome in outcomes:
        if outcome.action in (rules.CHANGE_END, rules.END_PREVIOUS):
            plan, valid_from, _, target = state[outcome.held.id]
            state[outcome.held.id] = (plan, valid_from, outcome.new_valid_to, target)
        if outcome.action in (rules.CREATE, rules.END_PREVIOUS):
            w = outcome.wanted
            state[f"row {w.row}"] = (w.plan, w.valid_from, w.valid_to, w.target)
        day_map(state)  # no write ever overlaps, as the model's check demands
    return state


def reference(held: list[rules.Held], outcomes: list[rules.Outcome]) -> dict[int, tuple]:
    """Day by day: a row takes its days; the assignment it starts inside loses every day from
    the row's first on; a row changing an end redraws that assignment's days."""
    days = day_map({h.id: (h.plan, h.valid_from, h.valid_to, h.target) for h in held})
    for outcome in outcomes:
        w = outcome.wanted
        if outcome.action == rules.ERROR:
            continue
        first = (w.valid_from - BASE).days
        if outcome.action == rules.CHANGE_END:
            key = outcome.held.id
            days = {n: v for n, v in days.items() if v[0] != key}
            days.update(dict.fromkeys(days_of(w.valid_from, w.valid_to), (key, w.plan, w.target)))
            continue
        if outcome.action == rules.UNCHANGED:
            continue
        before = days.get(first - 1)
        if before is not None and days.get(first, (None,))[0] == before[0]:
            days = {n: v for n, v in days.items() if not (v[0] == before[0] and n >= first)}
        for n in days_of(w.valid_from, w.valid_to):
            assert n not in days, f"row {w.row} took day {n} of {days[n][0]}"
            days[n] = (f"row {w.row}", w.plan, w.target)
    return days


def settled_outcomes(held, rows):
    settled, problems = rules.settle_rows(rows)
    return settled, problems, rules.outcomes_for_person(held, settled)


@settings(max_examples=300, deadline=None)
@given(held=held_assignments(), rows=file_rows())
def test_applying_the_outcomes_matches_the_day_by_day_reference(held, rows):
    _, _, outcomes = settled_outcomes(held, rows)
    assert day_map(apply(held, outcomes)) == reference(held, outcomes)


@settings(max_examples=300, deadline=None)
@given(held=held_assignments(), rows=file_rows())
def test_every_row_not_refused_is_held_exactly_afterwards_and_a_reimport_changes_nothing(
        held, rows):
    _, _, outcomes = settled_outcomes(held, rows)
    state = apply(held, outcomes)
    after = [rules.Held(index, plan, valid_from, valid_to, target)
             for index, (plan, valid_from, valid_to, target) in enumerate(state.values())]
    good = [o.wanted for o in outcomes if o.action != rules.ERROR]
    for w in good:
        assert (w.plan, w.valid_from, w.valid_to, w.target) in state.values()
    again = rules.outcomes_for_person(after, good)
    assert [o.action for o in again] == [rules.UNCHANGED] * len(good)


@settings(max_examples=200, deadline=None)
@given(rows=file_rows())
def test_a_person_holding_nothing_gets_every_settled_row_created(rows):
    settled, _, outcomes = settled_outcomes([], rows)
    assert [o.action for o in outcomes] == [rules.CREATE] * len(settled)


@settings(max_examples=200, deadline=None)
@given(rows=file_rows())
def test_settled_rows_never_overlap_and_only_an_open_row_is_ended_by_the_next(rows):
    settled, problems = rules.settle_rows(rows)
    day_map({w.row: (w.plan, w.valid_from, w.valid_to, w.target) for w in settled})
    given_ends = {w.row: w.valid_to for w in rows}
    for w in settled:
        if w.ended_by is not None:
            assert given_ends[w.row] is None
        else:
            assert w.valid_to == given_ends[w.row]
    assert len(settled) + len(problems) == len(rows)


@settings(max_examples=300, deadline=None)
@given(versions=st.lists(st.tuples(st.integers(0, 80), st.none() | st.integers(1, 40)),
                         max_size=4),
       start=st.integers(0, 89), length=st.none() | st.integers(1, 30))
def test_the_first_uncovered_day_is_the_first_day_no_version_is_in_force_on(versions, start,
                                                                           length):
    far = 400  # past every bounded date, so "open" can be looked at day by day
    spans = [(day(a), day(a + n) if n is not None else None) for a, n in versions]
    end = day(start + length) if length is not None else None
    covered = {n for f, t in spans for n in days_of(f, t, horizon=far)}
    expected = next((day(n) for n in days_of(day(start), end, horizon=far)
                     if n not in covered), None)
    assert first_uncovered_day(spans, day(start), end) == expected


@settings(max_examples=300, deadline=None)
@given(held=held_assignments(), rows=file_rows())
def test_an_assignment_held_is_cut_short_only_by_a_row_running_at_least_as_long(held, rows):
    """An open assignment, or one the new row outlasts, may be ended; one that goes on after
    the row would lose days nobody asked about, so that row is refused instead."""
    _, _, outcomes = settled_outcomes(held, rows)
    state = apply(held, outcomes)
    for h in held:
        if state[h.id][2] == h.valid_to:
            continue
        causes = [o for o in outcomes if o.held == h and o.action != rules.UNCHANGED]
        assert len(causes) == 1
        cause = causes[0]
        if cause.action == rules.END_PREVIOUS:
            w = cause.wanted
            assert h.valid_to is None or w.valid_to is None or h.valid_to <= w.valid_to
            assert state[h.id][2] == w.valid_from
        else:
            assert cause.action == rules.CHANGE_END
            assert cause.wanted.valid_from == h.valid_from
