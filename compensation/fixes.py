"""How to fix what a calculation run or crediting found: each issue code's title, and a fix in
words with the page where it is done (a URL name taking no arguments, and its query string)."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from spm.crm.models import Deal
from spm.org.models import Person


def _admin(page: str) -> str:
    """Where a page is in the admin's menu, as its breadcrumbs say it."""
    return f"Compensation \u203a {page}"


ASSIGNMENTS = _admin("Plan assignments")


@dataclass(frozen=True)
class Fix:
    """How to fix an issue: what to do, in words, and the page where it is done."""

    text: str
    view: str = ""  # a URL name taking no arguments
    query: str = ""  # its query string (filters, prefilled fields)


TITLES = {
    "unassigned_credit": "Credit with no plan",
    "ambiguous_assignment": "Credit covered by two plans",
    "cancelled_before_close": "Cancelled before it closed",
    "already_clawed_back": "Already clawed back",
    "no_quota": "No quota",
    "no_mbo_score": "No MBO score",
    "missing_rate": "No exchange rate",
    "splits_not_100": "Splits do not add up to 100%",
    "territory_without_owner": "Territory without an owner",
    "cancelled_before_credit": "Cancelled before its credit date",
}


def _name(person: Person | None) -> str:
    return str(person) if person is not None else "the payee"


def _deal_name(deal: Deal | None, deal_id: Any) -> str:
    return deal.external_id if deal is not None else (f"deal {deal_id}" if deal_id else "the deal")


def _month_text(period_key: str) -> str:
    """'2026-03' as 'March 2026'; anything else as it is."""
    try:
        return datetime.date.fromisoformat(f"{period_key}-01").strftime("%B %Y")
    except (TypeError, ValueError):
        return str(period_key or "")


_RATE_DATE = re.compile(r"on or before (\d{4}-\d{2}-\d{2})")


def _rate_date(message: str, deal: Deal | None) -> str:
    # Crediting names the credit date in its message; the deal's close date is the usual one.
    found = _RATE_DATE.search(message or "")
    if found:
        return found.group(1)
    return deal.close_date.isoformat() if deal is not None and deal.close_date else "its date"


def fix_for(*, code: str, payee: Person | None, deal: Deal | None, deal_id: Any,
            period_key: str, day: datetime.date | None, message: str) -> Fix:
    """The fix of an issue, by its code; an unknown code gets a general pointer."""
    who = _name(payee)
    deal_text = _deal_name(deal, deal_id)
    when = day.isoformat() if day is not None else _month_text(period_key)
    search = {"q": deal.external_id} if deal is not None else {}
    if code == "unassigned_credit":
        prefill = {"person": payee.pk} if payee is not None else {}
        if day is not None:
            prefill["valid_from"] = day.replace(day=1).isoformat()
        return Fix(f"Assign a plan to {who} covering {when}: {ASSIGNMENTS} "
                   "(an admin), or the assignments import; or extend the assignment they have. "
                   "Then recalculate.", "tenant_admin:compensation_planassignment_add",
                   urlencode(prefill))
    if code == "ambiguous_assignment":
        return Fix(f"End one of {who}'s plan assignments so that only one covers {when}: "
                   f"{ASSIGNMENTS}. Then recalculate.",
                   "tenant_admin:compensation_planassignment_changelist",
                   urlencode({"q": payee.employee_id or payee.name} if payee else {}))
    if code == "missing_rate":
        currency = deal.currency if deal is not None else "the deal's currency"
        on = _rate_date(message, deal)
        return Fix(f"Add an exchange rate for {currency} on {on} (or earlier): "
                   f"{_admin('Exchange rates')}; then recalculate the month.",
                   "tenant_admin:compensation_exchangerate_add",
                   urlencode({"currency": currency, "valid_from": on}
                             if deal is not None else {}))
    if code == "splits_not_100":
        return Fix(f"Correct the splits of {deal_text} so they add up to 100%: "
                   f"{_admin('Deal split sets')}; then recalculate the month.",
                   "tenant_admin:compensation_dealsplitset_changelist",
                   urlencode(search))
    if code in ("cancelled_before_close", "cancelled_before_credit"):
        return Fix(f"Check the cancellation date of {deal_text} against its close date and "
                   f"correct whichever is wrong: {_admin('Deal cancellations')}.",
                   "tenant_admin:compensation_dealcancellation_changelist", urlencode(search))
    if code == "already_clawed_back":
        return Fix(f"Nothing to do unless {deal_text} was cancelled twice by mistake: "
                   f"{_admin('Deal cancellations')}.",
                   "tenant_admin:compensation_dealcancellation_changelist", urlencode(search))
    if code == "no_quota":
        return Fix(f"Give {who} a quota for {_month_text(period_key)}: apply the year's quota "
                   "plan, or change their quota from its workspace.", "quotas:plan-list")
    if code == "no_mbo_score":
        return Fix(f"Enter {who}'s MBO score for the window ending {_month_text(period_key)}: "
                   "MBO scores (their manager, an admin or finance).", "compensation:mbo-list")
    if code == "territory_without_owner":
        return Fix(f"Give the territory an owner on the date of {deal_text}, or narrow the "
                   "crediting rule: Territories.", "territories:tree")
    return Fix("Read the reason, correct the data it names, then recalculate.")
