"""`manage.py import_crm`: import a CSV or XLSX file of one kind for scripts, all or nothing."""

from __future__ import annotations

import argparse
import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from spm.crm.imports.fields import KINDS
from spm.crm.imports.options import ImportOptions
from spm.crm.imports.reading import ImportFileError
from spm.crm.imports.service import import_file
from spm.crm.imports.stage_map import read_stage_map
from spm.crm.services import stage_mappings_set
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Tenant

MAX_ERRORS_PRINTED = 200


def _day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (use YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = (
        "Import people, accounts, deals, leads or activities from a CSV or XLSX file into a "
        "tenant, as exported by Salesforce, HubSpot, Pipedrive, Dynamics or an HR system "
        "(Workday, BambooHR). Headers are matched by their usual names (see docs/import.md). "
        "Every row is checked first; with any problem, the problems are printed with their row "
        "and column, nothing is written (not even a --stage-map) and the command exits with "
        "status 1."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.epilog = (
            "examples:\n"
            "  import_crm --tenant acme --kind people --file roster.csv "
            "--effective-date 2026-04-01\n"
            "  import_crm --tenant acme --kind deals --file hubspot-deals.csv "
            "--stage-map stages.csv\n"
            "  import_crm --tenant acme --kind deals --file opportunities.xlsx "
            "--create-accounts --dry-run\n"
            "\n"
            "A stage map file has a header row 'source,stage' and one line per value, e.g.\n"
            "  source,stage\n"
            "  contractsent,Negotiation\n"
            "  closedwon,Closed Won\n"
            "Its mappings are stored for the tenant (as if made on the import preview) and "
            "used by this and every later import; an explicit mapping wins over the built-in "
            "reading of HubSpot's internal ids and Salesforce's default stage names."
        )
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="The tenant's slug")
        parser.add_argument(
            "--kind", required=True, choices=sorted(KINDS),
            help="What the file holds. Import people and accounts before the deals, leads and "
            "activities that refer to them.",
        )
        parser.add_argument("--file", required=True, type=Path, help="CSV or .xlsx file")
        parser.add_argument("--sheet", default="", help="Workbook sheet name or number")
        parser.add_argument(
            "--stage-map", type=Path, metavar="FILE",
            help="Deals: a CSV or .xlsx file with the columns source and stage, saying which "
            "of the tenant's stages each stage value of the file means (e.g. HubSpot's "
            "'contractsent'). The mappings are stored and used by later imports too.",
        )
        parser.add_argument(
            "--create-accounts", action="store_true",
            help="Deals: create the accounts that the file names (Account Name, Associated "
            "Company) but that do not exist yet, instead of reporting them. A later accounts "
            "file with the CRM's account IDs takes them over by name.",
        )
        parser.add_argument(
            "--effective-date", type=_day, metavar="YYYY-MM-DD",
            help="People: the day team changes from the manager column take effect "
            "(default: today in the tenant's time zone). People placed in a team for the first "
            "time join from their hire date when it is earlier.",
        )
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
        content = self._read(path)
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        if len(content) > limit:
            self.stderr.write(
                f"Note: {path.name} is larger than the {limit // (1024 * 1024)} MB the upload "
                "page accepts."
            )
        map_path: Path | None = options.get("stage_map")
        map_content = self._read(map_path) if map_path is not None else None
        import_options = ImportOptions(
            create_accounts=options.get("create_accounts", False),
            effective_date=options.get("effective_date"),
        )
        mapped: list[str] = []
        with tenant_context(tenant):
            if map_content is not None:
                try:
                    pairs, problems = read_stage_map(map_content, file_name=map_path.name)
                except ImportFileError as exc:
                    raise CommandError(f"{map_path.name}: {exc}") from exc
                if problems:
                    self._print_problems(problems)
                    raise CommandError(
                        f"{len(problems)} problem(s) in {map_path.name}; nothing was imported.",
                        returncode=1,
                    )
            with transaction.atomic():
                if map_content is not None:
                    saved = stage_mappings_set(mappings=pairs)
                    mapped = [f"{m.source_value} -> {m.stage.name}" for m in saved]
                try:
                    outcome = import_file(
                        kind=options["kind"],
                        content=content,
                        file_name=path.name,
                        sheet=options["sheet"],
                        dry_run=options["dry_run"],
                        options=import_options,
                    )
                except ImportFileError as exc:
                    raise CommandError(f"{path.name}: {exc}") from exc
                if outcome.check.errors or options["dry_run"]:
                    transaction.set_rollback(True)  # the stage mappings go with the file
        self._report(path, outcome, mapped, options)

    def _read(self, path: Path) -> bytes:
        try:
            return path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}") from exc

    def _print_problems(self, problems: list) -> None:
        for error in problems[:MAX_ERRORS_PRINTED]:
            where = f"Row {error.row}" if error.row else "File"
            column = f", {error.column}" if error.column else ""
            self.stderr.write(f"{where}{column}: {error.reason}")
        more = len(problems) - MAX_ERRORS_PRINTED
        if more > 0:
            self.stderr.write(f"... and {more} more.")

    def _report(self, path: Path, outcome: Any, mapped: list[str], options: dict) -> None:
        check = outcome.check
        for notice in check.notices:
            self.stderr.write(f"Note: {notice}")
        if check.errors:
            self._print_problems(check.errors)
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
        if result.accounts_created:
            summary += f", {result.accounts_created} account(s) created"
        if result.accounts_adopted:
            summary += f", {result.accounts_adopted} account(s) made by name given their ID"
        if result.teams_created or result.teams_moved or result.people_placed:
            summary += (
                f", {result.teams_created} team(s) created, {result.teams_moved} moved, "
                f"{result.people_placed} person(s) placed in their manager's team"
            )
        if mapped:
            summary += f"; stage mappings: {', '.join(mapped)}"
        if options["dry_run"]:
            self.stdout.write(f"Dry run of {path.name} ({check.row_count} rows): would be "
                              f"{summary}. Nothing was written.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported {path.name}: {summary}."))
