"""Reads over plans, assignments and credits, shaped for pages and for the engine: plan
versions as the engine's dataclasses, and credits, assignments and cancellations of a period as
the engine's input frames (docs/plans.md), each in a constant number of queries."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

import numpy as np
import pandas as pd
from django.db.models import OuterRef, QuerySet, Subquery

from compensation.crediting import RATE_SCALE, convert_cents, rate_units
from compensation.engine.calendar import Calendar
from compensation.engine.plans import PlanVersion as EnginePlan
from compensation.plan_documents import dump_plan, load_plan
from compensation.plan_rows import ComponentRows, version_to_engine
from spm.org.models import Period, PeriodKind, Person
from spm.tenancy.context import require_active_tenant

from .models import (
    AssignmentPeriod,
    CompPlan,
    Credit,
    CreditBuild,
    CreditKind,
    DealCancellation,
    MboScore,
    PlanAssignment,
    PlanVersion,
    PlanVersionComponent,
    VersionStatus,
    window_label,
)

# -- plan versions ---------------------------------------------------------------------------


def component_rows_of(version: PlanVersion) -> list[ComponentRows]:
    """The version's components in order, each with its parts (five queries in all)."""
    links = (PlanVersionComponent.objects.filter(version=version)
             .select_related("component")
             .prefetch_related("component__tiers", "component__curve_points",
                               "component__milestones", "component__caps")
             .order_by("position", "pk"))
    return [ComponentRows.of(link.component) for link in links]


def plan_version_to_engine(*, version: PlanVersion) -> EnginePlan:
    """The version as the engine's dataclass; a published one is read back from the document
    frozen when it was published (one query fewer per component, and never different)."""
    if version.is_published and version.document:
        return load_plan(version.document)
    return version_to_engine(version, component_rows_of(version))


def plan_version_document(*, version: PlanVersion) -> str:
    """The version as a YAML plan document (docs/plans.md)."""
    if version.is_published and version.document:
        return version.document
    return dump_plan(plan_version_to_engine(version=version))


def plan_version_by_number(*, plan_code: str, number: int) -> PlanVersion | None:
    return (PlanVersion.objects.select_related("plan")
            .filter(plan__code=plan_code, number=number).first())


def versions_in_force(*, plan: CompPlan, first: datetime.date,
                      last: datetime.date) -> list[PlanVersion]:
    """Published versions of `plan` in force on some day from `first` to `last` (inclusive)."""
    return list(PlanVersion.objects.in_force_between(first, last)
                .filter(plan=plan, status=VersionStatus.PUBLISHED)
                .select_related("plan").order_by("valid_from"))


def version_in_force(*, plan: CompPlan, on: datetime.date) -> PlanVersion | None:
    found = versions_in_force(plan=plan, first=on, last=on)
    return found[0] if found else None


def assignment_on(*, person: Person, on: datetime.date) -> PlanAssignment | None:
    return (PlanAssignment.objects.select_related("plan")
            .valid_on(on).filter(person=person).first())


def plans_for_person(*, person: Person, period: Period) -> dict[str, EnginePlan]:
    """The plan versions that pay `person` in `period`, as the engine's dataclasses keyed as in
    the assignment frame (two versions when the plan or its version changes mid-period)."""
    version_ids = (AssignmentPeriod.objects.filter(assignment__person=person,
                                                   **_months_of(period))
                   .values_list("version_id", flat=True).distinct())
    versions = PlanVersion.objects.select_related("plan").filter(pk__in=list(version_ids))
    return {v.engine_key: plan_version_to_engine(version=v)
            for v in sorted(versions, key=lambda v: (v.valid_from, v.pk))}


def engine_plans(*, versions: Iterable[PlanVersion]) -> dict[str, EnginePlan]:
    return {v.engine_key: plan_version_to_engine(version=v) for v in versions}


# -- engine frames ---------------------------------------------------------------------------


def period_key(day: datetime.date) -> str:
    """The engine's key of the fiscal month starting on `day` ("2026-03")."""
    return f"{day.year:04d}-{day.month:02d}"


def months_of(period: Period) -> list[Period]:
    """The fiscal months inside `period`, in order (the month itself for a month)."""
    if period.kind == PeriodKind.MONTH:
        return [period]
    return list(Period.objects.filter(kind=PeriodKind.MONTH, start_date__gte=period.start_date,
                                      end_date__lte=period.end_date).order_by("start_date"))


def _months_of(period: Period, prefix: str = "period__") -> dict[str, object]:
    if period.kind == PeriodKind.MONTH:
        return {f"{prefix}pk": period.pk} if prefix else {"pk": period.pk}
    return {f"{prefix}kind": PeriodKind.MONTH, f"{prefix}start_date__gte": period.start_date,
            f"{prefix}end_date__lte": period.end_date}


