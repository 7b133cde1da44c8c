"""On PostgreSQL the database itself refuses overlapping date ranges: an account in two
territories at once, or two owners of one territory in the same role at once.

btree_gist lets one GiST index compare the ids with = and the date ranges with &&. It is a
trusted extension, so the database owner that runs migrations may create it. SQLite has no
exclusion constraints; there the services' checks and the one-open-row unique index stand alone.
"""

from django.db import migrations

CONSTRAINTS = [
    (
        "territories_accountassignment",
        "account_assignment_no_overlap",
        "tenant_id WITH =, account_id WITH =",
    ),
    (
        "territories_territoryowner",
        "territory_owner_no_overlap",
        "tenant_id WITH =, territory_id WITH =, role WITH =",
    ),
]


def add_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for table, name, keys in CONSTRAINTS:
        schema_editor.execute(
            f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" EXCLUDE USING gist '
            f"({keys}, daterange(valid_from, valid_to, '[)') WITH &&)"
        )


def drop_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, _ in CONSTRAINTS:
        schema_editor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT IF EXISTS "{name}"')


class Migration(migrations.Migration):

    dependencies = [
        ("territories", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(add_constraints, drop_constraints),
    ]
