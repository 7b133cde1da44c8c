"""Reads for the plan pages: a payee's plan version written for a person (with their quota and
target incentive), who holds which version, and who has not accepted theirs."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from compensation.models import (
    PlanAcceptance,
    PlanAssignment,
    PlanReminder,
    PlanVersion,
    VersionStatus,
)
from compensation.plan_text import WINDOWS_PER_YEAR, ComponentText, component_text
from compensation.selectors import plan_version_to_engine
from quotas.selectors.letters import QuotaLetter, published_plans_of, quota_letter
from spm.org.models import Period, PeriodKind, Person
from spm.tenancy.dating import overlapping_q


@dataclass(frozen=True)
class HeldVersion:
    """A published version `person` is (or was, or will be) paid on, and their acceptance."""

    version: PlanVersion
    assignment: PlanAssignment
    acceptance: PlanAcceptance | None


@dataclass(frozen=True)
class PlanPage:
    person: Person
    assignment: PlanAssignment
    version: PlanVersion
    acceptance: PlanAcceptance | None
    components: list[ComponentText]
    quota: QuotaLetter | None
    held: list[HeldVersion]
    reminders: list[PlanReminder]

    @property
    def target_incentive(self) -> Decimal:
        return self.assignment.target_incentive

    @property
    def accepted(self) -> bool:
        return self.acceptance is not None

    @property
    def starts(self) -> datetime.date:
        """The first day this person is paid on this version."""
        assert self.version.valid_from is not None
        return max(self.version.valid_from, self.assignment.valid_from)

    @property
    def ends(self) -> datetime.date | None:
        """The day after the last day paid on it (None = open)."""
        ends = [d for d in (self.version.valid_to, self.assignment.valid_to) if d is not None]
        return min(ends) if ends else None

    @property
    def last_day(self) -> datetime.date | None:
        return None if self.ends is None else self.ends - datetime.timedelta(days=1)


def _assignments_overlapping(version: PlanVersion) -> Q:
    return Q(plan_id=version.plan_id) & overlapping_q(version.valid_from, version.valid_to)


def versions_held(*, person: Person) -> list[HeldVersion]:
    """Every published version of every plan the person is assigned to, over the days of the
    assignment, earliest first (three queries)."""
    assignments = list(PlanAssignment.objects.filter(person=person).select_related("plan")
                       .order_by("valid_from"))
    if not assignments:
        return []
    versions = list(PlanVersion.objects.filter(
        plan_id__in={a.plan_id for a in assignments}, status=VersionStatus.PUBLISHED,
    ).select_related("plan").order_by("valid_from", "pk"))
    accepted = {a.version_id: a for a in PlanAcceptance.objects.filter(
        person=person, version__in=versions).select_related("accepted_by")}
    held = []
    for version in versions:
        assert version.valid_from is not None
        for assignment in assignments:
            if assignment.plan_id != version.plan_id:
                continue
            if (assignment.valid_to is None or assignment.valid_to > version.valid_from) and (
                    version.valid_to is None or version.valid_to > assignment.valid_from):
                held.append(HeldVersion(version=version, assignment=assignment,
                                        acceptance=accepted.get(version.pk)))
                break
    return held


def _current(held: list[HeldVersion], on: datetime.date) -> HeldVersion | None:
    """The version paid on `on`, else the next to start, else the last one held."""
    def covers(h: HeldVersion) -> bool:
        # A published version always has a start.
        starts = max(h.version.valid_from or h.assignment.valid_from, h.assignment.valid_from)
        ends = [d for d in (h.version.valid_to, h.assignment.valid_to) if d is not None]
        return starts <= on and (not ends or on < min(ends))
    for h in held:
        if covers(h):
            return h
    upcoming = [h for h in held if (h.version.valid_from or on) > on]
    if upcoming:
        return upcoming[0]
    return held[-1] if held else None


def _quota_for(person: Person, on: datetime.date) -> tuple[QuotaLetter | None, Period | None]:
    """The person's quota letter of the fiscal year containing `on`, and that month."""
    month = (Period.objects.filter(kind=PeriodKind.MONTH, start_date__lte=on, end_date__gt=on)
             .first())
    if month is None:
        return None, None
    for plan in published_plans_of(person=person):
        if plan.fiscal_year == month.fiscal_year:
            return quota_letter(plan=plan, person=person, on=on), month
    return None, month


def _window_label(month: Period | None, cadence: str) -> str:
    if month is None:
        return ""
    if cadence == "year":
        return f"FY{month.fiscal_year}"
    if cadence == "quarter":
        return f"FY{month.fiscal_year} Q{(month.number - 1) // 3 + 1}"
    return f"{month.start_date:%b %Y}"


def _window_quota(letter: QuotaLetter | None, month: Period | None, cadence: str
                  ) -> Decimal | None:
    """The quota of the window of `cadence` containing `month`: the month's own quota, its
    quarter's, or the year's; None when the person has none."""
    if letter is None:
        return None
    if cadence == "year":
        return letter.annual
    if month is None:
        return letter.annual / WINDOWS_PER_YEAR.get(cadence, 1)
    if cadence == "quarter":
        label = f"Q{(month.number - 1) // 3 + 1}"
        return dict(letter.quarters).get(label)
    return next((amount for period, amount in letter.months if period.pk == month.pk), None)


