"""Calculation runs: load a period's inputs, run the engine, and replace its results at once.

A run of a month, quarter or year computes the fiscal year up to the period's end (quarterly
windows and year-to-date true-ups need the earlier months) and replaces the line items and
payee-period results of the months inside the period, in one transaction, under an advisory lock
per (tenant, month). A locked month is never rewritten. The run row records who, when, a
fingerprint of every input read, counts and the outcome; a failed run leaves the previous
results as they were.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import logging
import time
import traceback
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from compensation import bulk
from compensation.engine import (
    Calendar,
    EngineInputError,
    PlanInvalid,
    calculate,
)
from compensation.engine.inputs import columns_needed
from compensation.engine.plans import PlanVersion as EnginePlan
from compensation.models import (
    RESULT_STATUSES,
    Adjustment,
    AdjustmentStatus,
    CalculationRun,
    CreditBuild,
    Dispute,
    DrawBalance,
    LineItem,
    PayeePeriodResult,
    PlanVersion,
    PlanVersionComponent,
    RunScope,
    RunStatus,
)
from compensation.selectors import (
    assignments_frame,
    cancellations_frame,
    engine_plans,
    latest_credit_builds,
    mbo_scores_frame,
    period_key,
    severity_counts,
    versions_of_period,
)
from quotas.selectors import monthly_quotas
from spm.org.models import Period, PeriodKind
from spm.tenancy.actors import acting_user
from spm.tenancy.models import Tenant
from spm.tenancy.today import tenant_today

logger = logging.getLogger(__name__)

LOCK_TIMEOUT = "30s"  # a second run of the same month waits this long for the first one
NON_EARNING = ("clawback", "draw_advance", "draw_recovery", "guarantee", "adjustment")
DRAW_TYPES = ("draw_advance", "draw_recovery", "guarantee")
MAX_ISSUES_KEPT = 500


class PeriodLockedError(ValidationError):
    """The period (or a month inside it) is locked: its results are final."""


class RunNotInTransactionError(RuntimeError):
    """A run must hold its locks and write its results inside one transaction."""


# ---- what a run reads ---------------------------------------------------------------------


@dataclass
class RunInputs:
    """Everything the engine is given for one run, and the months whose results it replaces."""

    period: Period
    months: list[Period]  # the months the run writes
    year_months: list[Period]  # from the fiscal year's start to the period's end
    calendar: Calendar
    versions: list[PlanVersion]
    plans: dict[str, EnginePlan]
    credits: pd.DataFrame
    quotas: pd.DataFrame
    assignments: pd.DataFrame
    cancellations: pd.DataFrame
    opening_balances: pd.DataFrame
    adjustments: pd.DataFrame
    mbo_scores: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["payee_id", "component", "window", "score_pct"]))
    counts: dict[str, int] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """SHA-256 over every input table and plan version: equal inputs, equal fingerprint."""
        digest = hashlib.sha256()
        digest.update(f"{self.period.pk}|{','.join(str(m.pk) for m in self.months)}".encode())
        for version in self.versions:
            digest.update(f"|{version.pk}:{version.fingerprint}:{version.valid_from}:"
                          f"{version.valid_to}".encode())
        for name in ("credits", "quotas", "assignments", "cancellations", "opening_balances",
                     "adjustments", "mbo_scores"):
            frame: pd.DataFrame = getattr(self, name)
            digest.update(f"|{name}:{len(frame)}:{','.join(map(str, frame.columns))}".encode())
            if len(frame):
                # Hashed in their own dtypes: converting a million rows to objects first took
                # seconds. Each column's dtype is fixed by the reader, so equal inputs still
                # hash equally.
                hashed = pd.util.hash_pandas_object(frame, index=False)
                digest.update(hashed.to_numpy().tobytes())
        return digest.hexdigest()


def months_of(period: Period) -> list[Period]:
    if period.kind == PeriodKind.MONTH:
        return [period]
    return list(Period.objects.filter(kind=PeriodKind.MONTH, start_date__gte=period.start_date,
                                      end_date__lte=period.end_date).order_by("start_date"))


def _fiscal_year(period: Period) -> Period | None:
    return Period.objects.filter(kind=PeriodKind.YEAR, fiscal_year=period.fiscal_year).first()


def _quotas(months: Sequence[Period]) -> pd.DataFrame:
    """Each person's quota per month as known today, by the rule the attainment pages use, so
    a statement shows the quota and attainment the quota pages show."""
    chosen = monthly_quotas(months=months, known_on=tenant_today())
    keys = {m.pk: period_key(m.start_date) for m in months}
    return pd.DataFrame({
        "payee_id": np.array([k[0] for k in chosen], dtype=np.int64),
        "period": np.array([keys[k[1]] for k in chosen], dtype=object),
        "quota_cents": np.array([int(v.scaleb(2)) for v in chosen.values()], dtype=np.int64),
    })


def _opening_balances(first_month: Period) -> pd.DataFrame:
    """Draw balances carried in from the month before the fiscal year starts."""
    rows = (DrawBalance.objects.filter(period__kind=PeriodKind.MONTH,
                                       period__end_date=first_month.start_date)
            .values_list("payee_id", "component__code", "balance"))
    return pd.DataFrame({
        "payee_id": np.array([r[0] for r in rows], dtype=np.int64),
        "component": np.array([r[1] for r in rows], dtype=object),
        "balance_cents": np.array([int(r[2].scaleb(2)) for r in rows], dtype=np.int64),
    })


def _adjustments(months: Sequence[Period]) -> pd.DataFrame:
    rows = (Adjustment.objects.filter(period_id__in=[m.pk for m in months],
                                      status=AdjustmentStatus.APPROVED)
            .order_by("period_id", "payee_id", "pk")
            .values_list("pk", "payee_id", "period_id", "deal_id", "amount", "reason"))
    return pd.DataFrame({
        "adjustment_id": np.array([r[0] for r in rows], dtype=np.int64),
        "payee_id": np.array([r[1] for r in rows], dtype=np.int64),
        "period_id": np.array([r[2] for r in rows], dtype=np.int64),
        "deal_id": pd.array([r[3] for r in rows], dtype="Int64"),
        "amount_cents": np.array([int(r[4].scaleb(2)) for r in rows], dtype=np.int64),
        "reason": np.array([r[5] for r in rows], dtype=object),
    })


def _only(frame: pd.DataFrame, payee_ids: Collection[int] | None) -> pd.DataFrame:
    if payee_ids is None or not len(frame):
        return frame
    return frame[frame["payee_id"].isin(list(payee_ids))].reset_index(drop=True)


def run_inputs(*, tenant: Tenant, period: Period,
               payee_ids: Collection[int] | None = None) -> RunInputs:
    """Read every input of a run of `period` (a constant number of queries, credits by COPY).

    With `payee_ids`, only those payees' inputs: payees are independent in the engine, so their
    results are the ones a run of everyone would give them.
    """
    months = months_of(period)
    if not months:
        raise ValidationError(f"{period} has no fiscal months; generate the periods first.")
    year = _fiscal_year(period)
    if year is None:
        raise ValidationError(f"FY{period.fiscal_year} has no year period; generate the "
                              "periods first.")
    year_months = [m for m in months_of(year) if m.start_date < period.end_date]
    calendar = Calendar.fiscal(period.fiscal_year, period.fiscal_year,
                               tenant.fiscal_year_start_month)
    keys = {m.pk: period_key(m.start_date) for m in year_months}
    last_key = keys[year_months[-1].pk]

    assignments = _only(assignments_frame(period=year), payee_ids)
    assignments = assignments[assignments["period"] <= last_key].reset_index(drop=True)
    versions = list(versions_of_period(period=year).order_by("plan__code", "number"))
    used = set(assignments["plan"])
    versions = [v for v in versions if v.engine_key in used]
    plans = engine_plans(versions=versions)
    credits = bulk.read_credits(month_ids=list(keys), period_keys=keys,
                                needed=columns_needed(plans), payee_ids=payee_ids)
    cancellations = cancellations_frame(period=year)
    if len(cancellations):
        cancellations = cancellations[cancellations["period"] <= last_key]
        if payee_ids is not None:  # events follow the deals the payees hold credits for
            cancellations = cancellations[cancellations["deal_id"].isin(credits["deal_id"])]
    inputs = RunInputs(
        period=period, months=months, year_months=year_months, calendar=calendar,
        versions=versions, plans=plans, credits=credits,
        quotas=_only(_quotas(year_months), payee_ids), assignments=assignments,
        cancellations=cancellations.reset_index(drop=True),
        opening_balances=_only(_opening_balances(year_months[0]), payee_ids),
        adjustments=_only(_adjustments(months), payee_ids),
        mbo_scores=_only(mbo_scores_frame(period=year), payee_ids),
    )
    inputs.counts = {"credits": len(credits), "quotas": len(inputs.quotas),
                     "assignments": len(assignments), "cancellations": len(cancellations),
                     "adjustments": len(inputs.adjustments), "mbo_scores": len(inputs.mbo_scores),
                     "plan_versions": len(versions)}
    return inputs


# ---- the lock ------------------------------------------------------------------------------


def _lock_key(tenant_id: int, month_id: int) -> int:
    digest = hashlib.blake2b(f"comp-run:{tenant_id}:{month_id}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


def lock_months(*, tenant: Tenant, months: Sequence[Period], timeout: str = LOCK_TIMEOUT,
                ) -> None:
    """Hold a transaction-scoped advisory lock per (tenant, month) until the transaction ends.

    Locks are taken in month order so two runs over overlapping months cannot deadlock. A run
    still waiting after `timeout` fails with the database's lock-timeout error. No-op off
    PostgreSQL (SQLite serialises writers itself).
    """
    if not connection.in_atomic_block:
        raise RunNotInTransactionError("calculation runs lock their months inside a "
                                       "transaction (tenant_context opens one)")
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('lock_timeout')")
        (previous,) = cursor.fetchone()
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [timeout])
        for month in sorted(months, key=lambda m: m.start_date):
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_key(tenant.pk, month.pk)])
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])


# ---- writing results -----------------------------------------------------------------------


def _half_up_ratio(numerator: np.ndarray, denominator: np.ndarray, scale: int) -> np.ndarray:
    """round(numerator / denominator * scale) half away from zero; MISSING where den <= 0."""
    out = np.full(len(numerator), bulk.MISSING, dtype=np.int64)
    ok = denominator > 0
    num = numerator[ok].astype(object) * scale
    den = denominator[ok].astype(object)
    magnitude = (abs(num) * 2 + den) // (den * 2)
    values = np.where(num >= 0, magnitude, -magnitude)
    out[ok] = np.asarray(values, dtype=np.int64)
    return out


def _codes(values: pd.Series) -> tuple[np.ndarray, tuple[str, ...]]:
    """Codes and labels of a text column, missing values as ""; free for categorical columns."""
    if not isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object).astype("category")
    labels = [str(c) for c in values.cat.categories]
    codes = values.cat.codes.to_numpy(dtype=np.int64)
    if (codes < 0).any():
        blank = labels.index("") if "" in labels else len(labels)
        if blank == len(labels):
            labels.append("")
        codes = np.where(codes < 0, blank, codes)
    return codes, tuple(labels)


def _mapped(values: pd.Series, mapping: dict[Any, int]) -> np.ndarray:
    """mapping[value] per row as int64, MISSING where the value has no entry."""
    codes, labels = _codes(values)
    lookup = np.array([mapping.get(label, bulk.MISSING) for label in labels] + [bulk.MISSING],
                      dtype=np.int64)
    return lookup[codes]


@dataclass
class _Ids:
    month: dict[str, int]
    version: dict[str, int]
    component: dict[tuple[str, str], int]


def _component_ids(versions: Sequence[PlanVersion]) -> dict[tuple[str, str], int]:
    links = (PlanVersionComponent.objects.filter(version__in=list(versions))
             .select_related("version__plan", "component"))
    return {(link.version.engine_key, link.component.code): link.component_id for link in links}


def line_table(lines: pd.DataFrame, ids: _Ids) -> tuple[pd.DataFrame, list[bulk.Column]]:
    """Engine lines as LineItem columns for bulk.write_frame."""
    n = len(lines)
    measure = lines["measure"].astype(object).to_numpy()
    # Units are stored as whole numbers in the decimal columns; money as cents / 100.
    unit_scale = np.where(measure == "units", 100, 1)

    def scaled(name: str) -> pd.Series:
        values = lines[name]
        if values.isna().any():
            present = values.notna().to_numpy()
            raw = values.astype("Int64").fillna(0).to_numpy(dtype=np.int64) * unit_scale
            return pd.Series(pd.arrays.IntegerArray(raw, ~present))
        return pd.Series(values.to_numpy(dtype=np.int64) * unit_scale)

    cumulative, quota = lines["cumulative"], lines["quota"]
    has_ratio = (cumulative.notna() & quota.notna()).to_numpy()
    attainment = np.full(n, bulk.MISSING, dtype=np.int64)
    if has_ratio.any():
        attainment[has_ratio] = _half_up_ratio(
            cumulative[has_ratio].to_numpy(dtype=np.int64),
            quota[has_ratio].to_numpy(dtype=np.int64), 10**6)
    # Plan, component and period are categorical from the engine: map their few labels, then
    # index by code, instead of hashing a million (plan, component) pairs.
    plan_codes, plan_labels = _codes(lines["plan"])
    component_codes, component_labels = _codes(lines["component"])
    pair_lookup = np.array([[ids.component.get((plan, component), bulk.MISSING)
                             for component in component_labels] for plan in plan_labels],
                           dtype=np.int64).reshape(len(plan_labels), len(component_labels))
    component_of = (pair_lookup[plan_codes, component_codes] if n
                    else np.empty(0, dtype=np.int64))
    period_id = _mapped(lines["period"], ids.month)
    if (period_id == bulk.MISSING).any():
        raise ValueError("a line falls in a month outside the run's fiscal year")
    table = pd.DataFrame({
        "payee_id": lines["payee_id"].to_numpy(dtype=np.int64),
        "period_id": period_id,
        "plan_version_id": _mapped(lines["plan"], ids.version),
        "component_id": component_of,
        "credit_id": lines["credit_id"].astype("Int64").to_numpy(),
        "deal_id": lines["deal_id"].astype("Int64").to_numpy(),
        "basis": scaled("basis"),
        "cumulative": scaled("cumulative"),
        "quota": scaled("quota"),
        "attainment": attainment,
        "tier": lines["tier"].astype("Int64").to_numpy(),
        "amount": lines["amount_cents"].to_numpy(dtype=np.int64),
        "rounding_carry": lines["rounding_carry_cents"].to_numpy(dtype=np.int64),
        "capped": lines["capped_cents"].to_numpy(dtype=np.int64),
        "explanation_text": lines["explanation"].astype(object).to_numpy(),
    })
    columns = [
        bulk.Column("payee_id", bulk.INT), bulk.Column("period_id", bulk.INT),
        bulk.Column("plan_version_id", bulk.NULLABLE_INT),
        bulk.Column("component_id", bulk.NULLABLE_INT),
        bulk.Column("credit_id", bulk.NULLABLE_INT), bulk.Column("deal_id", bulk.NULLABLE_INT),
        bulk.Column("basis", bulk.CENTS), bulk.Column("cumulative", bulk.NULLABLE_CENTS),
        bulk.Column("quota", bulk.NULLABLE_CENTS),
        bulk.Column("attainment", bulk.NULLABLE_MICROS),
        bulk.Column("tier", bulk.NULLABLE_INT), bulk.Column("amount", bulk.CENTS),
        bulk.Column("rounding_carry", bulk.CENTS), bulk.Column("capped", bulk.CENTS),
    ]
    for name in ("window", "kind", "line_type", "measure", "rate"):
        codes, labels = _codes(lines[name])
        table[name] = codes
        columns.append(bulk.Column(name, bulk.CODE, labels=labels))
    columns.append(bulk.Column("explanation_text", bulk.TEXT))
    return table, columns


def adjustment_lines(adjustments: pd.DataFrame, keys: dict[int, str]) -> pd.DataFrame:
    """Approved adjustments as lines, so a statement's total stays the sum of its lines."""
    n = len(adjustments)
    return pd.DataFrame({
        "payee_id": adjustments["payee_id"].to_numpy(),
        "period": adjustments["period_id"].map(keys).to_numpy(dtype=object),
        "window": adjustments["period_id"].map(keys).to_numpy(dtype=object),
        "plan": [None] * n, "component": [None] * n, "kind": [""] * n,
        "line_type": ["adjustment"] * n,
        "deal_id": adjustments["deal_id"].to_numpy(), "credit_id": pd.array([None] * n,
                                                                           dtype="Int64"),
        "measure": ["amount"] * n, "basis": np.zeros(n, dtype=np.int64),
        "cumulative": pd.array([None] * n, dtype="Int64"),
        "quota": pd.array([None] * n, dtype="Int64"),
        "tier": pd.array([None] * n, dtype="Int64"), "rate": [""] * n,
        "amount_cents": adjustments["amount_cents"].to_numpy(dtype=np.int64),
        "rounding_carry_cents": np.zeros(n, dtype=np.int64),
        "capped_cents": np.zeros(n, dtype=np.int64),
        "explanation": [f"adjustment: {reason}" for reason in adjustments["reason"]],
    })


