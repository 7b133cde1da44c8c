"""What a calculation run found, for the people who must act on it: each issue with its payee,
deal, reason and how to fix it; the payees credited much but paid nothing, with the likely
reason; and, for finance's home, the open months' latest runs. Reads only, constant queries.

The flag rule (`credited_but_unpaid`), per period P (a run's period, or one open month):
- credited = the payee's credits in P's months (reversals not counted); earnings = the
  `earnings` of their current payee-period results in those months (before clawbacks, draws
  and adjustments);
- the bar is the median credited of P's paid payees (earnings above zero), so it follows the
  tenant's own scale and currency; with nobody paid in P there is no scale, and every credited
  payee is held to the floor of one cent;
- a payee credited at least the bar who earned 0.00 is flagged, unless nothing could be due
  yet: every credit covered by a plan whose components all pay at the end of a quarter or year
  that closes after P. The likely reason is read from their plan assignments (none in P; none
  covering some credit dates; two covering one) or, when a plan covers every credit, the plan's
  gates, filters or tiers paid nothing.
"""

from __future__ import annotations

import datetime
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, OuterRef, Subquery, Sum

from spm.crm.models import Deal
from spm.org.models import Period, PeriodKind, PeriodStatus, Person

from .models import (
    RESULT_STATUSES,
    AssignmentPeriod,
    CalculationRun,
    Credit,
    CreditBuild,
    CreditKind,
    PayeePeriodResult,
    PlanVersionComponent,
    RunStatus,
)
from .selectors import latest_credit_builds
from .services.runs import MAX_ISSUES_KEPT, months_of

ZERO = Decimal("0.00")
FLOOR = Decimal("0.01")  # the bar when nobody in the period was paid: any credit at all
ISSUES_SHOWN = 1000  # a page of more is unreadable; the rest follow once these are fixed


def _admin(page: str) -> str:
    """Where a page is in the admin's menu, as its breadcrumbs say it."""
    return f"Compensation \u203a {page}"


ASSIGNMENTS = _admin("Plan assignments")

# -- issues ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fix:
    """How to fix an issue: what to do, in words, and the page where it is done."""

    text: str
    view: str = ""  # a URL name taking no arguments
    query: str = ""  # its query string (filters, prefilled fields)


@dataclass
class RunIssue:
    """One issue of a run (or of its months' crediting), ready to read and act on."""

    number: int  # the page's anchor: #issue-<number>
    source: str  # "calculation" or "crediting"
    severity: str  # "error": money may be missing until fixed; "warning": worth a look
    code: str
    title: str
    reason: str
    fix: Fix
    period: str
    payee: Person | None = None
    deal: Deal | None = None
    plan: str = ""
    component: str = ""
    credit_date: datetime.date | None = None
    amount: Decimal | None = None

    @property
    def anchor(self) -> str:
        return f"issue-{self.number}"


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


def _engine_issue(number: int, raw: dict, people: dict, deals: dict, credits: dict) -> RunIssue:
    payee = people.get(_int(raw.get("payee_id")))
    deal_id = _int(raw.get("deal_id"))
    credit = credits.get(_int(raw.get("credit_id")))
    if deal_id is None and credit is not None:
        deal_id = credit[2]
    deal = deals.get(deal_id)
    if payee is None and deal is not None:
        payee = deal.owner
    code = str(raw.get("code") or "")
    day = credit[0] if credit is not None else None
    key = str(raw.get("period") or "")
    return RunIssue(
        number=number, source="calculation", severity=str(raw.get("severity") or "warning"),
        code=code, title=TITLES.get(code, code.replace("_", " ").capitalize()),
        reason=str(raw.get("message") or ""), period=key, payee=payee, deal=deal,
        plan=str(raw.get("plan") or ""), component=str(raw.get("component") or ""),
        credit_date=day, amount=credit[1] if credit is not None else None,
        fix=fix_for(code=code, payee=payee, deal=deal, deal_id=deal_id, period_key=key,
                    day=day, message=str(raw.get("message") or "")),
    )


def _build_issue(number: int, raw: dict, build: CreditBuild, deals: dict) -> RunIssue:
    deal_id = _int(raw.get("deal_id"))
    deal = deals.get(deal_id)
    payee = deal.owner if deal is not None else None
    code = str(raw.get("code") or "")
    key = f"{build.period.start_date:%Y-%m}"
    message = str(raw.get("message") or "")
    return RunIssue(
        number=number, source="crediting", severity=str(raw.get("severity") or "warning"),
        code=code, title=TITLES.get(code, code.replace("_", " ").capitalize()), reason=message,
        period=key, payee=payee, deal=deal,
        fix=fix_for(code=code, payee=payee, deal=deal, deal_id=deal_id, period_key=key,
                    day=None, message=message),
    )


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


@dataclass
class RunReview:
    """A run's page: its issues (errors first) and the payees credited but not paid."""

    run: CalculationRun
    issues: list[RunIssue]
    builds: list[CreditBuild]
    kept_from_engine: int  # how many of the engine's issues the run kept
    not_shown: int = 0  # issues past ISSUES_SHOWN, left off the page
    flags: list[Flag] = field(default_factory=list)
    latest: CalculationRun | None = None  # the run holding the period's results now

    @property
    def engine_issues_left_out(self) -> int:
        counted = self.run.inputs.get("issue_counts") if isinstance(self.run.inputs, dict) \
            else None
        if not isinstance(counted, dict):
            return 0
        from_builds = sum(len(b.issues) for b in self.builds)
        return max(sum(int(v) for v in counted.values()) - from_builds
                   - self.kept_from_engine, 0)


