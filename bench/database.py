"""The database side of the benchmarks: each one works in its own PostgreSQL database.

A benchmark database is created and migrated as the owner role, emptied, and then used as the
application role under row-level security, like the web and worker processes. Its name must
contain "bench", because every run empties it.
"""

from __future__ import annotations

import os
from typing import Any

_OWNER: dict[str, Any] = {}


def setup_django(default_url: str) -> None:
    """Configure Django for a benchmark whose database is `default_url` unless DATABASE_URL
    says otherwise."""
    os.environ.setdefault("DATABASE_URL", default_url)
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spm.settings")
    import django

    django.setup()


def prepare_database() -> None:
    """Create and migrate the bench database as its owner, empty it, then become the app role."""
    import psycopg2
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from spm.tenancy.rls import tenant_tables

    db = settings.DATABASES["default"]
    if "bench" not in db["NAME"]:
        raise SystemExit(f"Refusing to empty {db['NAME']!r}: its name must contain 'bench'.")
    owner = {"user": db["USER"], "password": db.get("PASSWORD") or None, "host": db["HOST"],
             "port": db["PORT"] or 5432}
    admin = psycopg2.connect(dbname="postgres", **owner)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{db["NAME"]}"')
    admin.close()
    call_command("migrate", verbosity=0, interactive=False)
    existing = set(connection.introspection.table_names())
    tables = ", ".join(f'"{t}"' for t in [*tenant_tables(), "tenancy_tenant"] if t in existing)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        cursor.execute("DELETE FROM django_session")
    connection.close()
    _OWNER.update(dbname=db["NAME"], **owner)
    db["USER"] = settings.DATABASE_APP_ROLE


def owner_connection() -> Any:
    """A new autocommit psycopg2 connection as the bench database's owner."""
    import psycopg2

    if not _OWNER:
        raise RuntimeError("prepare_database() first")
    owner = psycopg2.connect(**_OWNER)
    owner.autocommit = True
    return owner


def analyze() -> None:
    """Fresh planner statistics, as autovacuum would have them; only the owner may ANALYZE."""
    owner = owner_connection()
    with owner.cursor() as cursor:
        cursor.execute("ANALYZE")
    owner.close()