def result_table(lines: pd.DataFrame, inputs: RunInputs, ids: _Ids,
                 keys: dict[int, str]) -> pd.DataFrame:
    """One row per payee and written month: credited, quota, target and the line sums."""
    written = set(keys.values())
    assignments = inputs.assignments[inputs.assignments["period"].isin(written)]
    everyone = pd.concat([
        lines[["payee_id", "period"]].astype({"period": object}),
        assignments[["payee_id", "period"]],
    ], ignore_index=True).drop_duplicates().sort_values(["period", "payee_id"])
    everyone = everyone.reset_index(drop=True)
    index = pd.MultiIndex.from_frame(everyone)

    def sums(frame: pd.DataFrame, column: str) -> np.ndarray:
        if frame.empty:
            return np.zeros(len(everyone), dtype=np.int64)
        grouped = frame.groupby([frame["payee_id"], frame["period"].astype(object)],
                                sort=False)[column].sum()
        return grouped.reindex(index, fill_value=0).to_numpy(dtype=np.int64)

    line_type = lines["line_type"].astype(object)
    out = pd.DataFrame({"payee_id": everyone["payee_id"].to_numpy(dtype=np.int64),
                        "period_id": everyone["period"].map(ids.month).to_numpy(dtype=np.int64)})
    out["earnings"] = sums(lines[~line_type.isin(NON_EARNING)], "amount_cents")
    out["clawbacks"] = sums(lines[line_type == "clawback"], "amount_cents")
    out["adjustments"] = sums(lines[line_type == "adjustment"], "amount_cents")
    out["draw"] = sums(lines[line_type.isin(DRAW_TYPES)], "amount_cents")
    out["total"] = sums(lines, "amount_cents")
    counted = lines.assign(one=1)
    out["line_count"] = sums(counted, "one")
    credits = inputs.credits
    out["credited"] = sums(credits[credits["period"].isin(written)], "amount_cents")
    quotas = inputs.quotas[inputs.quotas["period"].isin(written)].drop_duplicates(
        ["payee_id", "period"])
    quota = quotas.set_index(["payee_id", "period"])["quota_cents"].reindex(index)
    out["quota"] = pd.array(quota.to_numpy(), dtype="Int64")
    present = quota.notna().to_numpy()
    out["attainment"] = np.full(len(out), bulk.MISSING, dtype=np.int64)
    if present.any():
        out.loc[present, "attainment"] = _half_up_ratio(
            out["credited"].to_numpy()[present], quota.to_numpy()[present].astype(np.int64),
            10**6)
    if len(assignments):
        share = assignments["proration"].str.split("/", expand=True).astype(np.int64)
        target = _half_up_ratio(assignments["target_incentive_cents"].to_numpy() * share[0]
                                .to_numpy(), share[1].to_numpy(), 1)
        shares = assignments.assign(target=target)
        out["target_incentive"] = sums(shares, "target")
        last_version = assignments.groupby(["payee_id", "period"], sort=False)["plan"].last()
        out["plan_version_id"] = pd.array(
            last_version.reindex(index).map(ids.version).to_numpy(), dtype="Int64")
    else:
        out["target_incentive"] = pd.array([None] * len(out), dtype="Int64")
        out["plan_version_id"] = pd.array([None] * len(out), dtype="Int64")
    return out


