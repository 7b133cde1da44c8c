"""What a calculation run found, for the people who must act on it: each issue (the run's and
its months' crediting's) with its payee, deal, reason and how to fix it, the payees credited
much but paid nothing (`compensation.unpaid`), and, for finance's home, the open months' latest
runs. Reads only, in a constant number of queries.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, OuterRef, Subquery

from spm.crm.models import Deal
from spm.org.models import Period, PeriodKind, PeriodStatus, Person

from .fixes import TITLES, Fix, fix_for
from .models import RESULT_STATUSES, CalculationRun, Credit, CreditBuild, RunStatus
from .selectors import latest_credit_builds, months_of
from .services.runs import MAX_ISSUES_KEPT
from .unpaid import Flag, credited_but_unpaid

ISSUES_SHOWN = 1000  # a page of more is unreadable; the rest follow once these are fixed


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
    "Flag",
    "RunIssue",
    "RunReview",
    "finance_attention",
    "run_review",
]