def plan_page(*, person: Person, on: datetime.date,
              version_id: int | None = None) -> PlanPage | None:
    """The person's plan as they read it: the version in force on `on` (or the one asked for,
    when they hold it), None when they are on no published plan version."""
    held = versions_held(person=person)
    chosen = next((h for h in held if h.version.pk == version_id), None) if version_id else None
    chosen = chosen or _current(held, on)
    if chosen is None:
        return None
    # Show money for the quota in force when the version starts, if that is later than today.
    assert chosen.version.valid_from is not None
    day = max(on, chosen.version.valid_from, chosen.assignment.valid_from)
    if chosen.version.valid_to is not None and day >= chosen.version.valid_to:
        day = chosen.version.valid_to - datetime.timedelta(days=1)
    letter, month = _quota_for(person, day)
    engine = plan_version_to_engine(version=chosen.version)
    # The quota plan holds bookings quotas: units and margin components are measured against
    # quotas of their own, so their tiers are shown as percentages only.
    texts = [
        component_text(c, annual_quota=letter.annual if letter and booked else None,
                       window_quota=_window_quota(letter, month, c.period) if booked else None,
                       target_incentive=chosen.assignment.target_incentive,
                       window_label=_window_label(month, c.period))
        for c in engine.components
        for booked in (c.measure == "amount",)
    ]
    reminders = list(PlanReminder.objects.filter(person=person, version=chosen.version,
                                                 read_at__isnull=True).order_by("-sent_at"))
    return PlanPage(person=person, assignment=chosen.assignment, version=chosen.version,
                    acceptance=chosen.acceptance, components=texts, quota=letter, held=held,
                    reminders=reminders)


# -- finance: who holds what, who has not accepted ----------------------------------------------


@dataclass(frozen=True)
class PersonPlanRow:
    person: Person
    held: list[HeldVersion]

    @property
    def pending(self) -> int:
        return sum(1 for h in self.held if h.acceptance is None)


def plan_people(*, person_ids: set[int] | None) -> list[PersonPlanRow]:
    """Everyone visible (None = all) who holds a plan, with each version they hold and whether
    they accepted it (four queries, whatever the number of people)."""
    assignments = PlanAssignment.objects.select_related("person", "plan").order_by(
        "person__name", "valid_from")
    if person_ids is not None:
        assignments = assignments.filter(person_id__in=person_ids)
    by_person: dict[int, list[PlanAssignment]] = defaultdict(list)
    people: dict[int, Person] = {}
    for a in assignments:
        by_person[a.person_id].append(a)
        people[a.person_id] = a.person
    if not people:
        return []
    versions = list(PlanVersion.objects.filter(
        plan_id__in={a.plan_id for rows in by_person.values() for a in rows},
        status=VersionStatus.PUBLISHED).select_related("plan").order_by("valid_from", "pk"))
    accepted = {(a.person_id, a.version_id): a for a in PlanAcceptance.objects.filter(
        person_id__in=people, version__in=versions)}
    rows = []
    for person_id, person in people.items():
        held = []
        for version in versions:
            for a in by_person[person_id]:
                if a.plan_id == version.plan_id and _overlap(a, version):
                    held.append(HeldVersion(version=version, assignment=a,
                                            acceptance=accepted.get((person_id, version.pk))))
                    break
        if held:
            rows.append(PersonPlanRow(person=person, held=held))
    return rows


def _overlap(a: PlanAssignment, v: PlanVersion) -> bool:
    assert v.valid_from is not None
    return ((a.valid_to is None or a.valid_to > v.valid_from)
            and (v.valid_to is None or v.valid_to > a.valid_from))


@dataclass(frozen=True)
class VersionAcceptance:
    version: PlanVersion
    accepted: list[PlanAcceptance]
    missing: list[Person]
    last_reminded: dict[int, datetime.datetime]

    @property
    def total(self) -> int:
        return len(self.accepted) + len(self.missing)

    @property
    def missing_rows(self) -> list[tuple[Person, datetime.datetime | None]]:
        """Each person who has not accepted, with when they were last reminded."""
        return [(p, self.last_reminded.get(p.pk)) for p in self.missing]


def acceptance_by_version(*, on: datetime.date) -> list[VersionAcceptance]:
    """Published versions in force on `on` or later, each with who accepted it and who, being
    on it, has not (four queries)."""
    versions = list(PlanVersion.objects.filter(status=VersionStatus.PUBLISHED)
                    .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=on))
                    .select_related("plan").order_by("plan__code", "number"))
    if not versions:
        return []
    assignments = list(PlanAssignment.objects.filter(
        plan_id__in={v.plan_id for v in versions}).select_related("person"))
    acceptances = list(PlanAcceptance.objects.filter(version__in=versions)
                       .select_related("person", "accepted_by"))
    reminded: dict[tuple[int, int], datetime.datetime] = {}
    for person_id, version_id, sent_at in PlanReminder.objects.filter(
            version__in=versions).values_list("person_id", "version_id", "sent_at"):
        key = (person_id, version_id)
        reminded[key] = max(sent_at, reminded.get(key, sent_at))
    out = []
    for version in versions:
        done = [a for a in acceptances if a.version_id == version.pk]
        done_ids = {a.person_id for a in done}
        on_it: dict[int, Person] = {}
        for a in assignments:
            if a.plan_id == version.plan_id and _overlap(a, version):
                on_it.setdefault(a.person_id, a.person)
        missing = sorted((p for pid, p in on_it.items() if pid not in done_ids),
                         key=lambda p: p.name)
        out.append(VersionAcceptance(
            version=version, accepted=done, missing=missing,
            last_reminded={p.pk: reminded[(p.pk, version.pk)] for p in missing
                           if (p.pk, version.pk) in reminded}))
    return out


def people_on_version(*, version: PlanVersion) -> list[Person]:
    """People assigned to the version's plan on some day the version is in force."""
    ids = (PlanAssignment.objects.filter(_assignments_overlapping(version))
           .values_list("person_id", flat=True))
    return list(Person.objects.filter(pk__in=ids).order_by("name"))