RESULT_COLUMNS = [
    bulk.Column("payee_id", bulk.INT), bulk.Column("period_id", bulk.INT),
    bulk.Column("plan_version_id", bulk.NULLABLE_INT), bulk.Column("credited", bulk.CENTS),
    bulk.Column("quota", bulk.NULLABLE_CENTS), bulk.Column("attainment", bulk.NULLABLE_MICROS),
    bulk.Column("target_incentive", bulk.NULLABLE_CENTS), bulk.Column("earnings", bulk.CENTS),
    bulk.Column("clawbacks", bulk.CENTS), bulk.Column("adjustments", bulk.CENTS),
    bulk.Column("draw", bulk.CENTS), bulk.Column("total", bulk.CENTS),
    bulk.Column("line_count", bulk.INT),
]


def _replace_results(*, tenant: Tenant, months: Sequence[Period],
                     payee_ids: Collection[int] | None = None) -> None:
    """Delete the months' lines and results (a dispute keeps its deal and period, not the line),
    or only those of `payee_ids`."""
    month_ids = [m.pk for m in months]
    disputes = Dispute.objects.filter(line_item__period_id__in=month_ids)
    if payee_ids is not None:
        disputes = disputes.filter(line_item__payee_id__in=sorted(payee_ids))
    disputes.update(line_item=None)
    # Row by row, Django's delete() would load a million lines to cascade nothing.
    where = f"tenant_id = %s AND period_id IN ({', '.join(['%s'] * len(month_ids))})"
    params: list[Any] = [tenant.pk, *month_ids]
    if payee_ids is not None:
        payees = sorted(payee_ids) or [0]
        where += f" AND payee_id IN ({', '.join(['%s'] * len(payees))})"
        params.extend(payees)
    for model in (LineItem, PayeePeriodResult):
        with connection.cursor() as cursor:
            cursor.execute(
                f'DELETE FROM "{model._meta.db_table}" WHERE {where}',  # noqa: S608
                params,
            )


