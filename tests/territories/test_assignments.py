"""Effective-dated account assignment and territory ownership: writes, history and invariants."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from spm.tenancy.context import tenant_context
from territories.models import AccountAssignment, ChangeKind, TerritoryOwner
from territories.services import (
    account_assign,
    assignments_write,
    territory_create,
    territory_move,
    territory_owner_set,
)
from tests.factories import AccountFactory, PersonFactory, UserFactory

from .conftest import APR, JAN, JUL

pytestmark = pytest.mark.django_db


def rows_of(account):
    return list(
        AccountAssignment.objects.filter(account=account)
        .order_by("valid_from")
        .values_list("territory_id", "valid_from", "valid_to")
    )


@pytest.mark.smoke
def test_a_move_closes_the_old_row_at_the_effective_date_and_opens_the_new(tenant_a, tree):
    with tenant_context(tenant_a):
        account = AccountFactory()
        account_assign(account=account, territory=tree.north, effective_date=JAN)
        change = account_assign(account=account, territory=tree.south, effective_date=APR)
        assert rows_of(account) == [
            (tree.north.pk, JAN, APR),
            (tree.south.pk, APR, None),
        ]
        assert change.moved_count == 1
        assert change.summary == [{
            "from_id": tree.north.pk, "from": "West North",
            "to_id": tree.south.pk, "to": "West South", "count": 1,
        }]


def test_the_change_records_who_made_it_and_when(tenant_a, tree):
    user = UserFactory()
    with tenant_context(tenant_a):
        account = AccountFactory()
        change = assignments_write(
            targets={account.pk: tree.north.pk}, effective_date=JAN, kind=ChangeKind.MANUAL,
            actor=user, note="Onboarding",
        )
        change.refresh_from_db()
        assert change.created_by == user
        assert change.created_at is not None
        assert AccountAssignment.objects.get(account=account).opened_by == change


def test_assigning_an_account_to_the_territory_it_is_in_changes_nothing(tenant_a, tree):
    with tenant_context(tenant_a):
        account = AccountFactory()
        account_assign(account=account, territory=tree.north, effective_date=JAN)
        change = account_assign(account=account, territory=tree.north, effective_date=APR)
        assert change.moved_count == 0
        assert rows_of(account) == [(tree.north.pk, JAN, None)]


def test_a_second_change_on_the_same_day_replaces_the_first(tenant_a, tree):
    with tenant_context(tenant_a):
        account = AccountFactory()
        account_assign(account=account, territory=tree.north, effective_date=JAN)
        account_assign(account=account, territory=tree.south, effective_date=APR)
        account_assign(account=account, territory=tree.west, effective_date=APR)
        assert rows_of(account) == [(tree.north.pk, JAN, APR), (tree.west.pk, APR, None)]


def test_unassigning_closes_the_open_row(tenant_a, tree):
    with tenant_context(tenant_a):
        account = AccountFactory()
        account_assign(account=account, territory=tree.north, effective_date=JAN)
        account_assign(account=account, territory=None, effective_date=APR)
        assert rows_of(account) == [(tree.north.pk, JAN, APR)]


def test_a_change_dated_before_a_later_change_is_refused_and_nothing_is_written(tenant_a, tree):
    with tenant_context(tenant_a):
        early, late = AccountFactory(name="Early Ltd"), AccountFactory(name="Late Ltd")
        account_assign(account=late, territory=tree.north, effective_date=JUL)
        before = AccountAssignment.objects.count()
        with pytest.raises(ValidationError) as excinfo:
            assignments_write(
                targets={early.pk: tree.south.pk, late.pk: tree.south.pk},
                effective_date=APR, kind=ChangeKind.MANUAL,
            )
        assert "Late Ltd" in str(excinfo.value)
        assert "after 2025-04-01" in str(excinfo.value)
        assert AccountAssignment.objects.count() == before


def test_an_account_of_another_tenant_cannot_be_assigned(tenant_a, tenant_b, tree):
    with tenant_context(tenant_b):
        foreign = AccountFactory()
    with tenant_context(tenant_a), pytest.raises(ValidationError, match="do not exist"):
        assignments_write(
            targets={foreign.pk: tree.north.pk}, effective_date=JAN, kind=ChangeKind.MANUAL
        )


def test_the_database_refuses_two_open_assignments_for_one_account(tenant_a, tree):
    with tenant_context(tenant_a):
        account = AccountFactory()
        AccountAssignment.objects.create(account=account, territory=tree.north, valid_from=JAN)
        with pytest.raises(IntegrityError), transaction.atomic():
            AccountAssignment.objects.create(account=account, territory=tree.south, valid_from=APR)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="exclusion constraints")
def test_postgres_refuses_overlapping_closed_assignments_of_one_account(tenant_a, tree):
    with tenant_context(tenant_a):
        account = AccountFactory()
        AccountAssignment.objects.create(
            account=account, territory=tree.north, valid_from=JAN, valid_to=JUL
        )
        with pytest.raises(IntegrityError), transaction.atomic():
            AccountAssignment.objects.create(
                account=account, territory=tree.south, valid_from=APR, valid_to=JUL
            )
        # Touching ranges do not overlap: valid_to is exclusive.
        AccountAssignment.objects.create(account=account, territory=tree.south, valid_from=JUL)


def test_validation_names_the_territory_an_account_is_already_in(tenant_a, tree):
    with tenant_context(tenant_a):
        account = AccountFactory()
        AccountAssignment.objects.create(
            account=account, territory=tree.north, valid_from=JAN, valid_to=JUL
        )
        clash = AccountAssignment(account=account, territory=tree.south, valid_from=APR)
        with pytest.raises(ValidationError) as excinfo:
            clash.full_clean()
        assert "already in West North from 2025-01-01 until 2025-07-01" in str(excinfo.value)


# -- ownership -----------------------------------------------------------------------------------


def test_a_new_owner_ends_the_previous_ownership_on_the_day_they_start(tenant_a, tree):
    with tenant_context(tenant_a):
        ann, bob = PersonFactory(name="Ann"), PersonFactory(name="Bob")
        territory_owner_set(territory=tree.north, person=ann, valid_from=JAN)
        territory_owner_set(territory=tree.north, person=bob, valid_from=APR)
        spans = list(
            TerritoryOwner.objects.filter(territory=tree.north)
            .order_by("valid_from")
            .values_list("person__name", "valid_from", "valid_to")
        )
        assert spans == [("Ann", JAN, APR), ("Bob", APR, None)]


def test_overlapping_owners_in_the_same_role_are_refused_with_the_clash_named(tenant_a, tree):
    with tenant_context(tenant_a):
        ann, bob = PersonFactory(name="Ann"), PersonFactory(name="Bob")
        TerritoryOwner.objects.create(
            territory=tree.north, person=ann, valid_from=JAN, valid_to=JUL
        )
        clash = TerritoryOwner(territory=tree.north, person=bob, valid_from=APR)
        with pytest.raises(ValidationError) as excinfo:
            clash.full_clean()
        message = str(excinfo.value)
        assert "Ann already holds the owner role" in message
        assert "from 2025-01-01 until 2025-07-01" in message


def test_an_overlay_may_share_the_dates_of_the_owner(tenant_a, tree):
    with tenant_context(tenant_a):
        ann, bob = PersonFactory(name="Ann"), PersonFactory(name="Bob")
        territory_owner_set(territory=tree.north, person=ann, valid_from=JAN)
        overlay = territory_owner_set(
            territory=tree.north, person=bob, valid_from=JAN, role="overlay"
        )
        assert overlay.valid_to is None
        assert TerritoryOwner.objects.filter(territory=tree.north, valid_to__isnull=True).count() \
            == 2


def test_setting_an_owner_before_a_later_takeover_is_refused(tenant_a, tree):
    with tenant_context(tenant_a):
        ann, bob = PersonFactory(name="Ann"), PersonFactory(name="Bob")
        territory_owner_set(territory=tree.north, person=ann, valid_from=JUL)
        with pytest.raises(ValidationError, match="Ann takes this territory over on 2025-07-01"):
            territory_owner_set(territory=tree.north, person=bob, valid_from=APR)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="exclusion constraints")
def test_postgres_refuses_two_owners_in_one_role_at_once(tenant_a, tree):
    with tenant_context(tenant_a):
        ann, bob = PersonFactory(), PersonFactory()
        TerritoryOwner.objects.create(territory=tree.north, person=ann, valid_from=JAN)
        with pytest.raises(IntegrityError), transaction.atomic():
            TerritoryOwner.objects.create(territory=tree.north, person=bob, valid_from=APR)


def test_ownership_changes_are_kept_in_the_audit_trail(tenant_a, tree):
    user = UserFactory()
    with tenant_context(tenant_a):
        ann, bob = PersonFactory(), PersonFactory()
        first = territory_owner_set(territory=tree.north, person=ann, valid_from=JAN, actor=user)
        territory_owner_set(territory=tree.north, person=bob, valid_from=APR, actor=user)
        versions = list(first.history.order_by("history_date").values_list(
            "history_type", "valid_to", "history_user_id"
        ))
        assert versions == [("+", None, user.pk), ("~", APR, user.pk)]


# -- the tree ------------------------------------------------------------------------------------


def test_moving_a_territory_rewrites_the_paths_of_its_subtree(tenant_a, tree):
    with tenant_context(tenant_a):
        east = territory_create(name="East", level="region")
        leaf = territory_create(name="Bay", parent=tree.north)
        territory_move(territory=tree.north, parent=east)
        leaf.refresh_from_db()
        assert leaf.path == f"{east.path}{tree.north.pk}/{leaf.pk}/"


def test_a_territory_cannot_move_under_its_own_subtree(tenant_a, tree):
    with tenant_context(tenant_a), pytest.raises(ValidationError, match="own subtree"):
        territory_move(territory=tree.west, parent=tree.north)


def test_two_siblings_cannot_share_a_name(tenant_a, tree):
    with tenant_context(tenant_a), pytest.raises(ValidationError):
        territory_create(name="West North", parent=tree.west)

