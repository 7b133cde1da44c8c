"""Reads for each role's home page: what the member's cards show, and only what exists."""

from __future__ import annotations

import calendar
import datetime
from typing import Any

from django.db.models import QuerySet

from compensation.models import PayCycleStatus, PayeePeriodResult
from compensation.pay_pages import cycles_for_home
from compensation.run_review import finance_attention
from quotas.models import Quota
from spm.onboarding.checklist import setup_checklist
from spm.org.models import Person, Team
from spm.org.selectors import (
    manager_chain,
    people_visible_to,
    person_for_user,
    team_of_person,
    teams_led_by,
)
from spm.tenancy.models import Membership, Role, Tenant

#: A manager's home lists this many of their people; the count says how many there are in all.
TEAM_LIST_LIMIT = 25


def _quota_and_statement_flags(
    *, role: str, me: Person | None, people: QuerySet[Person]
) -> dict[str, bool]:
    """Whether a rep's or manager's quota and statement cards have something to link to, so
    they never say "nothing yet" while there is (EXISTS: constant cost)."""
    if role == Role.MANAGER:
        return {"has_team_quotas": Quota.objects.filter(person__in=people).exists()}
    if me is None:
        return {"has_quota": False, "has_statements": False}
    return {
        "has_quota": Quota.objects.filter(person=me).exists(),
        "has_statements": PayeePeriodResult.objects.filter(payee=me).exists(),
    }


def home_cards(
    *, tenant: Tenant, membership: Membership, user: Any, today: datetime.date
) -> dict[str, Any]:
    """Everything the member's home page shows, by role; the people counted and listed are the
    ones the member may see today."""
    me = person_for_user(user=user)
    people = people_visible_to(membership=membership, on=today)
    cards: dict[str, Any] = {"me": me, "today": today, "people_count": people.count()}
    if me is not None:
        cards["my_team"] = team_of_person(person=me, on=today)
        chain = manager_chain(person=me, on=today)
        cards["my_manager"] = chain[0] if chain else None
    if membership.role == Role.ADMIN:
        cards["team_count"] = Team.objects.count()
        cards["fiscal_year_start"] = calendar.month_name[tenant.fiscal_year_start_month]
        cards["checklist"] = setup_checklist(tenant=tenant)
    if membership.role in (Role.REP, Role.MANAGER):
        cards.update(_quota_and_statement_flags(role=membership.role, me=me, people=people))
    if membership.role == Role.FINANCE:
        cards["attention"] = finance_attention(today=today)
        cards["pay_waiting"] = cycles_for_home(
            statuses=(PayCycleStatus.IN_REVIEW, PayCycleStatus.APPROVED))
        cards["pay_exported"] = cycles_for_home(statuses=(PayCycleStatus.PAID,))
    if membership.role == Role.MANAGER:
        reports = people.exclude(pk=me.pk) if me is not None else people.none()
        cards["reports"] = list(reports.order_by("name")[:TEAM_LIST_LIMIT])
        cards["reports_count"] = cards["people_count"] - (1 if me is not None else 0)
        cards["managed_teams"] = list(teams_led_by(person=me)) if me is not None else []
    return cards
