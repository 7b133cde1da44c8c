"""Calculation runs: load a period's inputs, run the engine, and replace its results at once.

A run of a month, quarter or year computes the fiscal year up to the period's end (quarterly
windows and year-to-date true-ups need the earlier months) and replaces the line items and
payee-period results of the months inside the period, in one transaction, under an advisory lock
per (tenant, month). A locked month is never rewritten. The run row records who, when, a
fingerprint of every input read, counts and the outcome; a failed run leaves the previous
results as they were.

What a run reads is in `compensation.run_inputs`, how its frames become rows in
`compensation.run_frames` (no database); this module holds the lock and the writes.
"""

from __future__ import annotations

import hashlib
import logging
import time
import traceback
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from compensation import bulk
from compensation.engine import (
    EngineInputError,
    PlanInvalid,
    calculate,
)
from compensation.models import (
    FROZEN_STATUSES,
    RESULT_STATUSES,
    CalculationRun,
    CreditBuild,
    Dispute,
    DrawBalance,
    LineItem,
    PayCycle,
    PayeePeriodResult,
    RunScope,
    RunStatus,
)
from compensation.run_frames import (
    DRAW_TYPES,
    NON_EARNING,
    RESULT_COLUMNS,
    RowIds,
    adjustment_lines,
    line_table,
    payee_groups,
    result_table,
)
from compensation.run_inputs import RunInputs, component_ids, run_inputs
from compensation.selectors import (
    latest_credit_builds,
    months_of,
    period_key,
    severity_counts,
)
from spm.org.models import Period
from spm.tenancy.actors import acting_user
from spm.tenancy.models import Tenant

logger = logging.getLogger(__name__)

LOCK_TIMEOUT = "30s"  # a second run of the same month waits this long for the first one
MAX_ISSUES_KEPT = 500



class PeriodLockedError(ValidationError):
    """The period (or a month inside it) is locked: its results are final."""


class RunNotInTransactionError(RuntimeError):
    """A run must hold its locks and write its results inside one transaction."""


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
                    ids: RowIds, payee_ids: Collection[int] | None = None) -> None:
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
    # An approved (or paid) month behaves as locked until finance reopens it with a reason:
    # the amounts approved are the amounts paid.
    frozen = PayCycle.objects.filter(period_id__in=[p.pk for p in (period, *months)],
                                     status__in=FROZEN_STATUSES).select_related("period")
    names = ", ".join(sorted({f"{c.period} ({c.get_status_display().lower()})"
                              for c in frozen}))
    if names:
        raise PeriodLockedError(
            f"{names}: its pay is approved, so a calculation cannot change it. Finance reopens "
            "it with a reason first, or calculate an open period.")


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
) -> CalculationRun:
    """Calculate `period` and replace the results of its months; returns the run.

    Reached through compensation.services.recompute, which builds the credits first (in
    `prepare`, called with the months once they are locked, inside the run's transaction).
    `payee_ids` recalculates only those payees and leaves everyone else's results as they are.

    Raises PeriodLockedError for a locked period (nothing is written). Any other failure is
    recorded on the run (status failed, with the error) and leaves earlier results untouched,
    or, when `strict`, is raised for the caller to roll back with its own work; a lock wait that
    times out is raised, so a task can retry it.
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
                     started=started)
            if run.has_results:
                _cycles_calculated(run=run, actor=actor)
    except PeriodLockedError:
        raise
    except Exception as exc:
        if strict or _is_lock_timeout(exc):
            raise
        run_failed(run=run, error=exc, seconds=time.perf_counter() - started)
    return run


def _cycles_calculated(*, run: CalculationRun, actor: Any) -> None:
    from compensation.services.paycycle import paycycles_calculated  # it locks through us

    ids = set(PayeePeriodResult.objects.filter(run=run).values_list("period_id", flat=True))
    paycycles_calculated(periods=list(Period.objects.filter(pk__in=sorted(ids))
                                      .order_by("start_date")),
                         actor=actor, reason=f"Calculation run {run.pk}")


class _DryRunDone(Exception):
    """Raised inside the dry run's savepoint so that everything it wrote is rolled back."""


