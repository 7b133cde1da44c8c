"""calculate(): compute, then clawbacks, then draws, as one call for runs and simulations.

The stateless lines come first; clawbacks reverse earlier lines of cancelled deals; draws then
compare each period's net earnings with the draw. All lines are merged into one table in the
engine's order and the totals are summed from it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .calendar import Calendar
from .clawbacks import apply_clawbacks
from .compute import compute
from .draws import settle_draws
from .plans import PlanVersion
from .result import LINE_COLUMNS, EngineResult, payee_period_totals

_CATEGORICAL = ("period", "window", "plan", "component", "kind", "line_type", "measure", "rate")
_NULLABLE_INT = ("cumulative", "quota", "tier")


def calculate(
    *,
    plans: Mapping[str, PlanVersion],
    credits: pd.DataFrame,
    quotas: pd.DataFrame,
    assignments: pd.DataFrame,
    mbo_scores: pd.DataFrame | None = None,
    calendar: Calendar | None = None,
    cancellations: pd.DataFrame | None = None,
    paid_lines: pd.DataFrame | None = None,
    opening_balances: pd.DataFrame | None = None,
) -> EngineResult:
    """Every line a run produces: components, clawbacks of cancelled deals, then draws.

    `paid_lines` are lines of earlier, closed runs (for clawbacks); `opening_balances` are the
    draw balances those runs closed with (payee_id, component, balance_cents).
    """
    result = compute(plans=plans, credits=credits, quotas=quotas, assignments=assignments,
                     mbo_scores=mbo_scores, calendar=calendar)
    assert result.calendar is not None
    calendar = result.calendar
    frames = [result.lines]
    issues = [result.issues]
    if cancellations is not None and len(cancellations):
        history = combine_lines([paid_lines, result.lines] if paid_lines is not None
                                else [result.lines], plans, calendar)
        clawed = apply_clawbacks(plans=plans, events=cancellations, paid_lines=history,
                                 calendar=calendar)
        frames.append(clawed.lines)
        issues.append(clawed.issues)
    balances = result.draw_balances
    if any(c.kind == "draw" for p in plans.values() for c in p.components):
        settled = settle_draws(plans=plans, assignments=assignments,
                               lines=combine_lines(frames, plans, calendar),
                               opening_balances=opening_balances, calendar=calendar)
        frames.append(settled.lines)
        balances = settled.balances
    lines = combine_lines(frames, plans, calendar) if len(frames) > 1 else result.lines
    found = [i for i in issues if len(i)]
    return EngineResult(
        lines=lines,
        totals=payee_period_totals(lines),
        issues=pd.concat(found, ignore_index=True) if found else result.issues,
        calendar=calendar,
        draw_balances=balances,
    )


def combine_lines(frames: list[pd.DataFrame | None], plans: Mapping[str, PlanVersion],
                  calendar: Calendar) -> pd.DataFrame:
    """Line tables stacked in engine order: payee, period, plan, component, then as given."""
    present = [f for f in frames if f is not None and len(f)]
    if not present:
        return next((f for f in frames if f is not None), pd.DataFrame(columns=LINE_COLUMNS))
    plain = [f.astype({c: object for c in _CATEGORICAL if c in f.columns}) for f in present]
    lines = pd.concat(plain, ignore_index=True)[list(LINE_COLUMNS)]
    plan_order = {key: i for i, key in enumerate(plans)}
    component_order = {(key, c.code): i for key, p in plans.items()
                       for i, c in enumerate(p.components)}
    period_index = calendar.index_of(lines["period"].astype(str).to_numpy())
    plan_index = lines["plan"].map(plan_order).fillna(len(plans)).to_numpy(dtype=np.int64)
    component_index = np.array([component_order.get(k, len(component_order)) for k in zip(
        lines["plan"], lines["component"], strict=True)], dtype=np.int64)
    try:
        payee_rank = pd.factorize(lines["payee_id"], sort=True)[0]
    except TypeError:
        payee_rank = pd.factorize(lines["payee_id"].astype(str), sort=True)[0]
    order = np.lexsort((np.arange(len(lines)), component_index, plan_index, period_index,
                        payee_rank))
    lines = lines.iloc[order].reset_index(drop=True)
    for name in ("period", "window"):
        known = list(calendar.periods) + [
            label for cadence in ("quarter", "year") for label in
            calendar.windows(cadence).labels]
        lines[name] = pd.Categorical(lines[name], categories=list(dict.fromkeys(known)))
    lines["plan"] = pd.Categorical(lines["plan"], categories=list(plans))
    for name in ("component", "kind", "line_type", "measure", "rate"):
        lines[name] = pd.Categorical(lines[name])
    for name in _NULLABLE_INT:
        lines[name] = pd.array(lines[name].tolist(), dtype="Int64")
    for name in ("deal_id", "credit_id"):
        values = lines[name]
        if all(v is None or pd.isna(v) or isinstance(v, int | np.integer) for v in values):
            lines[name] = pd.array([None if v is None or pd.isna(v) else int(v)
                                    for v in values], dtype="Int64")
    for name in ("basis", "amount_cents", "rounding_carry_cents", "capped_cents"):
        lines[name] = lines[name].astype(np.int64)
    return lines