def _write_balances(*, run: CalculationRun, balances: pd.DataFrame, month: Period,
                    ids: _Ids, payee_ids: Collection[int] | None = None) -> None:
    stale = DrawBalance.objects.filter(period=month)
    if payee_ids is not None:
        stale = stale.filter(payee_id__in=sorted(payee_ids))
    stale.delete()
    by_code = {code: component_id for (_, code), component_id in ids.component.items()}
    DrawBalance.objects.bulk_create([
        DrawBalance(payee_id=int(row.payee_id), component_id=by_code[row.component],
                    period=month, run=run, balance=Decimal(int(row.balance_cents)).scaleb(-2))
        for row in balances.itertuples() if row.component in by_code
    ])


# ---- the service ---------------------------------------------------------------------------


def _check_open(period: Period, months: Sequence[Period]) -> None:
    locked = [p for p in (period, *months) if p.is_locked]
    if locked:
        names = ", ".join(dict.fromkeys(str(p) for p in locked))
        raise PeriodLockedError(
            f"{names} is locked, so its results are final and a calculation cannot change "
            "them. Ask finance to unlock it first, or calculate an open period.")


def _issues(frame: pd.DataFrame) -> list[dict[str, Any]]:
    # Errors first, so thousands of warnings cannot push the ones that cost money out.
    errors_first = frame["severity"].astype(object).ne("error").to_numpy().argsort(kind="stable")
    kept = frame.iloc[errors_first].head(MAX_ISSUES_KEPT)
    return [{k: (None if pd.isna(v) else str(v) if not isinstance(v, int | str) else v)
             for k, v in row.items()} for row in kept.to_dict("records")]


