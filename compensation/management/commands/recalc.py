"""`manage.py recalc --tenant acme --period 2026-03` (or `--open`): calculate periods now."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Max, Min

from compensation.models import RunStatus
from compensation.services.recompute import open_months, period_recompute
from compensation.services.runs import PeriodLockedError
from spm.org.calendar import fiscal_year_of
from spm.org.models import Period, PeriodKind
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Tenant
from spm.tenancy.today import tenant_today

KEY_FORMATS = "a month such as 2026-03, a quarter FY2026-Q1 or a year FY2026"


def parse_period_key(key: str) -> dict[str, Any]:
    """The lookup for a month "2026-03" (by the calendar month it starts in), a quarter
    "FY2026-Q1" or a year "FY2026"; ValueError when the key is none of these."""
    text = key.strip().upper()
    if text.startswith("FY"):
        year_text, dash_q, quarter = text[2:].partition("-Q")
        if not year_text.isdigit() or (dash_q and not quarter.isdigit()):
            raise ValueError(key)
        if dash_q:
            if not 1 <= int(quarter) <= 4:
                raise ValueError(key)
            return {"kind": PeriodKind.QUARTER, "fiscal_year": int(year_text),
                    "number": int(quarter)}
        return {"kind": PeriodKind.YEAR, "fiscal_year": int(year_text)}
    start = datetime.date.fromisoformat(f"{text}-01")  # ValueError for anything else
    return {"kind": PeriodKind.MONTH, "start_date": start}


def find_period(key: str) -> Period | None:
    """The active tenant's period named by `key` (see parse_period_key), or None."""
    try:
        lookup = parse_period_key(key)
    except ValueError:
        return None
    return Period.objects.filter(**lookup).first()


def missing_period_message(*, tenant: Tenant, key: str, lookup: dict[str, Any]) -> str:
    """Why a well-formed period is not there: which periods exist and how to create more."""
    start_month = tenant.fiscal_year_start_month
    wanted_year = (lookup["fiscal_year"] if "fiscal_year" in lookup
                   else fiscal_year_of(lookup["start_date"], start_month))
    current_year = fiscal_year_of(tenant_today(tenant), start_month)
    span = Period.objects.filter(kind=PeriodKind.YEAR).aggregate(
        first=Min("fiscal_year"), last=Max("fiscal_year"))
    if span["first"] is None:
        have = f"{tenant.slug} has no fiscal periods yet."
    else:
        have = f"{tenant.slug} has periods from FY{span['first']} to FY{span['last']}."
    setup = f"the workspace setup page /t/{tenant.slug}/setup/"
    if wanted_year > current_year + 1:
        how = (f"Periods are kept up to the next fiscal year (FY{current_year + 1}); later ones "
               "are added as the calendar advances.")
    elif wanted_year < current_year:
        years = current_year - wanted_year
        how = (f"To add FY{wanted_year}, set \"Years of history\" to {years} on {setup}, or run "
               f"create_tenant again with the tenant's settings and --past-years {years}.")
    else:
        how = f"Create them on {setup} (saving it creates any that are missing)."
    return f"No period {key.strip()!r} in {tenant.slug}. {have} {how}"


class Command(BaseCommand):
    help = ("Recompute commissions now: build the credits of a period of a tenant (a month such "
            "as 2026-03, a quarter FY2026-Q1 or a year FY2026), or of every open month of the "
            "current fiscal year, from its deals, then calculate everyone's results.")

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
                periods = open_months(on=tenant_today(tenant))
                if not periods:
                    self.stdout.write("No open months this fiscal year: nothing to calculate.")
            else:
                key = options["period"]
                try:
                    lookup = parse_period_key(key)
                except ValueError:
                    raise CommandError(
                        f"{key!r} is not a period name: use {KEY_FORMATS}.") from None
                period = Period.objects.filter(**lookup).first()
                if period is None:
                    raise CommandError(
                        missing_period_message(tenant=tenant, key=key, lookup=lookup))
                periods = [period]
        for period in periods:
            # One transaction per period: a failure keeps the periods already calculated.
            with tenant_context(tenant):
                try:
                    run = period_recompute(period=period, actor=None)
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
