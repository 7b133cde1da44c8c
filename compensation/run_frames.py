"""Shaping a run's frames, with no database: engine lines and payee results as the rows
`bulk` writes, adjustments as lines, and a run's inputs split into groups of payees.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from compensation.columns import (
    CENTS,
    CODE,
    INT,
    MISSING,
    NULLABLE_CENTS,
    NULLABLE_INT,
    NULLABLE_MICROS,
    TEXT,
    Column,
)

if TYPE_CHECKING:
    from compensation.run_inputs import RunInputs

NON_EARNING = ("clawback", "draw_advance", "draw_recovery", "guarantee", "adjustment")
DRAW_TYPES = ("draw_advance", "draw_recovery", "guarantee")


def half_up_ratio(numerator: np.ndarray, denominator: np.ndarray, scale: int) -> np.ndarray:
    """round(numerator / denominator * scale) half away from zero; MISSING where den <= 0."""
    out = np.full(len(numerator), MISSING, dtype=np.int64)
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
    lookup = np.array([mapping.get(label, MISSING) for label in labels] + [MISSING],
                      dtype=np.int64)
    return lookup[codes]


@dataclass
class RowIds:
    """The database ids that the engine's labels (months, plan versions, components) stand for."""

    month: dict[str, int]
    version: dict[str, int]
    component: dict[tuple[str, str], int]


def line_table(lines: pd.DataFrame, ids: RowIds) -> tuple[pd.DataFrame, list[Column]]:
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
    attainment = np.full(n, MISSING, dtype=np.int64)
    if has_ratio.any():
        attainment[has_ratio] = half_up_ratio(
            cumulative[has_ratio].to_numpy(dtype=np.int64),
            quota[has_ratio].to_numpy(dtype=np.int64), 10**6)
    # Plan, component and period are categorical from the engine: map their few labels, then
    # index by code, instead of hashing a million (plan, component) pairs.
    plan_codes, plan_labels = _codes(lines["plan"])
    component_codes, component_labels = _codes(lines["component"])
    pair_lookup = np.array([[ids.component.get((plan, component), MISSING)
                             for component in component_labels] for plan in plan_labels],
                           dtype=np.int64).reshape(len(plan_labels), len(component_labels))
    component_of = (pair_lookup[plan_codes, component_codes] if n
                    else np.empty(0, dtype=np.int64))
    period_id = _mapped(lines["period"], ids.month)
    if (period_id == MISSING).any():
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
        Column("payee_id", INT), Column("period_id", INT),
        Column("plan_version_id", NULLABLE_INT),
        Column("component_id", NULLABLE_INT),
        Column("credit_id", NULLABLE_INT), Column("deal_id", NULLABLE_INT),
        Column("basis", CENTS), Column("cumulative", NULLABLE_CENTS),
        Column("quota", NULLABLE_CENTS),
        Column("attainment", NULLABLE_MICROS),
        Column("tier", NULLABLE_INT), Column("amount", CENTS),
        Column("rounding_carry", CENTS), Column("capped", CENTS),
    ]
    for name in ("window", "kind", "line_type", "measure", "rate"):
        codes, labels = _codes(lines[name])
        table[name] = codes
        columns.append(Column(name, CODE, labels=labels))
    columns.append(Column("explanation_text", TEXT))
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


def result_table(lines: pd.DataFrame, inputs: RunInputs, ids: RowIds,
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
    out["attainment"] = np.full(len(out), MISSING, dtype=np.int64)
    if present.any():
        out.loc[present, "attainment"] = half_up_ratio(
            out["credited"].to_numpy()[present], quota.to_numpy()[present].astype(np.int64),
            10**6)
    if len(assignments):
        share = assignments["proration"].str.split("/", expand=True).astype(np.int64)
        target = half_up_ratio(assignments["target_incentive_cents"].to_numpy() * share[0]
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
    Column("payee_id", INT), Column("period_id", INT),
    Column("plan_version_id", NULLABLE_INT), Column("credited", CENTS),
    Column("quota", NULLABLE_CENTS), Column("attainment", NULLABLE_MICROS),
    Column("target_incentive", NULLABLE_CENTS), Column("earnings", CENTS),
    Column("clawbacks", CENTS), Column("adjustments", CENTS),
    Column("draw", CENTS), Column("total", CENTS),
    Column("line_count", INT),
]


def payee_groups(inputs: RunInputs, per_group: int) -> list[RunInputs]:
    """The run's inputs split by payee into groups of `per_group`, in payee order.

    Every input is per payee except cancellations, which follow the deals: each group gets the
    cancellations of the deals it holds credits for, and the first group also those of deals
    nobody was credited with, so the engine still reports them.
    """
    frames = [inputs.credits, inputs.quotas, inputs.assignments, inputs.opening_balances,
              inputs.adjustments, inputs.mbo_scores]
    payees = np.unique(np.concatenate(
        [f["payee_id"].to_numpy(dtype=np.int64) for f in frames if len(f)]
        or [np.empty(0, dtype=np.int64)]))
    size = per_group
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
