"""Shared fixtures: two tenants, members per role, and the app-role database connection."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.db import connections

from spm.tenancy.context import tenant_context
from spm.tenancy.models import Role

from .factories import MembershipFactory, PersonFactory, TenantFactory, UserFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop in e2e tests


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Migrate as the owner role (pytest-django did), then run every test as the app role.

    The app role is neither superuser nor table owner, so the row-level security policies bind
    every query the tests make, exactly as in production.
    """
    connection = connections["default"]
    if connection.vendor != "postgresql":
        yield
        return
    app_role = settings.DATABASE_APP_ROLE
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_roles WHERE rolname = %s AND rolcanlogin AND NOT rolsuper", [app_role]
        )
        switch = cursor.fetchone() is not None
    if not switch:
        pytest.exit(
            f"PostgreSQL role {app_role!r} is missing: run `make db-roles` (scripts/pg_roles.sql).",
            returncode=3,
        )
    owner = connection.settings_dict["USER"]
    with django_db_blocker.unblock():
        connection.close()
    connection.settings_dict["USER"] = app_role
    yield
    with django_db_blocker.unblock():
        connection.close()
    connection.settings_dict["USER"] = owner


@pytest.fixture
def tenant_a(db):
    return TenantFactory(slug="acme", name="Acme Corp")


@pytest.fixture
def tenant_b(db):
    return TenantFactory(slug="globex", name="Globex Inc")


@pytest.fixture
def make_member(db):
    """make_member(tenant, role) -> user with a membership and a linked Person in `tenant`."""

    def make(tenant, role: str = Role.REP, *, username: str | None = None, person: bool = True):
        user = UserFactory(username=username) if username else UserFactory()
        MembershipFactory(user=user, tenant=tenant, role=role)
        if person:
            with tenant_context(tenant):
                PersonFactory(user=user, name=user.get_full_name() or user.username,
                              email=user.email, role="manager" if role == Role.MANAGER else "rep")
        return user

    return make


@pytest.fixture
def admin_a(tenant_a, make_member):
    return make_member(tenant_a, Role.ADMIN, username="admin_a")


@pytest.fixture
def admin_b(tenant_b, make_member):
    return make_member(tenant_b, Role.ADMIN, username="admin_b")


@pytest.fixture
def eager_tasks():
    """Run Celery tasks in-process for tests of view-to-task wiring, even when REDIS_URL is set
    (make test sets it so the real-worker test has a broker)."""
    from spm.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved
