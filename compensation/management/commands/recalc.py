"""`manage.py recalc --tenant acme --period 2026-03` (or `--open`): calculate periods now."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from compensation.models import RunStatus
from compensation.services.runs import PeriodLockedError, calculation_run, periods_to_recompute
from spm.org.models import Period, PeriodKind
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Tenant


def find_period(key: str) -> Period | None:
    """A month "2026-03" (by the calendar month it starts in), a quarter "FY2026-Q1" or a year
    "FY2026", of the active tenant."""
    text = key.strip().upper()
    if text.startswith("FY"):
        year_text, _, quarter = text[2:].partition("-Q")
        if not year_text.isdigit() or (quarter and not quarter.isdigit()):
            return None
        if quarter:
            return Period.objects.filter(kind=PeriodKind.QUARTER, fiscal_year=int(year_text),
                                         number=int(quarter)).first()
        return Period.objects.filter(kind=PeriodKind.YEAR, fiscal_year=int(year_text)).first()
    try:
        start = datetime.date.fromisoformat(f"{text}-01")
    except ValueError:
        return None
    return Period.objects.filter(kind=PeriodKind.MONTH, start_date=start).first()


class Command(BaseCommand):
    help = ("Calculate commissions for a period of a tenant (a month such as 2026-03, a quarter "
            "FY2026-Q1 or a year FY2026), or for every open month of the current fiscal year.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="Tenant slug.")
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--period", help="2026-03, FY2026-Q1 or FY2026.")
        which.add_argument("--open", action="store_true",
                           help="Every open month of the fiscal year up to today.")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant {options['tenant']!r}.")
        failed = 0
        with tenant_context(tenant):
            if options["open"]:
                periods = periods_to_recompute(on=timezone.localdate())
                if not periods:
                    self.stdout.write("No open months this fiscal year: nothing to calculate.")
            else:
                period = find_period(options["period"])
                if period is None:
                    raise CommandError(
                        f"No period {options['period']!r} in {tenant.slug}: use a month such "
                        "as 2026-03, a quarter FY2026-Q1 or a year FY2026.")
                periods = [period]
        for period in periods:
            # One transaction per period: a failure keeps the periods already calculated.
            with tenant_context(tenant):
                try:
                    run = calculation_run(tenant=tenant, period=period, actor=None)
                except PeriodLockedError as exc:
                    raise CommandError("; ".join(exc.messages)) from exc
                seconds = run.inputs.get("seconds", 0)
                if run.status == RunStatus.SUCCEEDED:
                    self.stdout.write(
                        f"{period}: run {run.pk} succeeded: {run.line_count} lines, total "
                        f"{run.total_amount:,.2f}, {run.warning_count} warning(s), "
                        f"{seconds:.1f} s")
                elif run.status == RunStatus.SUCCEEDED_WITH_ERRORS:
                    # Its results stand, so the command does not fail; the errors say what
                    # money may be missing until they are fixed (see the run's page).
                    self.stderr.write(
                        f"{period}: run {run.pk} succeeded with {run.error_count} error(s) and "
                        f"{run.warning_count} warning(s): {run.line_count} lines, total "
                        f"{run.total_amount:,.2f}, {seconds:.1f} s")
                else:
                    failed += 1
                    self.stderr.write(f"{period}: run {run.pk} failed: {run.error}")
        if failed:
            raise CommandError(f"{failed} calculation(s) failed.")
