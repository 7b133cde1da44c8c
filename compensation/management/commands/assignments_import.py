"""`manage.py assignments_import`: preview, or apply all or nothing, a file of plan assignments."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import (
    BaseCommand,
    CommandError,
    CommandParser,
    DjangoHelpFormatter,
)

from compensation.imports.assignments import ASSIGNMENTS, AssignmentCheck
from compensation.imports.service import assignment_import_file
from spm.crm.imports.reading import ImportFileError
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Tenant

MAX_ERRORS_PRINTED = 500


def _columns_help() -> str:
    """Each column with every header spelling accepted, for --help."""
    lines = ["Columns (headers match ignoring case, spaces and punctuation; others are "
             "ignored):"]
    for spec in ASSIGNMENTS.fields:
        lines.append(textwrap.fill(f"{spec.label}: {', '.join(spec.aliases)}", width=78,
                                   initial_indent="  ", subsequent_indent="      "))
    return "\n".join(lines)


class _Formatter(DjangoHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Django's option order, with the description and the column list kept as written."""


class Command(BaseCommand):
    help = (
        "Preview, or with --apply write, a CSV or .xlsx file of plan assignments: one row per "
        "person and plan, naming the person by employee ID or email (case ignored), the plan "
        "by its code, the first day, optionally the last day (End Date) or the day after it "
        "(Valid To), the yearly target incentive, its currency (the tenant's) and the "
        "proration (always by calendar days: 'days' or empty). Each row's outcome is printed "
        "(create, end previous, change end, unchanged, error). A row starting while the "
        "person holds an earlier, open assignment ends that one the day before; re-importing "
        "a file changes nothing. With any problem every one is printed with its row and "
        "column, nothing is written and the command exits with status 1. Without --apply "
        "nothing is written. See docs/plans.md, 'Importing plan assignments'."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, formatter_class=_Formatter,
                                       **kwargs)
        parser.description = textwrap.fill(self.help, width=78)
        parser.epilog = _columns_help()
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The CSV or .xlsx file of assignments")
        parser.add_argument("--tenant", required=True, help="The tenant's slug")
        parser.add_argument("--sheet", default="", help="Workbook sheet name or number")
        parser.add_argument("--apply", action="store_true",
                            help="Write the assignments (all or nothing); without it the file "
                                 "is only previewed")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"], is_active=True).first()
        if tenant is None:
            raise CommandError(f"No active tenant with the slug {options['tenant']!r}.")
        path: Path = options["file"]
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}") from exc
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        if len(content) > limit:
            self.stderr.write(f"Note: {path.name} is larger than the {limit // (1024 * 1024)} "
                              "MB the upload page accepts.")
        with tenant_context(tenant):
            try:
                outcome = assignment_import_file(content=content, file_name=path.name,
                                                 sheet=options["sheet"], apply=options["apply"])
            except ImportFileError as exc:
                raise CommandError(f"{path.name}: {exc}") from exc
        check = outcome.check
        for notice in check.notices:
            self.stderr.write(f"Note: {notice}")
        self._print_rows(check)
        if check.errors:
            self._fail(path, check)
        counts = check.counts()
        summary = (f"{counts['created']} to create ({counts['ended']} ending an earlier "
                   f"assignment), {counts['changed']} end date(s) to change, "
                   f"{counts['unchanged']} unchanged")
        if outcome.written is None:
            self.stdout.write(f"Preview of {path.name} ({check.row_count} rows): {summary}. "
                              "Nothing was written; run again with --apply to write it.")
            return
        written = outcome.written
        self.stdout.write(self.style.SUCCESS(
            f"Imported {path.name}: {written.created} created ({written.ended} earlier "
            f"assignment(s) ended), {written.changed} end date(s) changed, {written.unchanged} "
            "unchanged."))

    def _print_rows(self, check: AssignmentCheck) -> None:
        for row in check.rows:
            shown = row.shown
            target = f", target {shown['target']}" if shown.get("target") else ""
            last = shown.get("last_day") or "open"
            self.stdout.write(
                f"Row {row.row}: {row.action} - {shown.get('person', '')} on "
                f"{shown.get('plan', '')} from {shown.get('first_day', '')}, last day {last}"
                f"{target}" + (f" ({row.detail})" if row.detail else ""))

    def _fail(self, path: Path, check: AssignmentCheck) -> None:
        for error in check.errors[:MAX_ERRORS_PRINTED]:
            where = f"row {error.row}" if error.row else "whole file"
            column = f", {error.column}" if error.column else ""
            self.stderr.write(f"{path.name} {where}{column}: {error.reason}")
        more = len(check.errors) - MAX_ERRORS_PRINTED
        if more > 0:
            self.stderr.write(f"... and {more} more.")
        raise CommandError(f"{len(check.errors)} problem(s) in {path.name}; nothing was "
                           "written.", returncode=1)
