"""`manage.py payroll_export --tenant acme --period 2026-03 --format csv --output FILE`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from compensation.management.commands.recalc import missing_period_message, parse_period_key
from compensation.services.payroll import FORMATS, payroll_export
from spm.org.models import Period, PeriodKind
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Tenant


class Command(BaseCommand):
    help = ("Write the payroll file of an approved month (CSV or XLSX, in the tenant's column "
            "layout). The first export pays the approved payees; later ones give the same "
            "bytes and pay nobody twice. A month that is not approved is refused, saying why.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="Tenant slug.")
        parser.add_argument("--period", required=True, help="A month such as 2026-03.")
        parser.add_argument("--format", required=True, choices=FORMATS, dest="file_format")
        parser.add_argument("--output", required=True, help="The file to write.")
        parser.add_argument("--summary", help="Also write the general-ledger summary (CSV).")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant {options['tenant']!r}.")
        key = options["period"]
        try:
            lookup = parse_period_key(key)
        except ValueError:
            raise CommandError(f"{key!r} is not a month: use a month such as 2026-03.") from None
        if lookup["kind"] != PeriodKind.MONTH:
            raise CommandError(f"{key!r} is not a month: payroll is exported month by month.")
        with tenant_context(tenant):
            period = Period.objects.filter(**lookup).first()
            if period is None:
                raise CommandError(missing_period_message(tenant=tenant, key=key,
                                                          lookup=lookup))
            try:
                export = payroll_export(period=period, file_format=options["file_format"])
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
            content, summary = bytes(export.content), bytes(export.summary)
            sha256 = export.sha256
        Path(options["output"]).write_bytes(content)
        if options.get("summary"):
            Path(options["summary"]).write_bytes(summary)
        self.stdout.write(f"{period}: wrote {options['output']} ({len(content)} bytes, "
                          f"SHA-256 {sha256})")
