"""`manage.py plan_import`: read a YAML plan document into a new draft version, and with
--publish publish it as the admin's publish action does, all or nothing."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any, NoReturn

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from compensation.models import PlanVersion, VersionStatus
from compensation.plan_documents import PlanDocumentError, load_plan
from compensation.services import plan_version_import, plan_version_publish
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Tenant


class _Failed(Exception):
    def __init__(self, errors: list[str]) -> None:
        self.errors = errors


class Command(BaseCommand):
    help = ("Create a draft plan version from a YAML plan document (docs/plans.md), and with "
            "--publish publish it through the same service as the admin's 'Publish selected "
            "drafts': the version is checked, the open version it follows ends the day it "
            "starts, and it never changes again. Publishing needs the first day in force "
            "(--valid-from). Every problem is listed with the file and its path in the "
            "document; with any problem nothing is saved (not even the draft) and the command "
            "exits with status 1.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("document", nargs="?", type=Path, default=None, metavar="FILE",
                            help="The YAML plan document (or give it as --file)")
        parser.add_argument("--tenant", required=True, help="The tenant's slug")
        parser.add_argument("--file", type=Path, default=None, help="The YAML plan document")
        parser.add_argument("--valid-from", type=datetime.date.fromisoformat, default=None,
                            help="First day the version will be in force (YYYY-MM-DD)")
        parser.add_argument("--publish", action="store_true",
                            help="Publish the new version after importing it (needs "
                                 "--valid-from); without it the version stays a draft")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"], is_active=True).first()
        if tenant is None:
            raise CommandError(f"No active tenant with the slug {options['tenant']!r}.")
        given = [p for p in (options["document"], options["file"]) if p is not None]
        if len(given) != 1:
            raise CommandError("Give the plan document once: as FILE or as --file.")
        path = Path(given[0])
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        try:
            document = load_plan(text)
            with tenant_context(tenant):
                done = self._import(document, options["valid_from"], options["publish"])
        except PlanDocumentError as exc:
            self._fail(path, exc.errors)
        except ValidationError as exc:
            self._fail(path, exc.messages)
        except _Failed as exc:
            self._fail(path, exc.errors)
        self.stdout.write(self.style.SUCCESS(f"Created draft {done[0]} from {path.name}."))
        for line in done[1:]:
            self.stdout.write(self.style.SUCCESS(line))

    def _import(self, document: Any, valid_from: datetime.date | None,
                publish: bool) -> list[str]:
        """Runs inside tenant_context's transaction: a refused publish rolls the draft back."""
        version = plan_version_import(document=document, valid_from=valid_from)
        done = [str(version)]
        if not publish:
            return done
        if version.valid_from is None:
            raise _Failed(["valid_from: publishing needs the first day in force; give "
                           "--valid-from YYYY-MM-DD"])
        open_before = dict(PlanVersion.objects.filter(
            plan=version.plan_id, status=VersionStatus.PUBLISHED).values_list("pk", "valid_to"))
        published = plan_version_publish(version=version)
        done.append(f"Published {published}, in force from {published.valid_from}.")
        for ended in PlanVersion.objects.filter(pk__in=list(open_before)).select_related("plan"):
            if ended.valid_to != open_before[ended.pk]:
                last = ended.valid_to - datetime.timedelta(days=1)
                done.append(f"Ended {ended}: its last day in force is {last}, the day before "
                            f"{published} starts.")
        return done

    def _fail(self, path: Path, errors: list[str]) -> NoReturn:
        for error in errors:
            self.stderr.write(f"{path}: {error}")
        raise CommandError(f"{len(errors)} problem(s) in {path}; nothing was saved.",
                           returncode=1)
