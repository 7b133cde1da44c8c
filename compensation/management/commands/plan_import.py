"""`manage.py plan_import`: read a YAML plan document into a new draft version, all or nothing."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from compensation.plan_documents import PlanDocumentError, load_plan
from compensation.services import plan_version_import
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Tenant


class Command(BaseCommand):
    help = ("Create a draft plan version from a YAML plan document (docs/plans.md). Every "
            "problem is listed with its path; with any problem nothing is saved and the command "
            "exits with status 1.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="The tenant's slug")
        parser.add_argument("--file", required=True, type=Path, help="The YAML plan document")
        parser.add_argument("--valid-from", type=datetime.date.fromisoformat, default=None,
                            help="First day the version will be in force (YYYY-MM-DD)")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"], is_active=True).first()
        if tenant is None:
            raise CommandError(f"No active tenant with the slug {options['tenant']!r}.")
        path = Path(options["file"])
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        try:
            document = load_plan(text)
            with tenant_context(tenant):
                version = plan_version_import(document=document,
                                              valid_from=options["valid_from"])
                label = str(version)
        except PlanDocumentError as exc:
            self._fail(path, exc.errors)
        except ValidationError as exc:
            self._fail(path, exc.messages)
        self.stdout.write(self.style.SUCCESS(f"Created draft {label} from {path.name}."))

    def _fail(self, path: Path, errors: list[str]) -> None:
        for error in errors:
            self.stderr.write(error)
        raise CommandError(f"{len(errors)} problem(s) in {path.name}; nothing was saved.",
                           returncode=1)
