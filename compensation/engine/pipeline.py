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
    """Line tables stacked in engine order: payee, period, plan, component, then as given.

    Works column by column on categorical codes, so the million lines of compute() are not
    turned into Python objects to add a few thousand draw or clawback lines.
    """
    present = [f for f in frames if f is not None and len(f)]
    if not present:
        return next((f for f in frames if f is not None), pd.DataFrame(columns=LINE_COLUMNS))
    known_windows = list(dict.fromkeys(
        [*calendar.periods, *(label for cadence in ("quarter", "year")
                              for label in calendar.windows(cadence).labels)]))
    fixed = {"period": known_windows, "window": known_windows, "plan": list(plans)}
    columns: dict[str, object] = {}
    for name in LINE_COLUMNS:
        parts = [f[name] for f in present]
        if name in _CATEGORICAL:
            columns[name] = _stack_categorical(parts, fixed.get(name))
        elif name in _NULLABLE_INT:
            columns[name] = pd.concat([p.astype("Int64") for p in parts], ignore_index=True)
        elif name in ("deal_id", "credit_id"):
            integer = all(pd.api.types.infer_dtype(p, skipna=True) in ("integer", "empty")
                          for p in parts)
            columns[name] = pd.concat([p.astype("Int64") if integer else p.astype(object)
                                       for p in parts], ignore_index=True)
        elif name in ("basis", "amount_cents", "rounding_carry_cents", "capped_cents"):
            columns[name] = np.concatenate([p.to_numpy(dtype=np.int64) for p in parts])
        else:
            columns[name] = pd.concat(parts, ignore_index=True)
    lines = pd.DataFrame(columns)

    period_position = calendar.index_of(pd.Series(lines["period"]))
    plan_code = lines["plan"].cat.codes.to_numpy(dtype=np.int64)
    plan_code = np.where(plan_code < 0, len(plans), plan_code)
    component = lines["component"].cat
    component_codes = component.codes.to_numpy(dtype=np.int64)
    # Position of each component in its plan, looked up by (plan code, component code); a
    # line of an unknown plan or component sorts last (code -1 reads the spare last column).
    position = np.full((len(plans) + 1, len(component.categories) + 1), 1_000_000,
                       dtype=np.int64)
    category_of = {str(c): i for i, c in enumerate(component.categories)}
    for plan_index, plan in enumerate(plans.values()):
        for i, c in enumerate(plan.components):
            if c.code in category_of:
                position[plan_index, category_of[c.code]] = i
    component_rank = position[plan_code, component_codes]
    try:
        payee_rank = pd.factorize(lines["payee_id"], sort=True)[0]
    except TypeError:
        payee_rank = pd.factorize(lines["payee_id"].astype(str), sort=True)[0]
    order = np.lexsort((np.arange(len(lines)), component_rank, plan_code, period_position,
                        payee_rank))
    return lines.iloc[order].reset_index(drop=True)


def _stack_categorical(parts: list[pd.Series], categories: list[str] | None) -> pd.Categorical:
    """One categorical from several columns, remapping codes instead of the values."""
    if categories is None:
        seen: dict[str, None] = {}
        for part in parts:
            values = part.cat.categories if isinstance(part.dtype, pd.CategoricalDtype) \
                else pd.unique(part.dropna())
            seen.update(dict.fromkeys(str(v) for v in values))
        categories = list(seen)
    codes = []
    for part in parts:
        if isinstance(part.dtype, pd.CategoricalDtype):
            part = part.cat.rename_categories([str(c) for c in part.cat.categories])
            codes.append(part.cat.set_categories(categories).cat.codes.to_numpy())
        else:
            codes.append(pd.Categorical(part.astype(object).where(part.notna(), None),
                                        categories=categories).codes)
    return pd.Categorical.from_codes(np.concatenate(codes).astype(np.int64),
                                     categories=categories)
