"""Crediting arithmetic: deals into owner and split credits exact to the cent, currency
conversion, and the manager roll-up over an effective-dated team tree.

Pure pandas / numpy: frames in, frames out, no Django and no database. Money is integer cents;
a deal's split credits always add up to exactly its amount (largest remainder).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import numpy as np
import pandas as pd

WHOLE = 10_000  # split shares are counted in hundredths of a percent: 100% = 10,000
RATE_SCALE = 10**8  # exchange rates carry eight decimals


def allocate(totals: np.ndarray, shares: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each row's part of its group's total, by `shares` (hundredths of a percent), in cents.

    Rows of a group carry the same total and shares adding up to WHOLE. Every row gets the
    floor of its exact part; the cents left over go one each to the rows with the largest
    remainders (the earlier row on a tie), so a group's parts add up to its total exactly.
    """
    totals = np.asarray(totals, dtype=np.int64)
    shares = np.asarray(shares, dtype=np.int64)
    groups = np.asarray(groups)
    n = len(totals)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    exact = totals * shares  # |total| < 1e14 cents and share <= 1e4: fits in int64
    floor = exact // WHOLE
    remainder = exact - floor * WHOLE
    codes, _ = pd.factorize(groups)
    size = int(codes.max()) + 1
    group_total = np.zeros(size, dtype=np.int64)
    group_total[codes] = totals  # every row of a group carries the same total
    short = group_total - _group_sum(floor, codes, size)
    # Rank rows inside their group: largest remainder first, then earlier rows first.
    order = np.lexsort((np.arange(n), -remainder, codes))
    position = np.empty(n, dtype=np.int64)
    sorted_codes = codes[order]
    starts = np.r_[0, np.flatnonzero(sorted_codes[1:] != sorted_codes[:-1]) + 1]
    run_start = np.repeat(starts, np.diff(np.r_[starts, n]))
    position[order] = np.arange(n) - run_start
    return floor + (position < short[codes]).astype(np.int64)


