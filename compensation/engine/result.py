"""The engine's output tables: line items, payee-period totals and issues.

Lines are sorted by payee, pay period, plan, component (plan order), then pay order inside the
component. Low-cardinality text columns are pandas categoricals; money is int64 cents; a total
is computed from the lines it sums and nothing else, so it always equals them exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from .calendar import Calendar
from .context import LINE_TYPES, Builder
from .inputs import Prepared
from .plans import CADENCES, KINDS, MEASURES

LINE_COLUMNS = (
    "payee_id", "period", "window", "plan", "component", "kind", "line_type", "deal_id",
    "credit_id", "measure", "basis", "cumulative", "quota", "tier", "rate", "amount_cents",
    "rounding_carry_cents", "capped_cents", "explanation",
)
TOTAL_COLUMNS = ("payee_id", "period", "amount_cents", "lines")
ISSUE_COLUMNS = ("severity", "code", "payee_id", "period", "plan", "component", "credit_id",
                 "deal_id", "message")


@dataclass
class EngineResult:
    lines: pd.DataFrame
    totals: pd.DataFrame
    issues: pd.DataFrame
    calendar: Calendar | None = None
    draw_balances: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["payee_id", "component", "balance_cents"]))


def window_categories(calendar: Calendar) -> tuple[list[str], dict[str, np.ndarray]]:
    """One category list for windows of every cadence, and each cadence's window codes."""
    categories: dict[str, int] = {}
    codes = {}
    for cadence in CADENCES:
        labels = calendar.windows(cadence).labels
        codes[cadence] = np.array([categories.setdefault(label, len(categories))
                                   for label in labels], dtype=np.int64)
    return list(categories), codes


def _ids(source: np.ndarray, rows: np.ndarray) -> object:
    """The caller's ids at `rows`, missing where rows < 0, keeping integer ids integer."""
    missing = rows < 0
    picked = source[np.where(missing, 0, rows)] if len(source) else np.zeros(len(rows))
    if source.dtype.kind in "iu":
        return pd.arrays.IntegerArray(picked.astype(np.int64), missing)
    values = picked.astype(object)
    values[missing] = None
    return values


def empty_lines() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=_EMPTY_DTYPES.get(name, object))
                         for name in LINE_COLUMNS})


_EMPTY_DTYPES = {"basis": "int64", "cumulative": "Int64", "quota": "Int64", "tier": "Int64",
                 "amount_cents": "int64", "rounding_carry_cents": "int64",
                 "capped_cents": "int64"}


def assemble(builder: Builder) -> pd.DataFrame:
    prepared = builder.prepared
    parts = builder.parts
    if not parts:
        return empty_lines()
    sizes = [len(part["payee"]) for part in parts]

    def column(key: str, dtype: npt.DTypeLike = np.int64) -> np.ndarray:
        return np.concatenate([np.asarray(part[key], dtype=dtype) for part in parts])

    def constant(key: str, lookup: dict[str, int] | None = None) -> np.ndarray:
        values = [part[key] if lookup is None else lookup[part[key]] for part in parts]
        return np.repeat(np.array(values, dtype=np.int64), sizes)

    payee = column("payee")
    pay_period = column("pay_period")
    plan = constant("plan")
    order = constant("order")
    seq = column("seq")
    sort = _line_order(payee, pay_period, plan, order, seq)

    categories, cadence_codes = window_categories(prepared.calendar)
    window = np.concatenate([cadence_codes[part["cadence"]][np.asarray(part["window"])]
                             for part in parts])
    credit_row = column("credit_row")
    cumulative = column("cumulative")
    quota = column("quota")
    quota_present = column("quota_present", bool)
    tier = column("tier")
    rate = column("rate")
    rate_labels = sorted(builder.rate_labels, key=builder.rate_labels.__getitem__)
    component_labels = sorted(builder.component_codes, key=builder.component_codes.__getitem__)

    frame = {
        "payee_id": prepared.payee_ids[payee[sort]],
        "period": pd.Categorical.from_codes(pay_period[sort], categories=prepared.calendar.periods),
        "window": pd.Categorical.from_codes(window[sort], categories=categories),
        "plan": pd.Categorical.from_codes(plan[sort], categories=list(prepared.plan_keys)),
        "component": pd.Categorical.from_codes(constant("component")[sort],
                                               categories=component_labels),
        "kind": pd.Categorical.from_codes(constant("kind", {k: i for i, k in
                                                            enumerate(KINDS)})[sort],
                                          categories=list(KINDS)),
        "line_type": pd.Categorical.from_codes(column("line_type")[sort],
                                               categories=list(LINE_TYPES)),
        "deal_id": _ids(prepared.deal_id, credit_row[sort]),
        "credit_id": _ids(prepared.credit_id, credit_row[sort]),
        "measure": pd.Categorical.from_codes(
            constant("measure", {m: i for i, m in enumerate(MEASURES)})[sort],
            categories=list(MEASURES)),
        "basis": column("basis")[sort],
        "cumulative": pd.arrays.IntegerArray(cumulative[sort], np.zeros(len(sort), dtype=bool)),
        "quota": pd.arrays.IntegerArray(quota[sort], ~quota_present[sort]),
        "tier": pd.arrays.IntegerArray(tier[sort], (tier == 0)[sort]),
        "rate": pd.Categorical.from_codes(rate[sort], categories=rate_labels),
        "amount_cents": column("amount")[sort],
        "rounding_carry_cents": column("carry")[sort],
        "capped_cents": (column("capped_period") + column("capped_year"))[sort],
        "explanation": np.concatenate([np.asarray(part["explanation"]) for part in parts]
                                      )[sort].astype(object),
    }
    # copy=False: the columns are fresh arrays; consolidating them would only copy them again
    return pd.DataFrame(frame, copy=False)


