"""Accepting a plan version, and reminding those who have not: each write audited."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from compensation.models import PlanAcceptance, PlanReminder, PlanVersion
from compensation.plan_pages import people_on_version, versions_held
from spm.org.models import Person
from spm.tenancy.actors import acting_user
from spm.tenancy.history import record_author


@transaction.atomic
def plan_version_accept(*, person: Person, version: PlanVersion, actor: Any,
                        now: datetime.datetime | None = None) -> PlanAcceptance:
    """Record that `person` accepts exactly `version`; accepting again returns the first
    acceptance unchanged. Only the person themself accepts, and only a published version
    they are (or will be) paid on."""
    user = acting_user(actor)
    if user is None or person.user_id != user.pk:
        raise ValidationError("Only the person paid on a plan can accept it, signed in as "
                              "themself.")
    if not version.is_published:
        raise ValidationError(f"{version} is a draft; only a published version can be accepted.")
    if not any(h.version.pk == version.pk for h in versions_held(person=person)):
        raise ValidationError(f"{person} is not paid on {version}, so there is nothing to "
                              "accept.")
    existing = PlanAcceptance.objects.filter(person=person, version=version).first()
    if existing is not None:
        return existing
    acceptance = PlanAcceptance(person=person, version=version, fingerprint=version.fingerprint,
                                accepted_at=now or timezone.now(), accepted_by=user)
    record_author(acceptance, user)
    try:
        # A second click racing the first: the unique constraint decides, the first one stands.
        with transaction.atomic():
            acceptance.save()
    except IntegrityError:
        return PlanAcceptance.objects.get(person=person, version=version)
    # The reminders are answered: take them off the person's page.
    PlanReminder.objects.filter(person=person, version=version, read_at__isnull=True).update(
        read_at=acceptance.accepted_at)
    return acceptance


def _reminder_text(person: Person, version: PlanVersion, url: str) -> str:
    text = (f"Hello {person.name},\n\nYour compensation plan {version} "
            f"({version.plan.name}) is waiting for your acceptance. Please read it and accept "
            "it")
    return text + (f" here: {url}\n" if url else " on your plan page.\n")


@transaction.atomic
def plan_acceptance_remind(*, version: PlanVersion, actor: Any, url: str = "",
                           person_ids: Iterable[int] | None = None,
                           now: datetime.datetime | None = None) -> list[PlanReminder]:
    """Remind everyone on `version` who has not accepted it (or those of `person_ids` among
    them): one in-app reminder and one email each. Someone who has accepted is never
    reminded; a person without an email address gets the in-app reminder only."""
    user = acting_user(actor)
    if not version.is_published:
        raise ValidationError(f"{version} is a draft; nobody is asked to accept a draft.")
    accepted = set(PlanAcceptance.objects.filter(version=version)
                   .values_list("person_id", flat=True))
    missing = [p for p in people_on_version(version=version) if p.pk not in accepted]
    if person_ids is not None:
        wanted = set(person_ids)
        missing = [p for p in missing if p.pk in wanted]
    if not missing:
        raise ValidationError(f"Everyone on {version} has accepted it; nobody to remind.")
    sent_at = now or timezone.now()
    reminders = []
    for person in missing:
        message = _reminder_text(person, version, url)
        reminder = PlanReminder(person=person, version=version, message=message, sent_at=sent_at,
                                sent_by=user, emailed_to=person.email or "")
        record_author(reminder, user)
        reminder.save()
        reminders.append(reminder)
    # Mail last and after commit: a rolled-back reminder must not have been emailed.
    outgoing = [(r.emailed_to, r.message) for r in reminders if r.emailed_to]
    subject = f"Please accept your compensation plan {version}"

    def send() -> None:
        for address, message in outgoing:
            send_mail(subject, message, settings.DEFAULT_FROM_EMAIL, [address])
    transaction.on_commit(send)
    return reminders
