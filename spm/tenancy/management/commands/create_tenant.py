"""`manage.py create_tenant`: the platform operator's way to open a tenant with its first admin."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import transaction

from spm.tenancy.models import Membership, Role, Tenant


def _month(value: str) -> int:
    month = int(value)
    if not 1 <= month <= 12:
        raise ValueError(value)
    return month


def _messages(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "; ".join(
            f"--{field.replace('_', '-')}: {' '.join(messages)}"
            for field, messages in error.message_dict.items()
        )
    return " ".join(error.messages)


class Command(BaseCommand):
    help = (
        "Create a tenant and make --admin-email its admin. An existing user with that email is "
        "reused; otherwise a user is created and its initial password printed once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--slug", required=True, help="URL name: /t/<slug>/")
        parser.add_argument("--name", required=True, help="Display name of the organisation")
        parser.add_argument("--currency", default="USD", help="ISO 4217 code (default USD)")
        parser.add_argument("--timezone", default="UTC", help="IANA zone, e.g. Europe/Berlin")
        parser.add_argument(
            "--fiscal-start",
            type=_month,
            default=1,
            metavar="MONTH",
            help="Month the fiscal year starts, 1-12 (default 1 = January)",
        )
        parser.add_argument("--admin-email", required=True, help="The tenant's first admin")

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["admin_email"].strip().lower()
        try:
            validate_email(email)
        except ValidationError as exc:
            raise CommandError(f"--admin-email: {_messages(exc)}") from exc
        tenant = Tenant(
            slug=options["slug"],
            name=options["name"],
            currency=options["currency"].upper(),
            timezone=options["timezone"],
            fiscal_year_start_month=options["fiscal_start"],
        )
        try:
            tenant.full_clean()
        except ValidationError as exc:
            raise CommandError(_messages(exc)) from exc

        with transaction.atomic():
            tenant.save()
            user, password = self._admin_user(email)
            Membership.objects.create(user=user, tenant=tenant, role=Role.ADMIN)

        self.stdout.write(
            self.style.SUCCESS(f"Created tenant {tenant.slug} ({tenant.name}) at /t/{tenant.slug}/")
        )
        if password is None:
            self.stdout.write(f"Existing user {user.get_username()} is its admin.")
        else:
            self.stdout.write(f"Created admin user {user.get_username()}.")
            # Shown once and stored only as a hash; the admin changes it after signing in.
            self.stdout.write(f"Initial password (shown once): {password}")

    def _admin_user(self, email: str) -> tuple[Any, str | None]:
        user_model = get_user_model()
        matches = list(user_model.objects.filter(email__iexact=email)[:2])
        if len(matches) > 1:
            raise CommandError(
                f"Several users have the email {email}; make one of them admin in /admin/."
            )
        if matches:
            return matches[0], None
        if user_model.objects.filter(**{f"{user_model.USERNAME_FIELD}__iexact": email}).exists():
            raise CommandError(f"The username {email} is taken by a user with another email.")
        password = secrets.token_urlsafe(12)
        user = user_model.objects.create_user(
            **{user_model.USERNAME_FIELD: email}, email=email, password=password
        )
        return user, password
