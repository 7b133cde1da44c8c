"""Effective dating, shared by every dated model: in force from `valid_from` (inclusive) to
`valid_to` (exclusive, open when empty), one overlap check naming the other row's dates, and
querysets that still refuse to run without an active tenant."""

from __future__ import annotations

import datetime

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spm.org.models import TeamMembership
from spm.tenancy.context import TenantNotActiveError, tenant_context
from spm.tenancy.dating import (
    EffectiveDatedModel,
    EffectiveDatedQuerySet,
    ranges_overlap,
    span_text,
    validate_no_overlap,
)
from tests.factories import PersonFactory, TeamFactory

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

D = datetime.date
DAY = datetime.timedelta(days=1)
JAN, FEB, MAR = D(2026, 1, 1), D(2026, 2, 1), D(2026, 3, 1)


@pytest.fixture
def ann(tenant_a):
    """Ann in North for January, then in South from February with no end."""
    with tenant_context(tenant_a):
        person = PersonFactory(name="Ann")
        north, south = TeamFactory(name="North"), TeamFactory(name="South")
        TeamMembership.objects.create(person=person, team=north, valid_from=JAN, valid_to=FEB)
        TeamMembership.objects.create(person=person, team=south, valid_from=FEB)
        return person


def teams_on(person, day: datetime.date) -> list[str]:
    return [m.team.name for m in
            TeamMembership.objects.valid_on(day).filter(person=person).select_related("team")]


def test_a_row_is_in_force_from_its_first_day_and_not_on_its_end_day(tenant_a, ann):
    with tenant_context(tenant_a):
        assert teams_on(ann, JAN - DAY) == []
        assert teams_on(ann, JAN) == ["North"]
        assert teams_on(ann, FEB - DAY) == ["North"]
        assert teams_on(ann, FEB) == ["South"]


def test_a_row_with_no_end_stays_in_force(tenant_a, ann):
    with tenant_context(tenant_a):
        assert teams_on(ann, D(2099, 12, 31)) == ["South"]


def test_overlapping_finds_rows_sharing_a_day_and_not_rows_that_only_touch(tenant_a, ann):
    with tenant_context(tenant_a):
        rows = TeamMembership.objects.filter(person=ann).select_related("team")
        assert [m.team.name for m in rows.overlapping(FEB, MAR)] == ["South"]
        assert [m.team.name for m in rows.overlapping(JAN - DAY, JAN)] == []
        assert sorted(m.team.name for m in rows.overlapping(FEB - DAY, None)) == [
            "North", "South"]
        assert sorted(m.team.name for m in rows.in_force_between(FEB - DAY, FEB)) == [
            "North", "South"]


def test_a_membership_that_touches_the_previous_one_is_accepted(tenant_a, ann):
    with tenant_context(tenant_a):
        earlier = TeamMembership(person=ann, team=TeamFactory(name="West"),
                                 valid_from=D(2025, 12, 1), valid_to=JAN)
        earlier.full_clean()


def test_an_overlapping_membership_is_refused_naming_the_other_rows_dates(tenant_a, ann):
    with tenant_context(tenant_a):
        clash = TeamMembership(person=ann, team=TeamFactory(name="West"),
                               valid_from=D(2026, 1, 20), valid_to=D(2026, 1, 25))
        with pytest.raises(ValidationError) as caught:
            clash.full_clean()
        assert caught.value.message_dict["valid_from"] == [
            "This person is already in a team for part of these dates: in North from "
            "2026-01-01 until 2026-02-01."]


def test_an_overlap_with_an_open_row_says_it_has_no_end(tenant_a, ann):
    with tenant_context(tenant_a):
        later = TeamMembership(person=ann, team=TeamFactory(name="West"), valid_from=D(2027, 1, 1))
        with pytest.raises(ValidationError) as caught:
            later.full_clean()
        assert "in South from 2026-02-01 with no end date" in \
            caught.value.message_dict["valid_from"][0]


def test_an_end_on_or_before_the_start_is_refused_on_the_end(tenant_a, ann):
    with tenant_context(tenant_a):
        backwards = TeamMembership(person=ann, team=TeamFactory(name="West"),
                                   valid_from=MAR, valid_to=MAR)
        with pytest.raises(ValidationError) as caught:
            backwards.full_clean()
        assert caught.value.message_dict["valid_to"] == ["Must be after valid from."]