def _issue_counts(found: pd.DataFrame, builds: Sequence[CreditBuild]) -> dict[str, int]:
    """Issues by severity, all of them (not only those kept), the builds' included."""
    counts = {"error": 0, "warning": 0}
    for severity, count in found["severity"].value_counts().items():
        counts[str(severity)] = counts.get(str(severity), 0) + int(count)
    for build in builds:
        for severity, count in severity_counts(build.issues).items():
            counts[severity] = counts.get(severity, 0) + count
    return counts


def calculation_run(
    *,
    tenant: Tenant,
    period: Period,
    actor: Any = None,
    payee_ids: Collection[int] | None = None,
    prepare: Callable[[Sequence[Period]], None] | None = None,
    strict: bool = False,
    after_lines: Callable[[CalculationRun], None] | None = None,
) -> CalculationRun:
    """Calculate `period` and replace the results of its months; returns the run.

    Reached through compensation.services.recompute, which builds the credits first (in
    `prepare`, called with the months once they are locked, inside the run's transaction).
    `payee_ids` recalculates only those payees and leaves everyone else's results as they are.

    Raises PeriodLockedError for a locked period (nothing is written). Any other failure is
    recorded on the run (status failed, with the error) and leaves earlier results untouched,
    or, when `strict`, is raised for the caller to roll back with its own work; a lock wait that
    times out is raised, so a task can retry it. `after_lines` is called once the new lines are
    written (tests use it to fail half-way).
    """
    if not connection.in_atomic_block:
        raise RunNotInTransactionError("run calculation_run inside tenant_context(tenant)")
    months = months_of(period)
    _check_open(period, months)
    now = timezone.now()
    run = CalculationRun.objects.create(
        period=period, status=RunStatus.RUNNING, requested_at=now, started_at=now,
        requested_by=acting_user(actor),
        scope=RunScope.FULL if payee_ids is None else RunScope.PAYEES,
    )
    started = time.perf_counter()
    try:
        with transaction.atomic():
            lock_months(tenant=tenant, months=months)
            # Locked between our check and the lock? The lock serialises runs, not finance.
            fresh = list(Period.objects.filter(pk__in=[p.pk for p in (period, *months)]))
            _check_open(period, fresh)
            if prepare is not None:
                prepare(months)
            _execute(run=run, tenant=tenant, period=period, payee_ids=payee_ids,
                     after_lines=after_lines, started=started)
    except PeriodLockedError:
        raise
    except Exception as exc:
        if strict or _is_lock_timeout(exc):
            raise
        run_failed(run=run, error=exc, seconds=time.perf_counter() - started)
    return run


