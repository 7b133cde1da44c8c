"""People credited much but paid nothing in a period, with the likely reason. Reads only.

The rule (`credited_but_unpaid`), per period P (a run's period, or one open month):
- credited = the payee's credits in P's months (reversals not counted); earnings = the
  `earnings` of their current payee-period results in those months (before clawbacks, draws
  and adjustments);
- the bar is the median credited of P's paid payees (credited and earning above zero), half-up
  to the cent, so it follows the tenant's own scale and currency; with nobody paid in P there is
  no scale, and every credited payee is held to the floor of one cent;
- a payee credited at least the bar who earned 0.00 is flagged, unless nothing could be due
  yet: every credit covered by a plan whose components all pay at the end of a quarter or year
  that closes after P. The likely reason is read from their plan assignments (none in P; none
  covering some credit dates; two covering one) or, when a plan covers every credit, the plan's
  gates, filters or tiers paid nothing.
"""

from __future__ import annotations

import datetime
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.db.models import Sum

from spm.org.models import Period, PeriodKind

from .fixes import ASSIGNMENTS, Fix
from .models import AssignmentPeriod, Credit, CreditKind, PayeePeriodResult, PlanVersionComponent

ZERO = Decimal("0.00")
FLOOR = Decimal("0.01")  # the bar when nobody in the period was paid: any credit at all


@dataclass
class Flag:
    """A payee credited at least the period's bar who earned nothing in it, and why."""

    period: Period
    payee_id: int
    name: str
    credited: Decimal
    earnings: Decimal
    bar: Decimal
    reason: str = ""  # "no_assignment", "outside_dates", "overlap", "gates"
    explanation: str = ""
    fix: Fix = field(default_factory=lambda: Fix(""))


def _closes_in(cadence: str, month: Period) -> bool:
    """Whether a window of `cadence` ends with fiscal `month` (and is paid in it)."""
    if cadence == "quarter":
        return month.number % 3 == 0
    if cadence == "year":
        return month.number == 12
    return True


def _months_in(periods: Sequence[Period]) -> dict[int, list[Period]]:
    """The fiscal months of each of `periods` (one query)."""
    start = min(p.start_date for p in periods)
    end = max(p.end_date for p in periods)
    months = list(Period.objects.filter(kind=PeriodKind.MONTH, start_date__gte=start,
                                        end_date__lte=end).order_by("start_date"))
    return {p.pk: [m for m in months if p.start_date <= m.start_date and m.end_date <= p.end_date]
            for p in periods}


def credited_but_unpaid(*, periods: Sequence[Period]) -> dict[int, list[Flag]]:
    """For each of `periods` (by id): the payees credited at least the bar who earned nothing
    there, with the likely reason, largest credit first (the rule: module docstring). Six
    queries however many periods and payees."""
    if not periods:
        return {}
    months_of_period = _months_in(periods)
    month_ids = {m.pk for months in months_of_period.values() for m in months}
    credited: dict[tuple[int, int], Decimal] = {}
    names: dict[int, str] = {}
    for payee_id, name, month_id, amount in (
        Credit.objects.filter(period_id__in=month_ids, kind=CreditKind.CREDIT).order_by()
        .values_list("payee_id", "payee__name", "period_id").annotate(amount=Sum("amount"))
    ):
        credited[payee_id, month_id] = amount or ZERO
        names[payee_id] = name
    earned: dict[tuple[int, int], Decimal] = {}
    for payee_id, month_id, amount in (
        PayeePeriodResult.objects.filter(period_id__in=month_ids).order_by()
        .values_list("payee_id", "period_id").annotate(amount=Sum("earnings"))
    ):
        earned[payee_id, month_id] = amount or ZERO

    candidates: dict[int, list[Flag]] = {}
    for period in periods:
        ids = [m.pk for m in months_of_period[period.pk]]
        payees = {p for p, m in credited if m in ids} | {p for p, m in earned if m in ids}
        totals = {p: (sum((credited.get((p, m), ZERO) for m in ids), ZERO),
                      sum((earned.get((p, m), ZERO) for m in ids), ZERO)) for p in payees}
        paid = [c for c, e in totals.values() if e > 0 and c > 0]
        bar = Decimal(statistics.median(paid)).quantize(FLOOR, ROUND_HALF_UP) if paid else FLOOR
        candidates[period.pk] = sorted(
            (Flag(period=period, payee_id=p, name=names.get(p, ""), credited=c, earnings=e,
                  bar=bar) for p, (c, e) in totals.items() if c >= max(bar, FLOOR) and e == 0),
            key=lambda f: (-f.credited, f.name))
    flagged = {f.payee_id for flags in candidates.values() for f in flags}
    if not flagged:
        return {p.pk: [] for p in periods}
    return _explained(candidates, months_of_period, flagged, month_ids)


