"""On PostgreSQL the database itself refuses overlapping date ranges: a person on two plans at
once, or two published versions of one plan in force on the same day.

SQLite has no exclusion constraints; there the model and service checks stand alone.
"""

from django.db import migrations

CONSTRAINTS = [
    (
        "compensation_planassignment",
        "planassignment_no_overlap",
        "tenant_id WITH =, person_id WITH =",
        "",
    ),
    (
        "compensation_planversion",
        "planversion_published_no_overlap",
        "tenant_id WITH =, plan_id WITH =",
        " WHERE (status = 'published')",
    ),
]


def add_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for table, name, keys, where in CONSTRAINTS:
        schema_editor.execute(
            f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" EXCLUDE USING gist '
            f"({keys}, daterange(valid_from, valid_to, '[)') WITH &&){where}"
        )


def drop_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, _, _ in CONSTRAINTS:
        schema_editor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT IF EXISTS "{name}"')


class Migration(migrations.Migration):

    dependencies = [
        ("compensation", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(add_constraints, drop_constraints),
    ]