def run_failed(*, run: CalculationRun, error: BaseException, seconds: float) -> None:
    """Record why a run failed; its months keep the results they had."""
    logger.warning("calculation run %s of %s failed: %s", run.pk, run.period, error)
    run.status = RunStatus.FAILED
    run.finished_at = timezone.now()
    run.error = _error_text(error)
    run.inputs = {**run.inputs, "seconds": round(seconds, 3)}
    run.save(update_fields=["status", "finished_at", "error", "inputs"])


def _is_lock_timeout(exc: BaseException) -> bool:
    return getattr(getattr(exc, "__cause__", None), "pgcode", None) == "55P03"


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, EngineInputError | PlanInvalid):
        return str(exc)
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return "".join(traceback.format_exception_only(exc)).strip()


@dataclass
class _Computed:
    lines: pd.DataFrame
    line_rows: bulk.PreparedWrite
    result_rows: bulk.PreparedWrite
    results: pd.DataFrame
    draw_balances: pd.DataFrame
    issues: pd.DataFrame
    seconds: float


def _compute(*, inputs: RunInputs, ids: _Ids, keys: dict[int, str],
             constants: dict[str, int], binary: bool) -> _Computed:
    """The engine and the rows to write, ready to send, from inputs alone (no database)."""
    mark = time.perf_counter()
    result = calculate(plans=inputs.plans, credits=inputs.credits, quotas=inputs.quotas,
                       assignments=inputs.assignments, calendar=inputs.calendar,
                       cancellations=inputs.cancellations if len(inputs.cancellations) else None,
                       opening_balances=inputs.opening_balances,
                       mbo_scores=inputs.mbo_scores if len(inputs.mbo_scores) else None)
    written = set(keys.values())
    lines = result.lines[result.lines["period"].astype(object).isin(written)]
    if len(inputs.adjustments):
        categorical = [c for c in lines.columns
                       if isinstance(lines[c].dtype, pd.CategoricalDtype)]
        lines = pd.concat([lines.astype(dict.fromkeys(categorical, object)),
                           adjustment_lines(inputs.adjustments, keys)], ignore_index=True)
    lines = lines.reset_index(drop=True)
    table, columns = line_table(lines, ids)
    results = result_table(lines, inputs, ids, keys)
    return _Computed(
        lines=lines,
        line_rows=bulk.prepare_write(LineItem, table, columns, constants=constants,
                                     binary=binary),
        result_rows=bulk.prepare_write(PayeePeriodResult, results, RESULT_COLUMNS,
                                       constants=constants, binary=binary),
        results=results, draw_balances=result.draw_balances, issues=result.issues,
        seconds=time.perf_counter() - mark)


