"""Reads for statements: a payee's period (its result, every line with its deal and rule, earnings
by component, year to date, draw balance) and what the open pipeline would earn if won.

The projection runs the same engine as a calculation run, for one payee, on the credits of the
fiscal year so far plus the payee's open deals closing in the period as if they were won today;
then once per open deal with only that deal added, so a rep sees what closing it would add at the
margin of where they stand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db.models import Count, QuerySet, Sum

from compensation.engine import EngineInputError, PlanInvalid, calculate
from compensation.models import (
    RESULT_STATUSES,
    AssignmentPeriod,
    CalculationRun,
    CreditKind,
    DrawBalance,
    LineItem,
    PayeePeriodResult,
)
from compensation.models import Credit as CreditRow
from compensation.run_inputs import quota_frame
from compensation.selectors import engine_plans, months_of, period_key
from spm.crm.models import Deal, DealStatus
from spm.org.models import Period, PeriodKind, Person
from spm.tenancy.models import Tenant

ZERO = Decimal("0.00")


@dataclass
class ComponentTotal:
    name: str
    amount: Decimal
    lines: int


@dataclass
class Statement:
    person: Person
    period: Period
    result: PayeePeriodResult | None
    run: CalculationRun | None
    lines: list[LineItem]
    by_component: list[ComponentTotal]
    total: Decimal
    ytd_total: Decimal
    ytd_credited: Decimal
    ytd_quota: Decimal | None
    draw_balance: Decimal | None

    @property
    def ytd_attainment(self) -> Decimal | None:
        if not self.ytd_quota:
            return None
        return self.ytd_credited / self.ytd_quota


def statement_lines(*, person: Person, period: Period) -> QuerySet[LineItem]:
    return (LineItem.objects.filter(payee=person, period_id__in=[m.pk for m in
                                                                 months_of(period)])
            .select_related("deal", "period", "component", "plan_version__plan", "credit",
                            "credit__rule")
            .order_by("period__start_date", "pk"))


def payee_statement(*, person: Person, period: Period) -> Statement:
    """The statement of `person` for `period` (a month, or the months of a quarter or year)."""
    months = months_of(period)
    results = list(PayeePeriodResult.objects.filter(payee=person, period__in=months)
                   .select_related("run", "plan_version__plan"))
    lines = list(statement_lines(person=person, period=period))
    total = sum((line.amount for line in lines), ZERO)
    by_component: dict[str, ComponentTotal] = {}
    for line in lines:
        name = (line.component.name or line.component.code) if line.component_id else \
            line.line_type.replace("_", " ").capitalize()
        entry = by_component.setdefault(name, ComponentTotal(name, ZERO, 0))
        entry.amount += line.amount
        entry.lines += 1
    year_start = Period.objects.filter(kind=PeriodKind.YEAR, fiscal_year=period.fiscal_year,
                                       ).values_list("start_date", flat=True).first()
    ytd = PayeePeriodResult.objects.filter(
        payee=person, period__kind=PeriodKind.MONTH,
        period__start_date__gte=year_start or period.start_date,
        period__end_date__lte=period.end_date,
    ).aggregate(total=Sum("total"), credited=Sum("credited"), quota=Sum("quota"))
    balance = (DrawBalance.objects.filter(payee=person, period__end_date__lte=period.end_date)
               .order_by("-period__end_date").values_list("balance", flat=True))
    latest = max(results, key=lambda r: r.run.finished_at or r.run.requested_at, default=None)
    return Statement(
        person=person, period=period, result=results[0] if len(results) == 1 else None,
        run=latest.run if latest else None, lines=lines,
        by_component=sorted(by_component.values(), key=lambda c: -c.amount),
        total=total, ytd_total=ytd["total"] or ZERO, ytd_credited=ytd["credited"] or ZERO,
        ytd_quota=ytd["quota"], draw_balance=sum(balance[:1], ZERO) if balance else None,
    )


def statement_rows(*, period: Period, person_ids: set[int] | None) -> list[dict]:
    """Per payee with results in `period`: name, credited, quota, total and line count."""
    results = PayeePeriodResult.objects.filter(period__in=months_of(period))
    if person_ids is not None:
        results = results.filter(payee_id__in=person_ids)
    return list(results.values("payee_id", "payee__name").annotate(
        credited=Sum("credited"), quota=Sum("quota"), total=Sum("total"),
        lines=Sum("line_count"), months=Count("pk")).order_by("payee__name", "payee_id"))


def periods_with_results() -> list[Period]:
    ids = PayeePeriodResult.objects.values_list("period_id", flat=True).distinct()
    return list(Period.objects.filter(pk__in=list(ids)).order_by("-start_date"))


def latest_runs(limit: int = 100, status: str | None = None) -> QuerySet[CalculationRun]:
    runs = CalculationRun.objects.select_related("period", "requested_by")
    if status is not None:
        runs = runs.filter(status=status)
    return runs.order_by("-requested_at", "-pk")[:limit]


def last_good_run(*, period: Period) -> CalculationRun | None:
    return (CalculationRun.objects.filter(period=period, status__in=RESULT_STATUSES)
            .order_by("-requested_at").first())


# ---- projection ----------------------------------------------------------------------------


@dataclass
class ProjectedDeal:
    deal: Deal
    amount: Decimal
    explanation: str


@dataclass
class WhatIf:
    """One open deal won alone at its current amount, every other open deal still open.

    `adds` is the change in the period's earnings, computed by the engine on the payee's real
    credits plus this deal, so tiers, accelerators and caps apply at the margin: it is not the
    deal's amount times a flat rate, and the what-ifs of several deals do not add up to the
    projection of winning them all.
    """

    deal: Deal
    adds: Decimal
    earnings: Decimal  # the period's earnings if this deal alone were won


@dataclass
class Projection:
    deals: list[ProjectedDeal] = field(default_factory=list)
    what_if: list[WhatIf] = field(default_factory=list)
    earned: Decimal = ZERO  # the period's earnings on won deals, recomputed now
    with_pipeline: Decimal = ZERO  # the same if every open deal closing in it were won
    problem: str = ""
    what_if_omitted: int = 0  # open deals past WHAT_IF_LIMIT, by close date, left unpriced

    @property
    def extra(self) -> Decimal:
        return self.with_pipeline - self.earned


# Each what-if is one engine run; a rep's pipeline for one period is rarely longer than this,
# and past it the page would wait on dozens of runs.
WHAT_IF_LIMIT = 25


def _cents(value: Decimal | None) -> int:
    return int(value.scaleb(2)) if value is not None else 0


def _credit_rows(person: Person, months: Sequence[Period]) -> list[dict]:
    keys = {m.pk: period_key(m.start_date) for m in months}
    rows = (CreditRow.objects.filter(payee=person, period__in=months, kind=CreditKind.CREDIT)
            .values_list("pk", "deal_id", "period_id", "credit_date", "amount", "units",
                         "margin", "deal__amount", "deal__product_line", "deal__deal_type",
                         "deal__close_date"))
    return [{"credit_id": pk, "payee_id": person.pk, "deal_id": deal, "period": keys[period],
             "credit_date": day, "amount_cents": _cents(amount), "units": units,
             "margin_cents": _cents(margin), "deal_amount_cents": _cents(deal_amount),
             "product_line": line, "deal_type": kind, "is_new_logo": kind == "new",
             "close_date": close}
            for pk, deal, period, day, amount, units, margin, deal_amount, line, kind, close
            in rows]


def _assignment_frame(person: Person, shares: Sequence[AssignmentPeriod],
                      keys: dict[int, str]) -> pd.DataFrame:
    """The engine's assignment rows for `person`'s plan shares of the year's months."""
    return pd.DataFrame({
        "payee_id": [person.pk] * len(shares),
        "period": [keys[s.period_id] for s in shares],
        "plan": [s.version.engine_key for s in shares],
        "target_incentive_cents": [_cents(s.target_incentive) for s in shares],
        "proration": [f"{s.days}/{s.period_days}" for s in shares],
        "valid_from": pd.to_datetime([s.valid_from for s in shares]),
        "valid_to": pd.to_datetime([s.valid_to for s in shares]),
    })


