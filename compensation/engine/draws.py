"""Draws and guarantees: the stateful step that runs after compute(), period by period.

A recoverable draw tops a period's earnings up to the draw and carries the advance as a balance,
recovered from later earnings above the draw (from `recovery_start`, at most
`max_recovery_per_period` a period). A guarantee tops earnings up and is never recovered. The
step takes the opening balances and returns new lines and closing balances; it never changes a
line of an earlier period.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import text
from .calendar import Calendar, Windows
from .exact import half_up_div, scaled, to_int64
from .inputs import (
    EngineInputError,
    Proration,
    _integers,
    _missing,
    assignment_columns,
    plan_tables,
)
from .plans import Draw, PlanVersion
from .result import LINE_COLUMNS


@dataclass
class DrawResult:
    lines: pd.DataFrame
    balances: pd.DataFrame  # payee_id, component, balance_cents: what each payee still owes


def settle_draws(
    *,
    plans: Mapping[str, PlanVersion],
    assignments: pd.DataFrame,
    lines: pd.DataFrame,
    opening_balances: pd.DataFrame | None = None,
    calendar: Calendar,
) -> DrawResult:
    """Draw, recovery and guarantee lines for every draw component, in calendar order.

    `lines` are the period's other lines (compute() and clawbacks); a draw compares the plan's
    earnings in each of its windows with the draw amount. Balances are keyed by payee and the
    draw component's code, so a draw carried into a new plan version keeps its balance.
    """
    errors: list[str] = []
    opening = opening_balances if opening_balances is not None else pd.DataFrame(
        {"payee_id": [], "component": [], "balance_cents": []})
    _missing(opening, ("payee_id", "component", "balance_cents"), "opening_balances", errors)
    if errors:
        raise EngineInputError(errors)
    # Python objects, so an empty table cannot turn integer ids into floats on the way
    everyone = np.concatenate([frame["payee_id"].to_numpy(dtype=object)
                               for frame in (assignments, lines, opening)])
    payee_index = pd.Index(pd.unique(everyone[pd.notna(everyone)]).tolist()).sort_values()
    plan_keys = tuple(plans)
    plan_of_row, payee, period, target, num, den = assignment_columns(
        assignments, calendar, plan_keys, payee_index, errors)
    opening_cents = _integers(opening, "balance_cents", "opening_balances", errors) \
        if len(opening) else np.zeros(0, dtype=np.int64)
    if errors:
        raise EngineInputError(errors)
    n_payees, n_periods = len(payee_index), len(calendar.periods)
    assigned, targets, proration = plan_tables(
        plan_of_row, payee, period, target, num, den, n_plans=len(plan_keys),
        n_payees=n_payees, n_periods=n_periods)

    balances: dict[str, np.ndarray] = {}
    for code in {c.code for p in plans.values() for c in p.components if c.kind == "draw"}:
        table = np.zeros(n_payees, dtype=np.int64)
        rows = (opening["component"].astype(str) == code).to_numpy()
        np.add.at(table, payee_index.get_indexer(opening["payee_id"][rows]), opening_cents[rows])
        balances[code] = table

    line_payee = payee_index.get_indexer(lines["payee_id"])
    line_period = calendar.index_of(lines["period"].astype(str).to_numpy()) if len(lines) \
        else np.zeros(0, dtype=np.int64)
    line_plan = pd.Index(plan_keys).get_indexer(lines["plan"].astype(str)) if len(lines) \
        else np.zeros(0, dtype=np.int64)
    not_draw = (lines["kind"].astype(str) != "draw").to_numpy() if len(lines) \
        else np.zeros(0, dtype=bool)
    line_amount = lines["amount_cents"].to_numpy(dtype=np.int64) if len(lines) \
        else np.zeros(0, dtype=np.int64)

    out = []
    for plan_index, (key, plan) in enumerate(plans.items()):
        for component in plan.components:
            if not isinstance(component.formula, Draw):
                continue
            windows = calendar.windows(component.period)
            n_windows = len(windows.labels)
            mine = (line_plan == plan_index) & not_draw & (line_payee >= 0) & (line_period >= 0)
            flat = np.zeros(n_payees * n_windows, dtype=np.int64)
            np.add.at(flat, line_payee[mine] * n_windows
                      + windows.of_period[line_period[mine]], line_amount[mine])
            earnings = flat.reshape(n_payees, n_windows)
            active = np.add.reduceat(assigned[plan_index].astype(np.int64),
                                     windows.first_period, axis=1) > 0
            amount = _draw_amounts(component.formula, windows, targets[plan_index],
                                   proration[plan_index], n_payees, n_periods)
            out.append(_settle(key, component.code, component.formula, windows, calendar,
                               earnings, active, amount, balances[component.code],
                               payee_index))
    frames = [f for f in out if len(f)]
    result = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=list(LINE_COLUMNS))
    closing = pd.DataFrame([
        {"payee_id": payee_index[i], "component": code, "balance_cents": int(table[i])}
        for code, table in sorted(balances.items()) for i in np.flatnonzero(table)
    ], columns=["payee_id", "component", "balance_cents"])
    return DrawResult(lines=result, balances=closing)


def _draw_amounts(draw: Draw, windows: Windows, target_cents: np.ndarray, shares: Proration,
                  n_payees: int, n_periods: int) -> np.ndarray:
    """The draw per (payee, window), prorated by the assignment's share of each base period."""
    if draw.of_target is not None:
        exponent = max(0, -int(draw.of_target.normalize().as_tuple().exponent))
        numerator = scaled(draw.of_target, exponent)
        by_window = np.add.reduceat(target_cents, windows.first_period, axis=1)
        return to_int64(half_up_div(by_window.astype(object) * numerator, 10**exponent))
    assert draw.amount is not None
    # A window's draw is spread evenly over its base periods; each period's part is prorated
    # and rounded half-up on its own, then the parts are added.
    cents = scaled(draw.amount, 2)
    period_of_row = shares.flat % n_periods
    size = windows.size[windows.of_period[period_of_row]]
    parts = to_int64(half_up_div(np.asarray(shares.numerator, dtype=object) * cents,
                                 np.asarray(shares.denominator, dtype=object) * size))
    table = np.zeros(n_payees * n_periods, dtype=np.int64)
    np.add.at(table, shares.flat, parts)
    return np.add.reduceat(table.reshape(n_payees, n_periods), windows.first_period, axis=1)