def _line_order(*keys: np.ndarray) -> np.ndarray:
    """Positions sorting lines by payee, pay period, plan, component and seq; often already so."""
    payee, pay_period, plan, order, seq = keys
    if len(payee) > 1:
        composite = np.zeros(len(payee), dtype=np.int64)
        fits = True
        for key in (payee, pay_period, plan, order, seq):
            low, high = int(key.min()), int(key.max())
            width = high - low + 1
            if fits and int(composite.max()) * width + width < 2**62:
                composite = composite * width + (key - low)
            else:
                fits = False
        if fits and bool((composite[1:] >= composite[:-1]).all()):
            return np.arange(len(payee))
    return np.lexsort((seq, order, plan, pay_period, payee))


def payee_period_totals(lines: pd.DataFrame) -> pd.DataFrame:
    """Per payee and pay period: the sum of the lines' cents and how many lines there are."""
    if lines.empty:
        return pd.DataFrame({"payee_id": pd.Series(dtype=object),
                             "period": pd.Series(dtype=object),
                             "amount_cents": pd.Series(dtype="int64"),
                             "lines": pd.Series(dtype="int64")})
    grouped = lines.groupby(["payee_id", "period"], observed=True, sort=True)["amount_cents"]
    totals = grouped.agg(amount_cents="sum", lines="size").reset_index()
    totals["amount_cents"] = totals["amount_cents"].astype(np.int64)
    totals["lines"] = totals["lines"].astype(np.int64)
    return totals


def issues_frame(prepared: Prepared) -> pd.DataFrame:
    if not prepared.issues:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in ISSUE_COLUMNS})
    frames = []
    periods = np.array((*prepared.calendar.periods, ""), dtype=object)
    plans = np.array((*prepared.plan_keys, ""), dtype=object)
    for batch in prepared.issues:
        payee = np.asarray(batch["payee"])
        n = len(payee)
        credit_row = np.asarray(batch["credit_row"])
        frames.append(pd.DataFrame({
            "severity": [batch["severity"]] * n,
            "code": [batch["code"]] * n,
            "payee_id": prepared.payee_ids[payee] if len(prepared.payee_ids) else [None] * n,
            "period": periods[np.asarray(batch["period"])],
            "plan": plans[np.asarray(batch["plan"])],
            "component": [batch["component"]] * n,
            "credit_id": _ids(prepared.credit_id, credit_row),
            "deal_id": _ids(prepared.deal_id, credit_row),
            "message": np.broadcast_to(np.asarray(batch["message"], dtype=object), (n,)),
        }))
    return pd.concat(frames, ignore_index=True)