def _pipeline_rows(person: Person, open_deals: Sequence[Deal],
                   month_of: dict[str, Period]) -> list[dict]:
    """Open deals closing in the period's months as credit rows of their owner, in full."""
    return [{"credit_id": -deal.pk, "payee_id": person.pk, "deal_id": deal.pk,
             "period": period_key(deal.close_date.replace(day=1)),
             "credit_date": deal.close_date, "amount_cents": _cents(deal.amount),
             "units": deal.units, "margin_cents": _cents(deal.margin),
             "deal_amount_cents": _cents(deal.amount), "product_line": deal.product_line,
             "deal_type": deal.deal_type, "is_new_logo": deal.deal_type == "new",
             "close_date": deal.close_date}
            for deal in open_deals
            if period_key(deal.close_date.replace(day=1)) in month_of]


def _credit_frame(rows: list[dict]) -> pd.DataFrame:
    """Credit rows as the typed frame the engine reads."""
    credits = pd.DataFrame(rows, columns=list(_CREDIT_COLUMNS))
    credits = credits.astype({"amount_cents": np.int64, "units": np.int64,
                              "margin_cents": np.int64,
                              "deal_amount_cents": np.int64})
    credits["credit_date"] = pd.to_datetime(credits["credit_date"])
    credits["close_date"] = pd.to_datetime(credits["close_date"])
    credits["is_new_logo"] = credits["is_new_logo"].astype(bool)
    return credits


