"""What a calculation run reads: every input of the engine for a period, as frames.

Reads only; `compensation.services.runs` writes. A statement preview reads its quotas here
too (`quota_frame`), so it shows the quota a run would use.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.core.exceptions import ValidationError

from compensation.engine import Calendar
from compensation.engine.inputs import columns_needed
from compensation.engine.plans import PlanVersion as EnginePlan
from compensation.models import (
    Adjustment,
    AdjustmentStatus,
    DrawBalance,
    PlanVersion,
    PlanVersionComponent,
)
from compensation.run_credits import read_credits
from compensation.selectors import (
    assignments_frame,
    cancellations_frame,
    engine_plans,
    mbo_scores_frame,
    months_of,
    period_key,
    versions_of_period,
)
from quotas.selectors import monthly_quotas
from spm.org.models import Period, PeriodKind
from spm.tenancy.models import Tenant
from spm.tenancy.today import tenant_today


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


def _fiscal_year(period: Period) -> Period | None:
    return Period.objects.filter(kind=PeriodKind.YEAR, fiscal_year=period.fiscal_year).first()


def quota_frame(months: Sequence[Period]) -> pd.DataFrame:
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
    credits = read_credits(month_ids=list(keys), period_keys=keys,
                                needed=columns_needed(plans), payee_ids=payee_ids)
    cancellations = cancellations_frame(period=year)
    if len(cancellations):
        cancellations = cancellations[cancellations["period"] <= last_key]
        if payee_ids is not None:  # events follow the deals the payees hold credits for
            cancellations = cancellations[cancellations["deal_id"].isin(credits["deal_id"])]
    inputs = RunInputs(
        period=period, months=months, year_months=year_months, calendar=calendar,
        versions=versions, plans=plans, credits=credits,
        quotas=_only(quota_frame(year_months), payee_ids), assignments=assignments,
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


def component_ids(versions: Sequence[PlanVersion]) -> dict[tuple[str, str], int]:
    links = (PlanVersionComponent.objects.filter(version__in=list(versions))
             .select_related("version__plan", "component"))
    return {(link.version.engine_key, link.component.code): link.component_id for link in links}
