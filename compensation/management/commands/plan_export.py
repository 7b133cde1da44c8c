"""`manage.py plan_export`: print a plan version as a YAML plan document."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from compensation.selectors import plan_version_by_number, plan_version_document
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Tenant


class Command(BaseCommand):
    help = ("Write a plan version as a YAML plan document (docs/plans.md) to standard output, "
            "e.g. plan_export --tenant acme --plan AE-2026 --version 2 > plan.yaml")

    def add_base_argument(self, parser: CommandParser, *args: Any, **kwargs: Any) -> None:
        if "--version" in args:
            return  # here --version names the plan version, not the program's
        super().add_base_argument(parser, *args, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="The tenant's slug")
        parser.add_argument("--plan", required=True, help="The plan's code, e.g. AE-2026")
        parser.add_argument("--version", required=True, type=int, dest="number",
                            help="The version number")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"], is_active=True).first()
        if tenant is None:
            raise CommandError(f"No active tenant with the slug {options['tenant']!r}.")
        with tenant_context(tenant):
            version = plan_version_by_number(plan_code=options["plan"], number=options["number"])
            if version is None:
                raise CommandError(f"{tenant.slug} has no version {options['number']} of a plan "
                                   f"coded {options['plan']!r}.")
            document = plan_version_document(version=version)
        self.stdout.write(document, ending="")