def _projected_lines(lines: pd.DataFrame, by_deal: dict[int, Deal]) -> list[ProjectedDeal]:
    """The lines the open deals earn when all are won (their credit ids are negative)."""
    if not len(lines):
        return []
    pipeline_lines = lines[lines["credit_id"].astype("Int64").fillna(0) < 0]
    return [ProjectedDeal(deal=by_deal[int(row.deal_id)],
                          amount=Decimal(int(row.amount_cents)).scaleb(-2),
                          explanation=str(row.explanation))
            for row in pipeline_lines.itertuples()]


def pipeline_projection(*, tenant: Tenant, person: Person, period: Period) -> Projection:
    """What `person`'s open deals closing in `period` would add at current plans and rates.

    Open deals in another currency are projected at face value in the tenant currency; their
    credit, split and roll-up rules are not applied (the owner is credited in full).
    """
    months = months_of(period)
    if not months:
        return Projection(problem="This period has no months.")
    year_months = [m for m in months_of(Period.objects.get(kind=PeriodKind.YEAR,
                                                           fiscal_year=period.fiscal_year))
                   if m.start_date < period.end_date]
    keys = {m.pk: period_key(m.start_date) for m in year_months}
    shares = list(AssignmentPeriod.objects.filter(assignment__person=person,
                                                  period__in=year_months)
                  .select_related("version__plan")
                  .order_by("valid_from", "pk"))
    if not shares:
        return Projection(problem=f"{person} is on no plan in {period}.")
    versions = {s.version.pk: s.version for s in shares}.values()
    plans = engine_plans(versions=versions)
    assignments = _assignment_frame(person, shares, keys)
    quotas = quota_frame(year_months)
    quotas = quotas[quotas["payee_id"] == person.pk]
    won = _credit_rows(person, year_months)
    first, last = months[0].start_date, months[-1].end_date
    open_deals = list(Deal.objects.filter(owner=person, status=DealStatus.OPEN,
                                          close_date__gte=first, close_date__lt=last)
                      .order_by("close_date", "pk"))
    month_of = {period_key(m.start_date): m for m in months}
    pipeline = _pipeline_rows(person, open_deals, month_of)
    from compensation.engine import Calendar

    calendar = Calendar.fiscal(period.fiscal_year, period.fiscal_year,
                               tenant.fiscal_year_start_month)
    written = {period_key(m.start_date) for m in months}

    def earnings(rows: list[dict]) -> tuple[int, pd.DataFrame]:
        result = calculate(plans=plans, credits=_credit_frame(rows), quotas=quotas,
                           assignments=assignments, calendar=calendar)
        mine = result.lines[result.lines["period"].astype(object).isin(written)]
        return int(mine["amount_cents"].sum()), mine

    alone: dict[int, int] = {}
    try:
        earned, _ = earnings(won)
        with_all, lines = earnings(won + pipeline)
        # One engine run per deal: the payee's real credits plus that deal only.
        for row in pipeline[:WHAT_IF_LIMIT]:
            alone[row["deal_id"]], _ = earnings([*won, row])
    except (EngineInputError, PlanInvalid) as exc:
        return Projection(problem=f"The projection cannot be computed: {exc}")
    by_deal = {deal.pk: deal for deal in open_deals}
    what_if = [WhatIf(deal=by_deal[pk], adds=Decimal(total - earned).scaleb(-2),
                      earnings=Decimal(total).scaleb(-2))
               for pk, total in alone.items()]
    return Projection(deals=_projected_lines(lines, by_deal), what_if=what_if,
                      earned=Decimal(earned).scaleb(-2),
                      with_pipeline=Decimal(with_all).scaleb(-2),
                      what_if_omitted=len(pipeline) - len(alone))


_CREDIT_COLUMNS = ("credit_id", "payee_id", "deal_id", "period", "credit_date", "amount_cents",
                   "units", "margin_cents", "deal_amount_cents", "product_line", "deal_type",
                   "is_new_logo", "close_date")