def _group_sum(values: np.ndarray, codes: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros(size, dtype=np.int64)
    np.add.at(out, codes, values)
    return out


def rate_units(rate: Decimal) -> int:
    """An exchange rate as an integer count of 1e-8 units; refuses finer rates."""
    scaled = rate * RATE_SCALE
    if scaled != scaled.to_integral_value():
        raise ValueError(f"An exchange rate has at most eight decimals: {rate}")
    return int(scaled)


def convert_cents(cents: Iterable[int], rates: Iterable[int]) -> np.ndarray:
    """Cents in a deal's currency times a rate (1e-8 units), rounded half-up (away from zero)."""
    out = []
    for amount, rate in zip(cents, rates, strict=True):
        product = int(amount) * int(rate)
        magnitude = (abs(product) + RATE_SCALE // 2) // RATE_SCALE
        out.append(magnitude if product >= 0 else -magnitude)
    return np.asarray(out, dtype=np.int64)


def direct_credits(deals: pd.DataFrame, splits: pd.DataFrame) -> pd.DataFrame:
    """Owner and split credits of `deals`, one row per (deal, payee).

    `deals`: deal_id, owner_id, amount_cents, units, margin_cents (nullable).
    `splits`: deal_id, person_id, share (hundredths of a percent), split_id; deals listed
    here are credited by their splits only (the caller has checked they add up to WHOLE).
    Returns deal_id, payee_id, role ("owner" / "split"), share, split_id, amount_cents, units,
    margin_cents (Int64, missing where the deal has no margin).
    """
    split_deals = set(splits["deal_id"]) if len(splits) else set()
    owned = deals[~deals["deal_id"].isin(split_deals)]
    owner_rows = pd.DataFrame({
        "deal_id": owned["deal_id"].to_numpy(),
        "payee_id": owned["owner_id"].to_numpy(),
        "role": "owner",
        "share": WHOLE,
        "split_id": pd.array([pd.NA] * len(owned), dtype="Int64"),
    })
    split_rows = pd.DataFrame({
        "deal_id": splits["deal_id"].to_numpy(),
        "payee_id": splits["person_id"].to_numpy(),
        "role": "split",
        "share": splits["share"].to_numpy(dtype=np.int64),
        "split_id": pd.array(splits["split_id"].to_numpy(), dtype="Int64"),
    }) if len(splits) else owner_rows.iloc[0:0]
    rows = pd.concat([owner_rows, split_rows], ignore_index=True)
    rows = rows.merge(deals[["deal_id", "amount_cents", "units", "margin_cents"]],
                      on="deal_id", how="inner", validate="many_to_one")
    rows = rows.sort_values(["deal_id", "share", "payee_id"], ascending=[True, False, True],
                            kind="stable").reset_index(drop=True)
    shares = rows["share"].to_numpy(dtype=np.int64)
    groups = rows["deal_id"].to_numpy()
    amount = allocate(rows["amount_cents"].to_numpy(dtype=np.int64), shares, groups)
    units = allocate(rows["units"].to_numpy(dtype=np.int64), shares, groups)
    margin_known = rows["margin_cents"].notna().to_numpy()
    margin_total = rows["margin_cents"].fillna(0).to_numpy(dtype=np.int64)
    margin = allocate(margin_total, shares, groups)
    rows["amount_cents"] = amount
    rows["units"] = units
    rows["margin_cents"] = pd.array(np.where(margin_known, margin, 0), dtype="Int64")
    rows.loc[~margin_known, "margin_cents"] = pd.NA
    rows["share"] = shares
    return rows


def manager_chains(teams: pd.DataFrame) -> dict[int, tuple[int, ...]]:
    """For each team: the managers above a member, nearest first (its own manager included,
    each person once). `teams`: team_id, path ("/1/4/9/"), manager_id (nullable)."""
    manager_of = {int(t): (None if pd.isna(mgr) else int(mgr))
                  for t, mgr in zip(teams["team_id"], teams["manager_id"], strict=True)}
    chains = {}
    for team_id, path in zip(teams["team_id"], teams["path"], strict=True):
        chain: list[int] = []
        for ancestor in reversed([int(p) for p in str(path).strip("/").split("/") if p]):
            manager = manager_of.get(ancestor)
            if manager is not None and manager not in chain:
                chain.append(manager)
        chains[int(team_id)] = tuple(chain)
    return chains


def manager_rollup(credits: pd.DataFrame, memberships: pd.DataFrame,
                   teams: pd.DataFrame) -> pd.DataFrame:
    """Which managers each credit rolls up to: (row, manager_id), nearest manager first.

    `credits`: row, payee_id, credit_date. `memberships`: person_id, team_id, valid_from,
    valid_to (NaT = open), effective-dated. A credit rolls up through the team its payee was
    in on the credit date to the manager of that team and of every team above it, skipping
    the payee themself. A payee in no team on that date rolls up to nobody.
    """
    empty = pd.DataFrame({"row": pd.Series(dtype=np.int64),
                          "manager_id": pd.Series(dtype=np.int64)})
    if credits.empty or memberships.empty or teams.empty:
        return empty
    joined = credits[["row", "payee_id", "credit_date"]].merge(
        memberships, left_on="payee_id", right_on="person_id", how="inner")
    day = pd.to_datetime(joined["credit_date"])
    start = pd.to_datetime(joined["valid_from"])
    end = pd.to_datetime(joined["valid_to"])
    inside = (start <= day) & (end.isna() | (day < end))
    placed = joined.loc[inside].sort_values(["row", "valid_from"]).drop_duplicates("row")
    if placed.empty:
        return empty
    chains = manager_chains(teams)
    placed = placed.assign(manager_id=placed["team_id"].map(
        lambda t: list(chains.get(int(t), ()))))
    exploded = placed.explode("manager_id").dropna(subset=["manager_id"])
    exploded = exploded[exploded["manager_id"].astype(np.int64)
                        != exploded["payee_id"].astype(np.int64)]
    return pd.DataFrame({"row": exploded["row"].to_numpy(dtype=np.int64),
                         "manager_id": exploded["manager_id"].to_numpy(dtype=np.int64)})