def _settle(plan_key: str, code: str, draw: Draw, windows: Windows, calendar: Calendar,
            earnings: np.ndarray, active: np.ndarray, amount: np.ndarray,
            balance: np.ndarray, payee_index: pd.Index) -> pd.DataFrame:
    position = calendar.position
    last_draw = position.get(draw.last_draw_period, -1) if draw.last_draw_period else None
    recovery_from = position.get(draw.recovery_start, 0) if draw.recovery_start else 0
    limit = scaled(draw.max_recovery_per_period, 2) if draw.max_recovery_per_period is not None \
        else None
    records = []
    for w in range(len(windows.labels)):
        pay_period = int(windows.last_period[w])
        here = active[:, w]
        draw_cents = amount[:, w] if last_draw is None or pay_period <= last_draw else \
            np.zeros(len(balance), dtype=np.int64)
        earned = earnings[:, w]
        short = here & (draw_cents > 0) & (earned < draw_cents)
        topping = np.where(short, draw_cents - earned, 0)
        if not draw.recoverable:
            rows = np.flatnonzero(topping)
            records.append(_lines(rows, "guarantee", topping[rows], text.add(
                "guarantee: earned ", text.money(earned[rows]), " is below the ",
                text.money(draw_cents[rows]), " guarantee: top-up ",
                text.money(topping[rows])), w, earned))
            continue
        balance += topping
        rows = np.flatnonzero(topping)
        records.append(_lines(rows, "draw_advance", topping[rows], text.add(
            "draw: earned ", text.money(earned[rows]), " is below the ",
            text.money(draw_cents[rows]), " draw: advance ", text.money(topping[rows]),
            ", balance ", text.money(balance[rows])), w, earned))
        if pay_period < recovery_from:
            continue
        surplus = np.where(here & (earned > draw_cents), earned - draw_cents, 0)
        recovered = np.minimum(balance, surplus)
        if limit is not None:
            recovered = np.minimum(recovered, limit)
        rows = np.flatnonzero(recovered > 0)
        before = balance[rows].copy()
        balance -= recovered
        most = f", at most {text.money_label(draw.max_recovery_per_period)} a period" \
            if draw.max_recovery_per_period is not None else ""
        records.append(_lines(rows, "draw_recovery", -recovered[rows], text.add(
            "draw recovery: earned ", text.money(earned[rows]), " is above the ",
            text.money(draw_cents[rows]), " draw: recovers ", text.money(recovered[rows]),
            " of the ", text.money(before), f" balance{most}; balance ",
            text.money(balance[rows])), w, earned))
    frame = pd.concat([r for r in records if r is not None], ignore_index=True) \
        if any(r is not None for r in records) else None
    if frame is None or frame.empty:
        return pd.DataFrame(columns=list(LINE_COLUMNS))
    frame["payee_id"] = payee_index.to_numpy()[frame.pop("payee")]
    frame["period"] = np.array(calendar.periods, dtype=object)[
        windows.last_period[frame["window_index"]]]
    frame["window"] = np.array(windows.labels, dtype=object)[frame.pop("window_index")]
    frame["plan"] = plan_key
    frame["component"] = code
    frame["kind"] = "draw"
    frame["measure"] = "amount"
    for name in ("deal_id", "credit_id", "cumulative", "quota", "tier", "rate"):
        frame[name] = None
    frame["rounding_carry_cents"] = 0
    frame["capped_cents"] = 0
    # Windows in time order, payees in id order: the order draws were settled in.
    return frame.sort_values(["window_order", "payee_id"], kind="stable").drop(
        columns="window_order")[list(LINE_COLUMNS)]


def _lines(rows: np.ndarray, line_type: str, amount: np.ndarray, explanation: np.ndarray,
           window: int, earned: np.ndarray) -> pd.DataFrame | None:
    if len(rows) == 0:
        return None
    return pd.DataFrame({
        "payee": rows,
        "window_index": window,
        "window_order": window,
        "line_type": line_type,
        "basis": earned[rows],
        "amount_cents": amount.astype(np.int64),
        "explanation": explanation.astype(object),
    })