def test_a_row_can_say_whether_it_is_in_force_on_a_day(tenant_a, ann):
    with tenant_context(tenant_a):
        north = TeamMembership.objects.get(person=ann, valid_to=FEB)
        assert [north.is_valid_on(d) for d in (JAN - DAY, JAN, FEB - DAY, FEB)] == [
            False, True, True, False]


DATED = sorted((m for m in apps.get_models() if issubclass(m, EffectiveDatedModel)),
               key=lambda m: m._meta.label)


def test_every_effective_dated_model_uses_the_shared_base():
    assert {m._meta.label for m in DATED} == {
        "compensation.CreditRule", "compensation.PlanAssignment", "compensation.PlanVersion",
        "org.TeamMembership", "quotas.Quota", "territories.AccountAssignment",
        "territories.TerritoryOwner"}


@pytest.mark.parametrize("model", DATED, ids=lambda m: m._meta.label)
def test_valid_on_still_refuses_to_run_without_an_active_tenant(model):
    with pytest.raises(TenantNotActiveError):
        model.objects.valid_on(JAN)
    with pytest.raises(TenantNotActiveError):
        model.objects.overlapping(JAN, None)


@pytest.mark.parametrize("model", DATED, ids=lambda m: m._meta.label)
def test_valid_on_reads_only_the_active_tenants_rows(model, tenant_a):
    with tenant_context(tenant_a):
        rows = model.objects.valid_on(JAN)
        assert isinstance(rows, EffectiveDatedQuerySet)
        assert f'."tenant_id" = {tenant_a.pk}' in str(rows.query)


# -- against a per-day reference ---------------------------------------------------------------

START = D(2026, 1, 1)
HORIZON = 40  # every day asked about lies before START + HORIZON, so "open" can stop there


def days_of(offset_from: int, offset_to: int | None) -> set[int]:
    return set(range(offset_from, HORIZON if offset_to is None else offset_to))


def as_dates(offset_from: int, offset_to: int | None) -> tuple[D, D | None]:
    return START + offset_from * DAY, None if offset_to is None else START + offset_to * DAY


@st.composite
def spans(draw) -> tuple[int, int | None]:
    first = draw(st.integers(0, 30))
    end = draw(st.none() | st.integers(first + 1, 36))
    return first, end


@given(a=spans(), b=spans())
def test_ranges_overlap_exactly_when_they_share_a_day(a, b):
    assert ranges_overlap(*as_dates(*a), *as_dates(*b)) == bool(days_of(*a) & days_of(*b))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(spans(), min_size=1, max_size=5), day=st.integers(0, HORIZON - 1),
       window=spans(), candidate=spans())
def test_the_dated_filters_and_the_overlap_check_agree_with_counting_days(
        tenant_a, rows, day, window, candidate):
    with tenant_context(tenant_a), transaction.atomic():
        person, team = PersonFactory(), TeamFactory()
        # Written past clean(): the filters must be right for any rows, overlapping or not.
        saved = TeamMembership.objects.bulk_create([
            TeamMembership(person=person, team=team, valid_from=f, valid_to=t)
            for f, t in (as_dates(*r) for r in rows)])
        by_pk = {m.pk: r for m, r in zip(saved, rows, strict=True)}
        mine = TeamMembership.objects.filter(person=person)

        assert set(mine.valid_on(START + day * DAY).values_list("pk", flat=True)) == {
            pk for pk, r in by_pk.items() if day in days_of(*r)}
        assert set(mine.overlapping(*as_dates(*window)).values_list("pk", flat=True)) == {
            pk for pk, r in by_pk.items() if days_of(*r) & days_of(*window)}
        first, last = window[0], (HORIZON if window[1] is None else window[1]) - 1
        assert set(mine.in_force_between(START + first * DAY, START + last * DAY)
                   .values_list("pk", flat=True)) == {
            pk for pk, r in by_pk.items() if days_of(*r) & set(range(first, last + 1))}

        new = TeamMembership(person=person, team=team, **dict(zip(
            ("valid_from", "valid_to"), as_dates(*candidate), strict=True)))
        clashing = sorted((r for r in rows if days_of(*r) & days_of(*candidate)),
                          key=lambda r: r[0])
        if not clashing:
            validate_no_overlap(new, mine)
        else:
            with pytest.raises(ValidationError) as caught:
                validate_no_overlap(new, mine)
            earliest = clashing[0]
            assert span_text(*as_dates(*earliest)) in caught.value.message_dict["valid_from"][0]
        transaction.set_rollback(True)
