"""Reads other parts rely on: who owned an account on a day (one and in bulk), territories of a
person, potential per territory, and coverage."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pandas as pd
import pytest
from django.db import connection

from spm.tenancy.context import tenant_context
from territories.models import AccountAssignment
from territories.selectors import (
    account_owner_on,
    account_territory_owner_bulk,
    coverage_report,
    potential_by_owner_on,
    territories_of_person_on,
    territory_of_account_on,
    territory_potential_on,
)
from territories.services import account_assign, territory_owner_set
from tests.factories import AccountFactory, PersonFactory

from .conftest import APR, JAN, JUL

pytestmark = pytest.mark.django_db

MAR_31 = datetime.date(2025, 3, 31)


@pytest.fixture
def history(tenant_a, tree):
    """Acme moves from North to South on 1 April; North changes hands from Ann to Bob on 1 July."""
    with tenant_context(tenant_a):
        ann, bob, sue = (PersonFactory(name=n) for n in ("Ann", "Bob", "Sue"))
        territory_owner_set(territory=tree.north, person=ann, valid_from=JAN)
        territory_owner_set(territory=tree.north, person=bob, valid_from=JUL)
        territory_owner_set(territory=tree.south, person=sue, valid_from=JAN)
        acme = AccountFactory(name="Acme", potential=Decimal("1000.00"))
        umbrella = AccountFactory(name="Umbrella", potential=Decimal("250.50"))
        AccountFactory(name="Nowhere", potential=Decimal("99.00"))
        account_assign(account=acme, territory=tree.north, effective_date=JAN)
        account_assign(account=acme, territory=tree.south, effective_date=APR)
        account_assign(account=umbrella, territory=tree.north, effective_date=JAN)
    return {"ann": ann, "bob": bob, "sue": sue, "acme": acme, "umbrella": umbrella}


@pytest.mark.smoke
def test_the_owner_of_an_account_follows_its_territory_and_the_territorys_owner(
    tenant_a, tree, history, django_assert_num_queries
):
    acme, umbrella = history["acme"], history["umbrella"]
    with tenant_context(tenant_a):
        with django_assert_num_queries(1):
            assert account_owner_on(account=acme, on=MAR_31) == history["ann"]
        assert account_owner_on(account=acme, on=APR) == history["sue"]
        assert account_owner_on(account=umbrella, on=APR) == history["ann"]
        assert account_owner_on(account=umbrella, on=JUL) == history["bob"]
        assert account_owner_on(account=acme, on=datetime.date(2024, 12, 31)) is None


def test_the_territory_of_an_account_on_a_day_is_one_query(
    tenant_a, tree, history, django_assert_num_queries
):
    with tenant_context(tenant_a):
        with django_assert_num_queries(1):
            assert territory_of_account_on(account=history["acme"], on=MAR_31) == tree.north
        assert territory_of_account_on(account=history["acme"].pk, on=APR) == tree.south


def test_the_bulk_form_answers_every_account_and_day_in_two_queries(
    tenant_a, tree, history, django_assert_num_queries
):
    acme, umbrella = history["acme"].pk, history["umbrella"].pk
    rows = pd.DataFrame({
        "deal": ["d1", "d2", "d3", "d4", "d5"],
        "account_id": [acme, acme, umbrella, umbrella, acme],
        "on": pd.to_datetime(["2025-03-31", "2025-04-01", "2025-06-30", "2025-07-01",
                              "2024-06-01"]),
    })
    with tenant_context(tenant_a), django_assert_num_queries(2):
        result = account_territory_owner_bulk(rows)
    assert result["deal"].tolist() == ["d1", "d2", "d3", "d4", "d5"]
    assert result["territory_id"].tolist() == [
        tree.north.pk, tree.south.pk, tree.north.pk, tree.north.pk, pd.NA
    ]
    assert result["owner_id"].tolist() == [
        history["ann"].pk, history["sue"].pk, history["ann"].pk, history["bob"].pk, pd.NA
    ]


def test_the_bulk_form_agrees_with_the_single_selector(tenant_a, tree, history):
    days = [JAN + datetime.timedelta(days=d) for d in range(0, 240, 7)]
    accounts = [history["acme"].pk, history["umbrella"].pk]
    rows = pd.DataFrame([(a, d) for a in accounts for d in days], columns=["account_id", "on"])
    with tenant_context(tenant_a):
        bulk = account_territory_owner_bulk(rows)
        for row in bulk.itertuples():
            owner = account_owner_on(account=row.account_id, on=row.on)
            expected = owner.pk if owner else None
            assert (None if pd.isna(row.owner_id) else row.owner_id) == expected, row


def test_the_bulk_form_of_nothing_is_an_empty_frame(tenant_a):
    rows = pd.DataFrame({"account_id": pd.Series([], dtype="int64"), "on": pd.Series([])})
    with tenant_context(tenant_a):
        result = account_territory_owner_bulk(rows)
    assert result.empty
    assert {"territory_id", "owner_id"} <= set(result.columns)


def test_a_person_owns_the_territories_of_their_ownerships_that_day(tenant_a, tree, history):
    with tenant_context(tenant_a):
        assert list(territories_of_person_on(person=history["ann"], on=APR)) == [tree.north]
        assert list(territories_of_person_on(person=history["ann"], on=JUL)) == []
        assert list(territories_of_person_on(person=history["bob"], on=JUL)) == [tree.north]


def test_potential_per_territory_rolls_up_the_tree(
    tenant_a, tree, history, django_assert_max_num_queries
):
    with tenant_context(tenant_a), django_assert_max_num_queries(3):
        loads = territory_potential_on(on=APR)
    assert (loads[tree.north.pk].accounts, loads[tree.north.pk].potential) == (
        1, Decimal("250.50")
    )
    assert (loads[tree.south.pk].accounts, loads[tree.south.pk].potential) == (
        1, Decimal("1000.00")
    )
    assert loads[tree.west.pk].potential == Decimal("0")
    assert (loads[tree.west.pk].subtree_accounts, loads[tree.west.pk].subtree_potential) == (
        2, Decimal("1250.50")
    )
    assert [o.person.name for o in loads[tree.north.pk].owners] == ["Ann"]


def test_potential_by_owner_sums_the_territories_each_person_owns(tenant_a, tree, history):
    with tenant_context(tenant_a):
        assert potential_by_owner_on(on=MAR_31) == {
            history["ann"].pk: Decimal("1250.50"), history["sue"].pk: Decimal("0.00")
        }
        assert potential_by_owner_on(on=JUL) == {
            history["bob"].pk: Decimal("250.50"), history["sue"].pk: Decimal("1000.00")
        }


def test_coverage_lists_unassigned_accounts_and_finds_no_overlap(tenant_a, tree, history):
    with tenant_context(tenant_a):
        coverage = coverage_report(on=APR)
    assert coverage.account_count == 3
    assert coverage.unassigned_count == 1
    assert coverage.unassigned_potential == Decimal("99.00")
    assert [a.name for a in coverage.unassigned_sample] == ["Nowhere"]
    assert coverage.overlaps == []
    assert coverage.vacant == []


@pytest.mark.skipif(
    connection.vendor == "postgresql", reason="PostgreSQL refuses the overlap outright"
)
def test_coverage_reports_an_overlap_written_around_the_services(tenant_a, tree, history):
    with tenant_context(tenant_a):
        acme = history["acme"]
        # Close Acme's South row and squeeze in an overlapping closed row by hand, as a careless
        # import could on a database without exclusion constraints.
        AccountAssignment.objects.filter(account=acme, valid_to__isnull=True).update(valid_to=JUL)
        AccountAssignment.objects.bulk_create([AccountAssignment(
            account=acme, territory=tree.north, valid_from=datetime.date(2025, 5, 1),
            valid_to=datetime.date(2025, 6, 1),
        )])
        coverage = coverage_report(on=APR)
    assert {(o.account.name, o.territory.name) for o in coverage.overlaps} == {
        ("Acme", "West South"), ("Acme", "West North")
    }


def test_a_territory_with_accounts_and_no_owner_is_reported_vacant(tenant_a, tree):
    with tenant_context(tenant_a):
        account_assign(account=AccountFactory(), territory=tree.north, effective_date=JAN)
        coverage = coverage_report(on=APR)
    assert coverage.vacant == [tree.north]
