"""`manage.py import_crm`: import a CSV or XLSX file of one kind for scripts, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from spm.crm.imports.fields import KINDS
from spm.crm.imports.reading import ImportFileError
from spm.crm.imports.service import import_file
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Tenant

MAX_ERRORS_PRINTED = 200


class Command(BaseCommand):
    help = (
        "Import people, accounts, deals, leads or activities from a CSV or XLSX file into a "
        "tenant. Every row is checked first; with any problem, the problems are printed, "
        "nothing is written and the command exits with status 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="The tenant's slug")
        parser.add_argument("--kind", required=True, choices=sorted(KINDS))
        parser.add_argument("--file", required=True, type=Path, help="CSV or .xlsx file")
        parser.add_argument("--sheet", default="", help="Workbook sheet name or number")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check the file and report what would change, writing nothing",
        )

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
            self.stderr.write(
                f"Note: {path.name} is larger than the {limit // (1024 * 1024)} MB the upload "
                "page accepts."
            )
        with tenant_context(tenant):
            try:
                outcome = import_file(
                    kind=options["kind"],
                    content=content,
                    file_name=path.name,
                    sheet=options["sheet"],
                    dry_run=options["dry_run"],
                )
            except ImportFileError as exc:
                raise CommandError(f"{path.name}: {exc}") from exc
        check = outcome.check
        for notice in check.notices:
            self.stderr.write(f"Note: {notice}")
        if check.errors:
            for error in check.errors[:MAX_ERRORS_PRINTED]:
                where = f"Row {error.row}" if error.row else "File"
                column = f", {error.column}" if error.column else ""
                self.stderr.write(f"{where}{column}: {error.reason}")
            more = len(check.errors) - MAX_ERRORS_PRINTED
            if more > 0:
                self.stderr.write(f"... and {more} more.")
            raise CommandError(
                f"{len(check.errors)} problem(s) in {path.name}; nothing was imported.",
                returncode=1,
            )
        result = outcome.result
        assert result is not None  # a clean check always writes or rehearses
        summary = (
            f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged"
        )
        if options["kind"] == "deals":
            summary += f", {result.stage_changes} stage change(s) recorded"
        if options["dry_run"]:
            self.stdout.write(f"Dry run of {path.name} ({check.row_count} rows): would be "
                              f"{summary}. Nothing was written.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported {path.name}: {summary}."))