def engine_calendar(*, periods: Iterable[Period]) -> Calendar:
    """The fiscal years holding `periods`, in the tenant's fiscal calendar."""
    tenant = require_active_tenant()
    years = [p.fiscal_year for p in periods]
    return Calendar.fiscal(min(years), max(years), tenant.fiscal_year_start_month)


def _cents(values: Iterable[object]) -> np.ndarray:
    return np.array([int(v.scaleb(2)) for v in values], dtype=np.int64)  # type: ignore[attr-defined]


def credits_frame(*, period: Period, include_reversals: bool = False) -> pd.DataFrame:
    """The credits of `period` (every month in it) in the engine's credit columns.

    Reversals are left out unless asked for: the engine takes them as cancellations (see
    cancellations_frame), which is how it claws back the earnings they reverse.
    """
    credits = Credit.objects.filter(**_months_of(period))
    if not include_reversals:
        credits = credits.filter(kind=CreditKind.CREDIT)
    columns = ["credit_id", "payee_id", "deal_id", "month_start", "credit_date", "amount",
               "units", "margin", "deal_amount", "exchange_rate", "product_line", "deal_type",
               "close_date", "role", "kind"]
    records = credits.order_by("pk").values_list(
        "pk", "payee_id", "deal_id", "period__start_date", "credit_date", "amount", "units",
        "margin", "deal__amount", "exchange_rate", "deal__product_line", "deal__deal_type",
        "deal__close_date", "role", "kind")
    raw = pd.DataFrame.from_records(records, columns=columns)
    margin_known = raw["margin"].notna().to_numpy()
    # The whole deal in the tenant currency, at the rate its credits were converted at.
    rates = [RATE_SCALE if r is None else rate_units(r) for r in raw["exchange_rate"]]
    deal_amount = convert_cents(_cents(raw["deal_amount"]), rates)
    frame = pd.DataFrame({
        "credit_id": raw["credit_id"].astype(np.int64),
        "payee_id": raw["payee_id"].astype(np.int64),
        "deal_id": raw["deal_id"].astype(np.int64),
        "period": [period_key(d) for d in raw["month_start"]],
        "credit_date": pd.to_datetime(raw["credit_date"]),
        "amount_cents": _cents(raw["amount"]),
        "units": raw["units"].astype(np.int64),
        "margin_cents": pd.array(
            [int(v.scaleb(2)) if k else None for v, k in zip(raw["margin"], margin_known,
                                                            strict=True)], dtype="Int64"),
        "deal_amount_cents": deal_amount.astype(np.int64),
        "product_line": raw["product_line"].astype(object),
        "deal_type": raw["deal_type"].astype(object),
        "is_new_logo": (raw["deal_type"] == "new").astype(bool),
        "close_date": pd.to_datetime(raw["close_date"]),
        "role": raw["role"].astype(object),
        "kind": raw["kind"].astype(object),
    })
    return frame


def assignments_frame(*, period: Period) -> pd.DataFrame:
    """The engine's assignment table for every month of `period`: one row per assignment,
    month and plan version, with the month's target and its proration by days.

    A year of 10,000 payees is 120,000 rows, so they are read as integers and dates in bulk
    (binary COPY on PostgreSQL) and keyed to months and versions from two small queries.
    """
    from django.db.models import BigIntegerField, F
    from django.db.models.functions import Cast, Round

    from compensation import bulk

    shares = AssignmentPeriod.objects.filter(**_months_of(period)).annotate(
        person=F("assignment__person_id"),
        target_c=Cast(Round(F("target_incentive") * 100), BigIntegerField()))
    raw = bulk.read_frame(shares, {
        "id": bulk.INT, "person": bulk.INT, "period_id": bulk.INT, "version_id": bulk.INT,
        "target_c": bulk.INT, "days": bulk.INT, "period_days": bulk.INT,
        "valid_from": bulk.DATE, "valid_to": bulk.DATE})
    raw = raw.sort_values(["person", "valid_from", "id"], kind="stable").reset_index(drop=True)
    months = dict(Period.objects.filter(pk__in=raw["period_id"].unique().tolist())
                  .values_list("pk", "start_date"))
    versions = {pk: f"{code} v{number}" for pk, code, number in PlanVersion.objects.filter(
        pk__in=raw["version_id"].unique().tolist()).values_list("pk", "plan__code", "number")}
    return pd.DataFrame({
        "payee_id": raw["person"].to_numpy(dtype=np.int64),
        "period": raw["period_id"].map({k: period_key(v) for k, v in months.items()})
        .to_numpy(dtype=object),
        "plan": raw["version_id"].map(versions).to_numpy(dtype=object),
        "target_incentive_cents": raw["target_c"].to_numpy(dtype=np.int64),
        "proration": (raw["days"].astype(str) + "/" + raw["period_days"].astype(str))
        .to_numpy(dtype=object),
        "valid_from": pd.to_datetime(raw["valid_from"]),
        "valid_to": pd.to_datetime(raw["valid_to"]),
    })