def run_builds(run: CalculationRun) -> list[CreditBuild]:
    """The credit builds a run read (recorded by the run; for older runs, the latest ones)."""
    ids = run.inputs.get("credit_builds") if isinstance(run.inputs, dict) else None
    if isinstance(ids, list):
        return list(CreditBuild.objects.filter(pk__in=[i for i in ids if isinstance(i, int)])
                    .select_related("period").order_by("period__start_date"))
    return latest_credit_builds(months=months_of(run.period))


def run_review(*, run: CalculationRun) -> RunReview:
    """Everything a run's page shows, in a constant number of queries."""
    builds = run_builds(run)
    raw_engine = [i for i in run.issues if isinstance(i, dict)]
    raw_builds = [(b, i) for b in builds for i in b.issues if isinstance(i, dict)]
    credit_ids = {c for c in (_int(i.get("credit_id")) for i in raw_engine) if c is not None}
    credits = {pk: (day, amount, deal_id) for pk, day, amount, deal_id in
               Credit.objects.filter(pk__in=credit_ids)
               .values_list("pk", "credit_date", "amount", "deal_id")} if credit_ids else {}
    deal_ids = {d for d in (_int(i.get("deal_id")) for i in raw_engine) if d is not None}
    deal_ids |= {d for d in (_int(i.get("deal_id")) for _, i in raw_builds) if d is not None}
    deal_ids |= {c[2] for c in credits.values()}
    deals = {d.pk: d for d in Deal.objects.filter(pk__in=deal_ids).select_related("owner")} \
        if deal_ids else {}
    payee_ids = {p for p in (_int(i.get("payee_id")) for i in raw_engine) if p is not None}
    people = {p.pk: p for p in Person.objects.filter(pk__in=payee_ids)} if payee_ids else {}
    issues = [_engine_issue(0, raw, people, deals, credits) for raw in raw_engine]
    issues += [_build_issue(0, raw, build, deals) for build, raw in raw_builds]
    # Errors first, each group in the order found; numbered in the order shown.
    issues.sort(key=lambda i: i.severity != "error")
    for number, issue in enumerate(issues, start=1):
        issue.number = number
    review = RunReview(run=run, issues=issues[:ISSUES_SHOWN], builds=builds,
                       kept_from_engine=len(raw_engine),
                       not_shown=max(len(issues) - ISSUES_SHOWN, 0))
    review.latest = latest_result_run(period=run.period)
    if run.has_results:
        review.flags = credited_but_unpaid(periods=[run.period]).get(run.period.pk, [])
    return review


def latest_result_run(*, period: Period) -> CalculationRun | None:
    """The run of `period` whose results stand (a later one supersedes it)."""
    return (CalculationRun.objects.filter(period=period, status__in=RESULT_STATUSES)
            .order_by("-requested_at", "-pk").first())


# -- credited but not paid -------------------------------------------------------------------


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


# -- finance's home --------------------------------------------------------------------------


@dataclass
class MonthStatus:
    """An open month, the latest run that covers it, and how many payees are flagged in it."""

    month: Period
    run: CalculationRun | None
    flagged: int


@dataclass
class Attention:
    months: list[MonthStatus]
    open_months: int  # open months begun by today, also those not listed

    @property
    def flagged(self) -> int:
        return sum(m.flagged for m in self.months)

    @property
    def runs_with_errors(self) -> list[CalculationRun]:
        """The latest runs of the months listed whose results stand with errors."""
        runs = {m.run.pk: m.run for m in self.months
                if m.run is not None and m.run.status == RunStatus.SUCCEEDED_WITH_ERRORS}
        return list(runs.values())


#: Finance's home lists this many open months, the most recent first.
ATTENTION_MONTHS = 6


def finance_attention(*, today: datetime.date, limit: int = ATTENTION_MONTHS) -> Attention:
    """The open months begun by `today` (most recent first, `limit` of them), each with the
    latest run covering it and how many payees are flagged there. About ten queries, however
    many months, runs and payees."""
    covering = (CalculationRun.objects
                .filter(period__start_date__lte=OuterRef("start_date"),
                        period__end_date__gte=OuterRef("end_date"))
                .order_by("-requested_at", "-pk").values("pk")[:1])
    begun = (Period.objects.filter(kind=PeriodKind.MONTH, start_date__lte=today)
             .exclude(status=PeriodStatus.LOCKED))
    open_count = begun.aggregate(n=Count("pk"))["n"]
    months = list(begun.annotate(run_id=Subquery(covering)).order_by("-start_date")[:limit])
    runs = {r.pk: r for r in CalculationRun.objects.filter(
        pk__in=[m.run_id for m in months if m.run_id]).select_related("period", "requested_by")}
    flags = credited_but_unpaid(periods=months) if months else {}
    return Attention(
        months=[MonthStatus(month=m, run=runs.get(m.run_id), flagged=len(flags.get(m.pk, [])))
                for m in months],
        open_months=open_count)


__all__ = [
    "MAX_ISSUES_KEPT",
    "Attention",
    "Fix",
    "Flag",
    "RunIssue",
    "RunReview",
    "credited_but_unpaid",
    "finance_attention",
    "fix_for",
    "run_review",
]
