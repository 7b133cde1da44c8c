"""`manage.py seed_demo`: (re)build a tenant full of realistic, deterministic sales data."""

from __future__ import annotations

import datetime
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from spm.demo.generate import DemoSpec
from spm.demo.steps import STEPS, DemoContext, ensure_tenant, ensure_users, run_steps
from spm.tenancy.context import tenant_context
from spm.tenancy.today import tenant_today

DEFAULT_PASSWORD = "spm-demo-password"  # noqa: S105 - printed on purpose: it is demo data


class Command(BaseCommand):
    help = (
        "Wipe the tenant's data and fill it with realistic sales data: teams, reps who differ, "
        "accounts, seasonal deals with stage history, leads and activities. The same seed and "
        "--as-of give the same data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", default="acme", help="Tenant slug (created if missing).")
        parser.add_argument("--reps", type=int, default=60)
        parser.add_argument("--years", type=int, default=2,
                            help="Fiscal years of history, the current one included.")
        parser.add_argument("--deals", type=int, default=None,
                            help="Number of deals (default: 60 per rep per year).")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--as-of", type=datetime.date.fromisoformat, default=None,
                            help="The demo's today, YYYY-MM-DD (default: today).")
        parser.add_argument("--fiscal-year-start-month", type=int, default=None,
                            help="Set the tenant's fiscal-year start month (1-12).")
        parser.add_argument("--until", default=None, metavar="STEP",
                            help="Stop after this step (e.g. build_activities: the sales data "
                                 "only, without territories, plans and calculations).")
        parser.add_argument("--password", default=DEFAULT_PASSWORD,
                            help="Password of the four demo logins.")

    def handle(self, *args, **options) -> None:
        if options["reps"] < 1 or options["years"] < 1:
            raise CommandError("--reps and --years must be at least 1.")
        if options["deals"] is not None and options["deals"] < 0:
            raise CommandError("--deals cannot be negative.")
        month = options["fiscal_year_start_month"]
        if month is not None and not 1 <= month <= 12:
            raise CommandError("--fiscal-year-start-month must be 1 to 12.")
        names = [step.__name__ for step in STEPS]
        if options["until"] is not None and options["until"] not in names:
            raise CommandError(f"--until must be one of: {', '.join(names)}.")
        steps = STEPS[: names.index(options["until"]) + 1] if options["until"] else STEPS
        started = time.perf_counter()
        with transaction.atomic():
            tenant = ensure_tenant(slug=options["tenant"], fiscal_year_start_month=month)
            users = ensure_users(tenant=tenant, password=options["password"])
        spec = DemoSpec(
            reps=options["reps"],
            years=options["years"],
            deals=options["deals"],
            as_of=options["as_of"] or tenant_today(tenant),
            fiscal_year_start_month=tenant.fiscal_year_start_month,
            seed=options["seed"],
        )
        self.stdout.write(
            f"Seeding {tenant.name} ({tenant.slug}): {spec.reps} reps, {spec.deal_count} deals, "
            f"{spec.window_start} to {spec.as_of}, seed {spec.seed}"
        )
        ctx = DemoContext(spec=spec, tenant=tenant, users=users, log=self.stdout.write)
        with tenant_context(tenant):
            run_steps(ctx, steps)
        elapsed = time.perf_counter() - started
        counts = ", ".join(f"{n} {what}" for what, n in ctx.counts.items() if what != "rows wiped")
        self.stdout.write(self.style.SUCCESS(f"Done in {elapsed:.1f} s: {counts}."))
        self.stdout.write("Sign in at /accounts/login/ with one of these (password "
                          f"{options['password']!r}):")
        for role, user in users.items():
            self.stdout.write(f"  {role:<8} {user.username}")