def totals_if_recalculated(*, tenant: Tenant, month: Period, payee_ids: Collection[int],
                           prepare: Callable[[Sequence[Period]], None]) -> dict[int, Decimal]:
    """What these payees' totals in a final (locked or paid) month would be if it were
    calculated now, by the real engine, inside a savepoint rolled back before returning: the
    month's credits, lines and results are left exactly as they were. Call under the month's
    lock (recompute_pending holds it)."""
    if not connection.in_atomic_block:
        raise RunNotInTransactionError("run totals_if_recalculated inside a transaction")
    totals: dict[int, Decimal] = {}
    try:
        with transaction.atomic():
            prepare([month])
            now = timezone.now()
            run = CalculationRun.objects.create(
                period=month, status=RunStatus.RUNNING, requested_at=now, started_at=now,
                scope=RunScope.PAYEES)
            _execute(run=run, tenant=tenant, period=month, payee_ids=payee_ids,
                     started=time.perf_counter())
            totals = dict(PayeePeriodResult.objects.filter(run=run, period=month)
                          .values_list("payee_id", "total"))
            raise _DryRunDone
    except _DryRunDone:
        pass
    return totals


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


def _compute(*, inputs: RunInputs, ids: RowIds, keys: dict[int, str],
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


@dataclass
class _Written:
    """What the groups of payees wrote, added up."""

    lines: int = 0
    results: int = 0
    total_cents: int = 0
    balances: list[pd.DataFrame] = field(default_factory=list)
    issues: list[pd.DataFrame] = field(default_factory=list)


def _write_lines(*, run: CalculationRun, tenant: Tenant, inputs: RunInputs, ids: RowIds,
                 keys: dict[int, str], payee_ids: Collection[int] | None,
                 timings: dict[str, float]) -> _Written:
    """Replace the months' lines and results with the engine's, group of payees by group."""
    # Payees are independent in the engine, so the run computes them in groups on a worker
    # thread while this thread writes the groups already computed: PostgreSQL inserts one group
    # (waiting with the GIL released) while the engine works on the next, and the first group
    # computes while the old results are deleted. Only this thread touches the database, and
    # a failure anywhere rolls the whole transaction back.
    written = _Written()
    timings["compute"] = timings["write"] = 0.0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="comp-run") as pool:
        constants = {"tenant_id": tenant.pk, "run_id": run.pk}
        binary = connection.vendor == "postgresql"
        computing = [pool.submit(_compute, inputs=part, ids=ids, keys=keys,
                                 constants=constants, binary=binary)
                     for part in payee_groups(inputs, PAYEES_PER_GROUP)]
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
                written.lines += len(computed.lines)
                written.results += len(computed.results)
                if len(computed.lines):
                    written.total_cents += int(computed.lines["amount_cents"].sum())
                written.balances.append(computed.draw_balances)
                written.issues.append(computed.issues)
        except BaseException:
            for future in computing:
                future.cancel()
            raise
    return written


def _execute(*, run: CalculationRun, tenant: Tenant, period: Period,
             payee_ids: Collection[int] | None, started: float) -> None:
    timings: dict[str, float] = {}
    mark = time.perf_counter()
    inputs = run_inputs(tenant=tenant, period=period, payee_ids=payee_ids)
    timings["read"] = time.perf_counter() - mark

    keys = {m.pk: period_key(m.start_date) for m in inputs.months}
    ids = RowIds(month={period_key(m.start_date): m.pk for m in inputs.year_months},
                 version={v.engine_key: v.pk for v in inputs.versions},
                 component=component_ids(inputs.versions))
    written = _write_lines(run=run, tenant=tenant, inputs=inputs, ids=ids, keys=keys,
                           payee_ids=payee_ids, timings=timings)
    mark = time.perf_counter()
    _write_balances(run=run, balances=pd.concat(written.balances, ignore_index=True),
                    month=inputs.months[-1], ids=ids, payee_ids=payee_ids)
    timings["write"] += time.perf_counter() - mark
    # A deal's event (a cancellation before its close, say) is reported by every group that
    # holds one of its credits.
    found = pd.concat(written.issues, ignore_index=True).drop_duplicates(ignore_index=True)

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
        "payees": written.results,
        **({} if payee_ids is None else {"payee_ids": sorted(int(p) for p in payee_ids)}),
        "seconds": round(time.perf_counter() - started, 3),
        "timings": {k: round(v, 3) for k, v in timings.items()},
        # The crediting of the months written, whose issues count towards the status.
        "credit_builds": [b.pk for b in builds],
        "issue_counts": counts,
    }
    run.line_count = written.lines
    run.total_amount = Decimal(written.total_cents).scaleb(-2)
    run.issues = _issues(found)
    run.error = ""
    run.save()


__all__ = [
    "DRAW_TYPES",
    "LOCK_TIMEOUT",
    "MAX_ISSUES_KEPT",
    "NON_EARNING",
    "PAYEES_PER_GROUP",
    "RESULT_COLUMNS",
    "PeriodLockedError",
    "RunInputs",
    "RunNotInTransactionError",
    "adjustment_lines",
    "calculation_run",
    "line_table",
    "lock_months",
    "months_of",
    "result_table",
    "run_failed",
    "run_inputs",
    "totals_if_recalculated",
]