def versions_of_period(*, period: Period) -> QuerySet[PlanVersion]:
    """Plan versions the assignments of `period` use (for engine_plans)."""
    # order_by(): the model's default ordering would join people into the DISTINCT.
    ids = (AssignmentPeriod.objects.filter(**_months_of(period)).order_by()
           .values_list("version_id", flat=True).distinct())
    return PlanVersion.objects.select_related("plan").filter(pk__in=list(ids))


def cancellations_frame(*, period: Period) -> pd.DataFrame:
    """Deals cancelled or churned in `period`, as the engine's clawback events."""
    months = list(Period.objects.filter(**_months_of(period, prefix="")).values_list(
        "start_date", "end_date"))
    if not months:
        return pd.DataFrame(columns=["deal_id", "close_date", "cancel_date", "period"])
    first = min(s for s, _ in months)
    last = max(e for _, e in months)
    records = (DealCancellation.objects.filter(cancel_date__gte=first, cancel_date__lt=last)
               .order_by("deal_id")
               .values_list("deal_id", "deal__close_date", "cancel_date"))
    raw = pd.DataFrame.from_records(records, columns=["deal_id", "close_date", "cancel_date"])
    return pd.DataFrame({
        "deal_id": raw["deal_id"].astype(np.int64),
        "close_date": pd.to_datetime(raw["close_date"]),
        "cancel_date": pd.to_datetime(raw["cancel_date"]),
        "period": [period_key(d.replace(day=1)) for d in raw["cancel_date"]],
    })


def mbo_scores_frame(*, period: Period) -> pd.DataFrame:
    """The engine's mbo_scores table for every window of the fiscal year of `period` (its months,
    quarters and the year itself), in one query: score_pct as the exact Decimal entered."""
    rows = list(MboScore.objects.filter(period__fiscal_year=period.fiscal_year)
                .order_by("payee_id", "component__code", "period__start_date",
                          "period__end_date")
                .values_list("payee_id", "component__code", "period__kind",
                             "period__fiscal_year", "period__number", "period__start_date",
                             "score_pct"))
    # A year has 17 windows at most, so each label is made once, not once per score.
    label = {key: window_label(Period(kind=key[0], fiscal_year=key[1], number=key[2],
                                      start_date=key[3]))
             for key in {r[2:6] for r in rows}}
    windows = [label[r[2:6]] for r in rows]
    return pd.DataFrame({
        "payee_id": np.array([r[0] for r in rows], dtype=np.int64),
        "component": np.array([r[1] for r in rows], dtype=object),
        "window": np.array(windows, dtype=object),
        "score_pct": np.array([r[6] for r in rows], dtype=object),
    })


# -- pages -----------------------------------------------------------------------------------


def credits_of(*, period: Period, payee: Person | None = None) -> QuerySet[Credit]:
    credits = Credit.objects.filter(**_months_of(period)).select_related(
        "deal", "payee", "rule", "rolled_up_from")
    if payee is not None:
        credits = credits.filter(payee=payee)
    return credits.order_by("credit_date", "pk")


def latest_credit_builds(*, months: Iterable[Period]) -> list[CreditBuild]:
    """The latest credit build of each of `months` (the one whose credits a month holds now),
    in month order; months never credited are left out (one query)."""
    latest = (CreditBuild.objects.filter(period=OuterRef("pk")).order_by("-built_at", "-pk")
              .values("pk")[:1])
    ids = (Period.objects.filter(pk__in=[m.pk for m in months])
           .annotate(build_id=Subquery(latest)).filter(build_id__isnull=False)
           .values("build_id"))
    return list(CreditBuild.objects.filter(pk__in=ids).select_related("period")
                .order_by("period__start_date"))


def severity_counts(issues: Iterable[dict]) -> dict[str, int]:
    """How many issues there are of each severity: {"error": n, "warning": m}."""
    counts = {"error": 0, "warning": 0}
    for issue in issues:
        severity = str(issue.get("severity") or "warning")
        counts[severity] = counts.get(severity, 0) + 1
    return counts
