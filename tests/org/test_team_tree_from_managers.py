"""The team tree built from reporting lines, checked against the lines themselves: for any forest
of managers, and any later change of it, each person's manager chain is the one the lines give,
and the day before the change each person was still in their former manager's team."""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spm.org.models import Team, TeamMembership
from spm.org.selectors import manager_chain, team_of_person
from spm.org.services import people_place_under_managers
from spm.tenancy.context import tenant_context
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

FIRST_DAY = datetime.date(2026, 1, 1)
CHANGE_DAY = datetime.date(2026, 4, 1)
_runs = itertools.count()


@st.composite
def forests(draw, size: int) -> dict[int, int | None]:
    """Reporting lines over people 0..size-1 with no circle: each reports to an earlier one in a
    random order, or to no one."""
    order = draw(st.permutations(range(size)))
    lines: dict[int, int | None] = {order[0]: None}
    for position in range(1, size):
        boss = draw(st.one_of(st.none(), st.integers(0, position - 1)))
        lines[order[position]] = None if boss is None else order[boss]
    return lines


def chain(lines: dict[int, int | None], person: int) -> list[int]:
    """The reference: managers from the nearest up, by walking the lines."""
    found = []
    boss = lines[person]
    while boss is not None:
        found.append(boss)
        boss = lines[boss]
    return found


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_manager_chains_follow_the_reporting_lines_before_and_after_a_change(tenant_a, data):
    size = data.draw(st.integers(2, 8), label="people")
    before = data.draw(forests(size), label="before")
    after = data.draw(forests(size), label="after")
    run = next(_runs)

    def ids(lines: dict[int, int | None]) -> dict[str, str | None]:
        return {f"R{run}-{p}": None if m is None else f"R{run}-{m}" for p, m in lines.items()}

    with tenant_context(tenant_a):
        people = {i: PersonFactory(employee_id=f"R{run}-{i}") for i in range(size)}
        people_place_under_managers(reports=ids(before), on=FIRST_DAY)
        people_place_under_managers(reports=ids(after), on=CHANGE_DAY)
        number = {p.pk: i for i, p in people.items()}
        for i, person in people.items():
            now = [number[m.pk] for m in manager_chain(person=person, on=CHANGE_DAY)]
            assert now == chain(after, i), (i, before, after)
            then = team_of_person(person=person, on=CHANGE_DAY - datetime.timedelta(days=1))
            led_by = number.get(then.manager_id) if then is not None else None
            assert led_by == before[i], (i, before, after)
        # One team per manager, whatever changed.
        managers = {m for lines in (before, after) for m in lines.values() if m is not None}
        assert Team.objects.filter(manager__employee_id__startswith=f"R{run}-").count() == len(
            managers
        )


def test_placing_the_same_lines_again_changes_nothing(tenant_a):
    with tenant_context(tenant_a):
        for employee_id in ("A", "B", "C"):
            PersonFactory(employee_id=employee_id)
        lines = {"A": None, "B": "A", "C": "B"}
        first = people_place_under_managers(reports=lines, on=FIRST_DAY)
        again = people_place_under_managers(reports=lines, on=CHANGE_DAY)
        rows = TeamMembership.objects.count()
    assert (first.teams_created, first.people_placed) == (2, 2)
    assert (again.teams_created, again.teams_moved, again.people_placed) == (0, 0, 0)
    assert rows == 2


def test_a_circle_or_an_unknown_person_is_refused_and_nothing_is_written(tenant_a):
    with tenant_context(tenant_a):
        PersonFactory(employee_id="A", name="Ann")
        PersonFactory(employee_id="B", name="Bo")
        with pytest.raises(ValidationError, match="round in a circle: Ann -> Bo -> Ann"):
            people_place_under_managers(reports={"A": "B", "B": "A"}, on=FIRST_DAY)
        with pytest.raises(ValidationError, match="Nobody has the employee ID Z"):
            people_place_under_managers(reports={"A": "Z"}, on=FIRST_DAY)
        assert Team.objects.count() == 0
        assert TeamMembership.objects.count() == 0


def test_someone_placed_the_same_day_is_moved_not_given_a_second_membership(tenant_a):
    with tenant_context(tenant_a):
        for employee_id in ("A", "B", "C"):
            PersonFactory(employee_id=employee_id)
        people_place_under_managers(reports={"C": "A"}, on=CHANGE_DAY)
        people_place_under_managers(reports={"C": "B"}, on=CHANGE_DAY)
        memberships = list(TeamMembership.objects.values_list("team__manager__employee_id",
                                                              "valid_from", "valid_to"))
    assert memberships == [("B", CHANGE_DAY, None)]


def test_someone_new_joins_from_their_hire_date_and_anyone_else_from_the_day(tenant_a):
    with tenant_context(tenant_a):
        for employee_id in ("A", "NEW", "OLD"):
            PersonFactory(employee_id=employee_id, hire_date=datetime.date(2024, 1, 1))
        people_place_under_managers(reports={"NEW": "A", "OLD": "A"}, on=CHANGE_DAY,
                                    from_hire_date={"NEW"})
        starts = dict(TeamMembership.objects.values_list("person__employee_id", "valid_from"))
    assert starts == {"NEW": datetime.date(2024, 1, 1), "OLD": CHANGE_DAY}
