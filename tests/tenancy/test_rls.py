"""The database wall: row-level security binds the role the application connects as."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from spm.tenancy.context import tenant_context
from spm.tenancy.rls import missing_policies, tenant_tables
from tests.factories import PersonFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _require_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("row-level security is a PostgreSQL feature")


@pytest.fixture
def people(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        a = PersonFactory(name="Alice of A")
    with tenant_context(tenant_b):
        b = PersonFactory(name="Bob of B")
    return a, b


def raw_person_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM org_person")
        return {row[0] for row in cursor.fetchall()}


def test_the_app_connects_as_a_role_that_is_neither_superuser_nor_owner():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.rolsuper, r.rolbypassrls, "
            "(SELECT tableowner FROM pg_tables WHERE tablename = 'org_person') "
            "FROM pg_roles r WHERE r.rolname = current_user"
        )
        is_super, bypasses, owner = cursor.fetchone()
        cursor.execute("SELECT current_user")
        (me,) = cursor.fetchone()
    assert not is_super
    assert not bypasses
    assert owner != me


def test_every_tenant_table_has_a_forced_policy():
    assert "org_person" in tenant_tables()
    assert "org_historicalperson" in tenant_tables()
    assert missing_policies() == []


def test_raw_select_with_tenant_a_active_returns_none_of_b(people):
    a, _ = people
    with tenant_context(a.tenant):
        assert raw_person_names() == {"Alice of A"}


def test_raw_select_with_no_tenant_active_returns_nothing(people):
    assert raw_person_names() == set()


def test_history_rows_are_under_the_same_policy(people):
    a, _ = people
    with tenant_context(a.tenant), connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tenant_id FROM org_historicalperson")
        assert [row[0] for row in cursor.fetchall()] == [a.tenant_id]


def test_raw_insert_of_a_b_row_while_a_is_active_is_refused(people, tenant_b):
    a, _ = people
    with tenant_context(a.tenant):
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO org_person (tenant_id, employee_id, name, email, title, role, "
                    "payout_currency) VALUES (%s, 'X1', 'Mallory', 'm@example.com', '', 'rep', '')",
                    [tenant_b.pk],
                )
        assert raw_person_names() == {"Alice of A"}


def test_raw_update_cannot_move_a_row_into_another_tenant(people, tenant_b):
    a, _ = people
    with tenant_context(a.tenant):
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("UPDATE org_person SET tenant_id = %s", [tenant_b.pk])


def test_the_app_role_cannot_switch_the_policy_off(people):
    with pytest.raises(DatabaseError, match="must be owner"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE org_person NO FORCE ROW LEVEL SECURITY")


def test_the_setting_does_not_outlive_the_tenant_block(people):
    a, _ = people
    with tenant_context(a.tenant):
        pass
    with connection.cursor() as cursor:
        cursor.execute("SELECT nullif(current_setting('app.tenant_id', true), '')")
        assert cursor.fetchone()[0] is None
