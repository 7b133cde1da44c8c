"""The database wall: PostgreSQL row-level security on every tenant table.

After every `migrate`, each table of a TenantModel (and of its history model) gets RLS enabled and
FORCEd, with one policy whose USING and WITH CHECK compare `tenant_id` with the per-transaction
setting `app.tenant_id`. With the setting empty no row is visible and no row can be written.
The application role is granted table privileges here too, so a new table is never left out.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db import connections
from django.db.models import Model

POLICY_NAME = "tenant_isolation"
TENANT_PREDICATE = "tenant_id = nullif(current_setting('app.tenant_id', true), '')::bigint"


def is_tenant_model(model: type[Model]) -> bool:
    from .models import TenantModel

    if model._meta.proxy or not model._meta.managed or model._meta.abstract:
        return False
    if issubclass(model, TenantModel):
        return True
    # django-simple-history's historical copy of a tenant model carries its tenant_id column.
    instance_type = getattr(model, "instance_type", None)
    return isinstance(instance_type, type) and issubclass(instance_type, TenantModel)


def tenant_tables() -> list[str]:
    return sorted({m._meta.db_table for m in apps.get_models() if is_tenant_model(m)})


def rls_statements(table: str) -> list[str]:
    quoted = f'"{table}"'
    return [
        f"ALTER TABLE {quoted} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {quoted} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {POLICY_NAME} ON {quoted}",
        f"CREATE POLICY {POLICY_NAME} ON {quoted} FOR ALL "
        f"USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})",
    ]


def install_rls(using: str = "default") -> list[str]:
    """Apply policies and grants; idempotent. Returns the tables it secured."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    existing = set(connection.introspection.table_names())
    tables = [t for t in tenant_tables() if t in existing]
    app_role = settings.DATABASE_APP_ROLE
    with connection.cursor() as cursor:
        # `flush` also sends post_migrate, and may run as the application role, which (rightly)
        # cannot alter tables: only the owner installs policies.
        cursor.execute(
            "SELECT tableowner = current_user FROM pg_tables "
            "WHERE schemaname = current_schema() AND tablename = 'django_migrations'"
        )
        row = cursor.fetchone()
        if row is None or not row[0]:
            return []
        for table in tables:
            for statement in rls_statements(table):
                cursor.execute(statement)
        cursor.execute(
            "SELECT 1 FROM pg_roles WHERE rolname = %s AND rolname <> current_user", [app_role]
        )
        if cursor.fetchone():
            role = connection.ops.quote_name(app_role)
            cursor.execute(
                "GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE "
                f"ON ALL TABLES IN SCHEMA public TO {role}"
            )
            cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
            # The application reads the migration ledger but must never rewrite it.
            cursor.execute(
                f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON django_migrations FROM {role}"
            )
    return tables


def install_rls_after_migrate(sender, using: str = "default", **kwargs) -> None:
    install_rls(using)


def missing_policies(using: str = "default") -> list[str]:
    """Tenant tables lacking forced RLS or the policy (for the system check and tests)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    tables = tenant_tables()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema()
              AND c.relname = ANY(%s)
              AND c.relrowsecurity AND c.relforcerowsecurity
              AND EXISTS (
                  SELECT 1 FROM pg_policies p
                  WHERE p.schemaname = n.nspname AND p.tablename = c.relname
                    AND p.policyname = %s AND p.qual IS NOT NULL AND p.with_check IS NOT NULL
              )
            """,
            [tables, POLICY_NAME],
        )
        secured = {row[0] for row in cursor.fetchall()}
    return [t for t in tables if t not in secured]
