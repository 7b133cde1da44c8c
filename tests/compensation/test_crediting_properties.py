"""Property tests of the crediting arithmetic against per-row reference implementations: splits
conserve every deal to the cent, and the manager roll-up credits exactly each manager's subtree
on the credit date."""

from __future__ import annotations

import datetime
from fractions import Fraction

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from compensation.crediting import (
    WHOLE,
    allocate,
    convert_cents,
    direct_credits,
    manager_rollup,
)

# -- reference implementations (one row at a time, exact fractions) ----------------------------


def reference_allocate(total: int, shares: list[int]) -> list[int]:
    """Largest remainder with exact fractions; ties go to the earlier row."""
    exact = [Fraction(total * s, WHOLE) for s in shares]
    floors = [e.numerator // e.denominator for e in exact]
    left = total - sum(floors)
    order = sorted(range(len(shares)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return floors


def reference_chain(team_id: int, parent: dict[int, int | None],
                    manager: dict[int, int | None]) -> list[int]:
    chain: list[int] = []
    node: int | None = team_id
    while node is not None:
        m = manager[node]
        if m is not None and m not in chain:
            chain.append(m)
        node = parent[node]
    return chain


# -- strategies --------------------------------------------------------------------------------

share_lists = st.lists(st.integers(1, WHOLE), min_size=1, max_size=6).map(
    lambda raw: _normalise(raw))


def _normalise(raw: list[int]) -> list[int]:
    """Positive shares adding up to exactly WHOLE, in proportion to `raw`."""
    total = sum(raw)
    shares = [max(1, r * WHOLE // total) for r in raw]
    shares[-1] += WHOLE - sum(shares)
    if shares[-1] <= 0:  # too many rounded up: fall back to one share
        return [WHOLE]
    return shares


totals = st.one_of(st.integers(0, 10**12), st.sampled_from([0, 1, 2, 99, 100, 101, 9999]))


@settings(max_examples=300, deadline=None)
@given(groups=st.lists(st.tuples(totals, share_lists), min_size=1, max_size=8))
def test_split_parts_add_up_to_the_deal_exactly_and_match_the_reference(groups):
    rows_total, rows_share, rows_group = [], [], []
    for g, (total, shares) in enumerate(groups):
        for share in shares:
            rows_total.append(total)
            rows_share.append(share)
            rows_group.append(g)
    parts = allocate(np.array(rows_total), np.array(rows_share), np.array(rows_group))
    start = 0
    for total, shares in groups:
        mine = [int(p) for p in parts[start:start + len(shares)]]
        start += len(shares)
        assert sum(mine) == total
        assert mine == reference_allocate(total, shares)


@settings(max_examples=200, deadline=None)
@given(deals=st.lists(st.tuples(totals, st.integers(0, 500), st.none() | totals,
                                st.none() | share_lists), min_size=1, max_size=10))
def test_direct_credits_conserve_amount_units_and_margin_of_every_deal(deals):
    deal_rows, split_rows = [], []
    for i, (amount, units, margin, shares) in enumerate(deals):
        deal_rows.append({"deal_id": i + 1, "owner_id": 1000 + i, "amount_cents": amount,
                          "units": units, "margin_cents": margin})
        for j, share in enumerate(shares or []):
            split_rows.append({"deal_id": i + 1, "person_id": 2000 + j, "share": share,
                               "split_id": len(split_rows) + 1})
    frame = pd.DataFrame(deal_rows).astype({"margin_cents": "Int64"})
    splits = pd.DataFrame(split_rows, columns=["deal_id", "person_id", "share", "split_id"])
    credits = direct_credits(frame, splits)
    for i, (amount, units, margin, shares) in enumerate(deals):
        mine = credits[credits["deal_id"] == i + 1]
        assert int(mine["amount_cents"].sum()) == amount
        assert int(mine["units"].sum()) == units
        if margin is None:
            assert mine["margin_cents"].isna().all()
        else:
            assert int(mine["margin_cents"].sum()) == margin
        assert len(mine) == (len(shares) if shares else 1)
        assert set(mine["role"]) == ({"split"} if shares else {"owner"})


@settings(max_examples=200, deadline=None)
@given(cents=st.lists(st.integers(-10**12, 10**12), min_size=1, max_size=20),
       rate=st.integers(1, 10**10))
def test_conversion_rounds_half_away_from_zero_like_decimal(cents, rate):
    from decimal import ROUND_HALF_UP, Decimal

    expected = [int((Decimal(c) * Decimal(rate) / Decimal(10**8))
                    .quantize(Decimal(1), rounding=ROUND_HALF_UP)) for c in cents]
    assert list(convert_cents(cents, [rate] * len(cents))) == expected


@st.composite
def organisations(draw):
    """A random team forest with managers, memberships that change over time, and credits."""
    n_teams = draw(st.integers(1, 7))
    parent: dict[int, int | None] = {}
    for t in range(1, n_teams + 1):
        parent[t] = draw(st.none() | st.integers(1, t - 1)) if t > 1 else None
    people = list(range(100, 112))
    manager = {t: draw(st.none() | st.sampled_from(people)) for t in parent}

    def path(t: int) -> str:
        nodes = []
        node: int | None = t
        while node is not None:
            nodes.append(node)
            node = parent[node]
        return "/" + "/".join(str(n) for n in reversed(nodes)) + "/"

    teams = pd.DataFrame({"team_id": list(parent), "path": [path(t) for t in parent],
                          "manager_id": pd.array([manager[t] for t in parent], dtype="Int64")})
    memberships = []
    start = datetime.date(2026, 1, 1)
    for person in people:
        day = start + datetime.timedelta(days=draw(st.integers(0, 20)))
        for _ in range(draw(st.integers(0, 3))):
            length = draw(st.integers(1, 40))
            memberships.append({"person_id": person, "team_id": draw(st.sampled_from(
                list(parent))), "valid_from": day,
                "valid_to": day + datetime.timedelta(days=length)})
            day += datetime.timedelta(days=length + draw(st.integers(0, 5)))
        if memberships and memberships[-1]["person_id"] == person and draw(st.booleans()):
            memberships[-1]["valid_to"] = None
    credits = pd.DataFrame([
        {"row": i, "payee_id": draw(st.sampled_from(people)),
         "credit_date": start + datetime.timedelta(days=draw(st.integers(0, 120))),
         "amount_cents": draw(st.integers(0, 10**9))}
        for i in range(draw(st.integers(0, 25)))],
        columns=["row", "payee_id", "credit_date", "amount_cents"])
    return parent, manager, teams, pd.DataFrame(
        memberships, columns=["person_id", "team_id", "valid_from", "valid_to"]), credits


@settings(max_examples=200, deadline=None)
@given(world=organisations())
def test_each_credit_rolls_up_to_exactly_the_managers_above_its_payee_on_its_date(world):
    parent, manager, teams, memberships, credits = world
    rolled = manager_rollup(credits, memberships, teams)
    expected = set()
    for credit in credits.itertuples():
        team = next((m.team_id for m in memberships.itertuples()
                     if m.person_id == credit.payee_id and m.valid_from <= credit.credit_date
                     and (m.valid_to is None or pd.isna(m.valid_to)
                          or credit.credit_date < m.valid_to)), None)
        if team is None:
            continue
        for boss in reference_chain(team, parent, manager):
            if boss != credit.payee_id:
                expected.add((credit.row, boss))
    assert set(zip(rolled["row"], rolled["manager_id"], strict=True)) == expected
    # Roll-up conserves money: a manager's roll-up total is their subtree's credits, no more.
    amount = credits.set_index("row")["amount_cents"]
    for boss in {b for _, b in expected}:
        rows = [r for r, b in expected if b == boss]
        got = rolled.loc[rolled["manager_id"] == boss, "row"].map(amount).sum()
        assert int(got) == int(amount.loc[rows].sum())
