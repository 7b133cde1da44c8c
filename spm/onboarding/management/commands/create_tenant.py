"""`manage.py create_tenant`: the platform operator's way to open a tenant with its first admin,
ready to use: fiscal periods for its history, this year and the next, and default sales stages."""

from __future__ import annotations

import argparse
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import transaction

from spm.onboarding.services import DEFAULT_PAST_YEARS, MAX_PAST_YEARS, tenant_prepare
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Membership, Role, Tenant


def _month(value: str) -> int:
    month = int(value)
    if not 1 <= month <= 12:
        raise ValueError(value)
    return month


def _past_years(value: str) -> int:
    if not value.isdigit() or int(value) > MAX_PAST_YEARS:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a number of years from 0 to {MAX_PAST_YEARS}"
        )
    return int(value)


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
        "reused; otherwise a user is created and its initial password printed once. The tenant "
        "gets fiscal periods for --past-years of history, the current and the next fiscal year, "
        "and a default set of sales stages (editable in its admin)."
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
        parser.add_argument(
            "--past-years",
            type=_past_years,
            default=DEFAULT_PAST_YEARS,
            metavar="YEARS",
            help=(
                "Fiscal years of history before the current one to create periods for, "
                f"0-{MAX_PAST_YEARS} (default {DEFAULT_PAST_YEARS})"
            ),
        )

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
        existing = Tenant.objects.filter(slug=tenant.slug).first()
        if existing is not None:
            # The same command run again (a deploy script, a retry) only makes sure the tenant
            # is ready; anything that would change it is refused rather than half applied.
            self._refuse_other_settings(existing, tenant)
            tenant = existing
        else:
            try:
                tenant.full_clean()
            except ValidationError as exc:
                raise CommandError(_messages(exc)) from exc

        with transaction.atomic():
            if existing is None:
                tenant.save()
            user, password = self._admin_user(email)
            self._make_admin(user, tenant)
            try:
                with tenant_context(tenant):
                    prepared = tenant_prepare(
                        tenant=tenant, past_years=options["past_years"], actor=user
                    )
            except ValidationError as exc:
                # e.g. existing periods drawn on another fiscal calendar; nothing is kept.
                raise CommandError(_messages(exc)) from exc

        if existing is None:
            self.stdout.write(self.style.SUCCESS(
                f"Created tenant {tenant.slug} ({tenant.name}) at /t/{tenant.slug}/"
            ))
        else:
            self.stdout.write(self.style.SUCCESS(
                f"Tenant {tenant.slug} ({tenant.name}) already exists with these settings; "
                "made sure it is ready."
            ))
        self.stdout.write(prepared.summary)
        self.stdout.write(
            f"The admin finishes setting it up from /t/{tenant.slug}/ (a checklist on the home "
            f"page) and can review these settings at /t/{tenant.slug}/setup/."
        )
        if password is None:
            self.stdout.write(f"Existing user {user.get_username()} is its admin.")
        else:
            self.stdout.write(f"Created admin user {user.get_username()}.")
            # Shown once and stored only as a hash; the admin changes it after signing in.
            self.stdout.write(f"Initial password (shown once): {password}")

    def _refuse_other_settings(self, existing: Tenant, wanted: Tenant) -> None:
        options = {
            "name": "--name",
            "currency": "--currency",
            "timezone": "--timezone",
            "fiscal_year_start_month": "--fiscal-start",
        }
        different = [
            f"{option} is {getattr(existing, field)!r}"
            for field, option in options.items()
            if getattr(existing, field) != getattr(wanted, field)
        ]
        if different:
            raise CommandError(
                f"A tenant with the slug {existing.slug} already exists ({'; '.join(different)})."
                f" Nothing was changed: choose another --slug, or change its settings at "
                f"/t/{existing.slug}/setup/."
            )
        if not existing.is_active:
            raise CommandError(
                f"The tenant {existing.slug} already exists and is deactivated; reactivate it "
                "in /admin/ first."
            )

    def _make_admin(self, user: Any, tenant: Tenant) -> None:
        membership = Membership.objects.filter(user=user, tenant=tenant).first()
        if membership is None:
            Membership.objects.create(user=user, tenant=tenant, role=Role.ADMIN)
        elif membership.role != Role.ADMIN or not membership.is_active:
            raise CommandError(
                f"{user.get_username()} is already a member of {tenant.slug} as "
                f"{membership.get_role_display()}{'' if membership.is_active else ' (inactive)'};"
                " change their membership in /admin/."
            )

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