def _explained(candidates: dict[int, list[Flag]], months_of_period: dict[int, list[Period]],
               flagged: set[int], month_ids: set[int]) -> dict[int, list[Flag]]:
    """Each flag's likely reason; those whose plan pays nothing before a later window closes
    are dropped (three queries)."""
    shares: dict[tuple[int, int], list[tuple[datetime.date, datetime.date, int, str]]] = {}
    for person_id, month_id, valid_from, valid_to, version_id, plan in (
        AssignmentPeriod.objects.filter(assignment__person_id__in=flagged,
                                        period_id__in=month_ids)
        .values_list("assignment__person_id", "period_id", "valid_from", "valid_to",
                     "version_id", "version__plan__name")
    ):
        shares.setdefault((person_id, month_id), []).append(
            (valid_from, valid_to, version_id, plan))
    versions = {v for rows in shares.values() for _, _, v, _ in rows}
    cadences: dict[int, set[str]] = {}
    for version_id, cadence in (
        PlanVersionComponent.objects.filter(version_id__in=versions)
        .values_list("version_id", "component__period")
    ):
        cadences.setdefault(version_id, set()).add(cadence)
    dates: dict[tuple[int, int], list[datetime.date]] = {}
    for person_id, month_id, day in (
        Credit.objects.filter(payee_id__in=flagged, period_id__in=month_ids,
                              kind=CreditKind.CREDIT).order_by("credit_date")
        .values_list("payee_id", "period_id", "credit_date").distinct()
    ):
        dates.setdefault((person_id, month_id), []).append(day)

    out: dict[int, list[Flag]] = {}
    for period_id, flags in candidates.items():
        months = months_of_period[period_id]
        kept = []
        for flag in flags:
            if _explain(flag, months, shares, cadences, dates):
                kept.append(flag)
        out[period_id] = kept
    return out


def _explain(flag: Flag, months: list[Period], shares: dict, cadences: dict[int, set[str]],
             dates: dict) -> bool:
    """Set the flag's reason; False when nothing could be due yet (a window still open)."""
    person = flag.payee_id
    held = [(m, s) for m in months for s in shares.get((person, m.pk), [])]
    prefill = urlencode({"person": person, "valid_from": months[0].start_date.isoformat()})
    assign = Fix(f"Assign a plan to {flag.name} covering {flag.period}: {ASSIGNMENTS} (an "
                 "admin), or the assignments import; then recalculate.",
                 "tenant_admin:compensation_planassignment_add", prefill)
    if not held:
        flag.reason = "no_assignment"
        flag.explanation = f"No plan assignment in {flag.period}."
        flag.fix = assign
        return True
    uncovered: list[datetime.date] = []
    doubled: list[datetime.date] = []
    for month in months:
        spans = shares.get((person, month.pk), [])
        for day in dates.get((person, month.pk), []):
            covering = [s for s in spans if s[0] <= day < s[1]]
            if not covering:
                uncovered.append(day)
            elif len({s[2] for s in covering}) > 1:  # one version twice is not ambiguous
                doubled.append(day)
    spans_text = ", ".join(dict.fromkeys(
        f"{a:%d %b %Y} to {b - datetime.timedelta(days=1):%d %b %Y}" for _, (a, b, _, _) in held))
    if uncovered:
        flag.reason = "outside_dates"
        flag.explanation = (f"Plan assignment ({spans_text}) does not cover credits dated "
                            f"{_days(uncovered)}.")
        flag.fix = Fix(f"Extend {flag.name}'s plan assignment, or add one, to cover "
                       f"{_days(uncovered)}: {ASSIGNMENTS}; then recalculate.",
                       "tenant_admin:compensation_planassignment_add",
                       urlencode({"person": person,
                                  "valid_from": uncovered[0].replace(day=1).isoformat()}))
        return True
    if doubled:
        flag.reason = "overlap"
        flag.explanation = f"Two plan assignments cover {_days(doubled)}."
        flag.fix = Fix(f"End one of {flag.name}'s overlapping plan assignments: "
                       f"{ASSIGNMENTS}; then recalculate.",
                       "tenant_admin:compensation_planassignment_changelist")
        return True
    paying = any(_closes_in(cadence, month) for month, s in held
                 for cadence in cadences.get(s[2], {"month"}))
    if not paying:
        return False  # every component pays when a later quarter or year closes
    plans = ", ".join(dict.fromkeys(s[3] for _, s in held))
    flag.reason = "gates"
    flag.explanation = (f"On {plans} for every credit, yet nothing earned: the plan's gates, "
                        "filters or tiers paid nothing on these credits (a minimum attainment or "
                        "deal size, a product or deal-type filter, a 0% tier, a cap).")
    flag.fix = Fix("Open the statement to see each line's explanation; if the plan is wrong "
                   "for this person, change their assignment.", "compensation:statement-list",
                   urlencode({"period": flag.period.pk}))
    return True


def _days(days: Iterable[datetime.date]) -> str:
    unique = sorted(set(days))
    shown = ", ".join(f"{d:%d %b %Y}" for d in unique[:3])
    return shown + (f" and {len(unique) - 3} more" if len(unique) > 3 else "")