PAYEES_PER_GROUP = 1000


def _payee_groups(inputs: RunInputs, per_group: int | None = None) -> list[RunInputs]:
    """The run's inputs split by payee into groups of PAYEES_PER_GROUP, in payee order.

    Every input is per payee except cancellations, which follow the deals: each group gets the
    cancellations of the deals it holds credits for, and the first group also those of deals
    nobody was credited with, so the engine still reports them.
    """
    frames = [inputs.credits, inputs.quotas, inputs.assignments, inputs.opening_balances,
              inputs.adjustments, inputs.mbo_scores]
    payees = np.unique(np.concatenate(
        [f["payee_id"].to_numpy(dtype=np.int64) for f in frames if len(f)]
        or [np.empty(0, dtype=np.int64)]))
    size = per_group or PAYEES_PER_GROUP
    if len(payees) <= size:
        return [inputs]
    cancellations = inputs.cancellations
    credited_deals = set(inputs.credits["deal_id"].dropna().astype(np.int64).tolist())
    groups = []
    for start in range(0, len(payees), size):
        members = payees[start:start + size]

        def mine(frame: pd.DataFrame, members: np.ndarray = members) -> pd.DataFrame:
            if not len(frame):
                return frame
            return frame[frame["payee_id"].isin(members)].reset_index(drop=True)

        credits = mine(inputs.credits)
        events = cancellations
        if len(cancellations):
            deals = cancellations["deal_id"]
            held = deals.isin(credits["deal_id"].dropna())
            if start == 0:
                held |= ~deals.isin(credited_deals)
            events = cancellations[held].reset_index(drop=True)
        groups.append(dataclasses.replace(
            inputs, credits=credits, quotas=mine(inputs.quotas),
            assignments=mine(inputs.assignments), cancellations=events,
            opening_balances=mine(inputs.opening_balances),
            adjustments=mine(inputs.adjustments), mbo_scores=mine(inputs.mbo_scores)))
    return groups


def _execute(*, run: CalculationRun, tenant: Tenant, period: Period,
             payee_ids: Collection[int] | None,
             after_lines: Callable[[CalculationRun], None] | None, started: float) -> None:
    timings: dict[str, float] = {}
    mark = time.perf_counter()
    inputs = run_inputs(tenant=tenant, period=period, payee_ids=payee_ids)
    timings["read"] = time.perf_counter() - mark

    keys = {m.pk: period_key(m.start_date) for m in inputs.months}
    ids = _Ids(month={period_key(m.start_date): m.pk for m in inputs.year_months},
               version={v.engine_key: v.pk for v in inputs.versions},
               component=_component_ids(inputs.versions))
    # Payees are independent in the engine, so the run computes them in groups on a worker
    # thread while this thread writes the groups already computed: PostgreSQL inserts one group
    # (waiting with the GIL released) while the engine works on the next, and the first group
    # computes while the old results are deleted. Only this thread touches the database, and
    # a failure anywhere rolls the whole transaction back.
    lines_written = results_written = total_cents = 0
    balances: list[pd.DataFrame] = []
    issues: list[pd.DataFrame] = []
    timings["compute"] = timings["write"] = 0.0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="comp-run") as pool:
        constants = {"tenant_id": tenant.pk, "run_id": run.pk}
        binary = connection.vendor == "postgresql"
        computing = [pool.submit(_compute, inputs=part, ids=ids, keys=keys,
                                 constants=constants, binary=binary)
                     for part in _payee_groups(inputs)]
        try:
            mark = time.perf_counter()
            _replace_results(tenant=tenant, months=inputs.months, payee_ids=payee_ids)
            timings["delete"] = time.perf_counter() - mark
            while computing:  # popped, so a written group's rows can be freed
                computed = computing.pop(0).result()
                timings["compute"] += computed.seconds
                mark = time.perf_counter()
                bulk.write_prepared(computed.line_rows)
                bulk.write_prepared(computed.result_rows)
                timings["write"] += time.perf_counter() - mark
                lines_written += len(computed.lines)
                results_written += len(computed.results)
                if len(computed.lines):
                    total_cents += int(computed.lines["amount_cents"].sum())
                balances.append(computed.draw_balances)
                issues.append(computed.issues)
        except BaseException:
            for future in computing:
                future.cancel()
            raise
    if after_lines is not None:
        after_lines(run)
    mark = time.perf_counter()
    _write_balances(run=run, balances=pd.concat(balances, ignore_index=True),
                    month=inputs.months[-1], ids=ids, payee_ids=payee_ids)
    timings["write"] += time.perf_counter() - mark
    # A deal's event (a cancellation before its close, say) is reported by every group that
    # holds one of its credits.
    found = pd.concat(issues, ignore_index=True).drop_duplicates(ignore_index=True)

    builds = latest_credit_builds(months=inputs.months)
    counts = _issue_counts(found, builds)

    if payee_ids is None:  # a run of some payees leaves the others on the run before
        CalculationRun.objects.filter(period=period, status__in=RESULT_STATUSES).exclude(
            pk=run.pk).update(status=RunStatus.SUPERSEDED)
    run.status = RunStatus.SUCCEEDED_WITH_ERRORS if counts["error"] else RunStatus.SUCCEEDED
    run.finished_at = timezone.now()
    run.inputs_fingerprint = inputs.fingerprint()
    run.inputs = {
        "months": [str(m) for m in inputs.months],
        "computed_from": str(inputs.year_months[0]),
        "plan_versions": [str(v) for v in inputs.versions],
        "counts": inputs.counts,
        "payees": results_written,
        **({} if payee_ids is None else {"payee_ids": sorted(int(p) for p in payee_ids)}),
        "seconds": round(time.perf_counter() - started, 3),
        "timings": {k: round(v, 3) for k, v in timings.items()},
        # The crediting of the months written, whose issues count towards the status.
        "credit_builds": [b.pk for b in builds],
        "issue_counts": counts,
    }
    run.line_count = lines_written
    run.total_amount = Decimal(total_cents).scaleb(-2)
    run.issues = _issues(found)
    run.error = ""
    run.save()


def run_duration(run: CalculationRun) -> datetime.timedelta | None:
    if run.started_at is None or run.finished_at is None:
        return None
    return run.finished_at - run.started_at


__all__ = [
    "PeriodLockedError",
    "RunInputs",
    "calculation_run",
    "lock_months",
    "run_failed",
    "run_inputs",
]
