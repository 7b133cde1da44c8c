"""Hypothesis strategies: random plans, quotas, assignments and credits that hit tier edges.

Amounts are drawn half from a plain range (negative reversals included) and half from values
that land exactly on, or one cent either side of, the tier and gate boundaries the drawn plan
and quotas create, so cumulative totals cross boundaries exactly as often as they straddle them.
"""

from __future__ import annotations

import datetime
import math
from decimal import Decimal
from fractions import Fraction

import pandas as pd
from hypothesis import strategies as st

from compensation.engine.plans import (
    Cap,
    Clawback,
    Component,
    CreditFilter,
    CurvePoint,
    Draw,
    Gate,
    Mbo,
    Milestone,
    MilestoneBonus,
    PayoutCurve,
    PlanVersion,
    RateTable,
    Spiff,
    Tier,
)

PERIODS = ("2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04")
PAYEES = (101, 102, 103)
PRODUCT_LINES = ("cloud", "onprem", "services")
QUOTAS = (0, 1, 3, 997, 100_000, 333_333, 1_000_000, 2_500_000)
ATTAINMENTS = tuple(Decimal(v) for v in ("0.25", "0.5", "0.8", "0.9999", "1", "1.2", "1.5", "2"))
AMOUNT_BOUNDS = tuple(Decimal(v) for v in ("0.01", "10.00", "1000.00", "2500.50", "10000.00"))
UNIT_BOUNDS = tuple(Decimal(v) for v in ("1", "2", "5", "10", "40"))
PERCENTS = tuple(Decimal(v) for v in ("0", "0.01", "0.0333", "0.07", "0.08", "0.0825", "0.125",
                                      "0.333", "1"))
MULTIPLIERS = tuple(Decimal(v) for v in ("0", "0.5", "1", "1.25", "1.5", "3"))
MONEY = tuple(Decimal(v) for v in ("0.01", "25.00", "500.00", "1234.56", "20000.00"))


@st.composite
def tiers(draw, basis: str, measure: str) -> tuple[Tier, ...]:
    pool = ATTAINMENTS if basis == "attainment" else (
        UNIT_BOUNDS if measure == "units" else AMOUNT_BOUNDS)
    uppers = sorted(draw(st.sets(st.sampled_from(pool), max_size=3)))
    lowers = [Decimal(0), *uppers]
    use_multiplier = draw(st.booleans())
    out = []
    for i, lower in enumerate(lowers):
        upper = uppers[i] if i < len(uppers) else None
        if use_multiplier:
            out.append(Tier(lower, upper, multiplier=draw(st.sampled_from(MULTIPLIERS))))
        elif measure == "units":
            out.append(Tier(lower, upper, rate=draw(st.sampled_from(MONEY))))
        else:
            out.append(Tier(lower, upper, rate=draw(st.sampled_from(PERCENTS))))
    return tuple(out)


@st.composite
def caps(draw, ytd: bool) -> tuple[Cap, ...]:
    spans = ("year",) if ytd else ("period", "year")
    found = []
    for _ in range(draw(st.integers(0, 2))):
        per = draw(st.sampled_from(spans))
        if draw(st.booleans()):
            found.append(Cap(per, amount=draw(st.sampled_from(MONEY))))
        else:
            found.append(Cap(per, target_multiple=draw(st.sampled_from(MULTIPLIERS))))
    return tuple(found)


@st.composite
def gates(draw, with_deal_size: bool = True) -> Gate | None:
    if not draw(st.booleans()):
        return None
    minimum = draw(st.none() | st.sampled_from(ATTAINMENTS))
    deal = draw(st.none() | st.sampled_from(MONEY)) if with_deal_size else None
    if minimum is None and deal is None:
        return None
    return Gate(min_attainment=minimum, min_deal_amount=deal)


@st.composite
def filters(draw) -> CreditFilter | None:
    if not draw(st.booleans()):
        return None
    return CreditFilter(
        product_lines=tuple(sorted(draw(st.sets(st.sampled_from(PRODUCT_LINES), max_size=2)))),
        new_logo=draw(st.none() | st.booleans()),
        deal_amount_at_least=draw(st.none() | st.just(Decimal("1000.00"))),
        closed_before=draw(st.none() | st.just(datetime.date(2026, 2, 15))),
    )


@st.composite
def components(draw, code: str, focus: str = "") -> Component:
    """Any component; focus "ytd" draws year-to-date rate tables, "rounding" cumulative ones."""
    kind = "rate_table" if focus else draw(st.sampled_from(
        ("rate_table", "rate_table", "rate_table", "spiff", "payout_curve", "milestone_bonus",
         "mbo")))
    measure = "amount" if focus else draw(st.sampled_from(("amount", "amount", "units",
                                                           "margin")))
    period = draw(st.sampled_from(("month", "quarter") if focus else
                                  ("month", "month", "quarter", "year")))
    common = {"code": code, "name": code.title(), "measure": measure, "period": period}
    if kind == "rate_table":
        basis = "attainment" if focus == "ytd" else draw(st.sampled_from(("attainment",
                                                                          "amount")))
        evaluation = "cumulative" if focus else draw(st.sampled_from(
            ("cumulative", "cumulative", "per_transaction")))
        ytd = focus == "ytd" or (evaluation == "cumulative" and period != "year"
                                 and not focus and draw(st.booleans()))
        table = RateTable(
            tiers=draw(tiers(basis, measure)), basis=basis,
            method=draw(st.sampled_from(("graduated", "retroactive", "base_plus_overage"))),
            evaluation=evaluation,
            base_rate=draw(st.sampled_from(MONEY if measure == "units" else PERCENTS)),
        )
        return Component(formula=table, ytd_true_up=ytd,
                         filter=None if focus else draw(filters()),
                         gate=draw(gates(with_deal_size=not focus)), caps=draw(caps(ytd)),
                         clawback=draw(st.none() | st.builds(
                             Clawback, st.sampled_from((1, 30, 90)),
                             st.sampled_from(("full", "prorated")))), **common)
    if kind == "spiff":
        pay = draw(st.sampled_from(("per_deal", "per_unit", "percent")))
        if pay == "percent" and measure == "units":
            common["measure"] = "amount"
        value = draw(st.sampled_from(PERCENTS if pay == "percent" else MONEY))
        return Component(formula=Spiff(**{pay: value}), filter=draw(filters()),
                         gate=draw(gates()), caps=draw(caps(False)), **common)
    ytd = draw(st.booleans()) and kind != "mbo"
    if kind == "payout_curve":
        attainments = sorted(draw(st.sets(st.sampled_from(ATTAINMENTS), min_size=1,
                                          max_size=3)))
        points = [CurvePoint(Decimal(0), draw(st.sampled_from(PERCENTS)))] + [
            CurvePoint(a, draw(st.sampled_from((*PERCENTS, Decimal("1.75")))))
            for a in attainments]
        return Component(formula=PayoutCurve(tuple(points)), ytd_true_up=ytd,
                         filter=draw(filters()), gate=draw(gates()), caps=draw(caps(ytd)),
                         **common)
    if kind == "milestone_bonus":
        attainments = sorted(draw(st.sets(st.sampled_from(ATTAINMENTS), min_size=1,
                                          max_size=3)))
        milestones = tuple(
            Milestone(a, amount=draw(st.sampled_from(MONEY))) if draw(st.booleans())
            else Milestone(a, of_target=draw(st.sampled_from(PERCENTS))) for a in attainments)
        return Component(formula=MilestoneBonus(milestones), ytd_true_up=ytd,
                         filter=draw(filters()), gate=draw(gates()), caps=draw(caps(ytd)),
                         **common)
    return Component(formula=Mbo(weight=draw(st.sampled_from(PERCENTS)),
                                 max_score=draw(st.sampled_from((Decimal(1), Decimal("1.2"))))),
                     caps=draw(caps(False)), **common)


@st.composite
def plans(draw, focus: str = "") -> dict[str, PlanVersion]:
    found = {}
    for key in ("AE",) if focus else draw(st.sampled_from((("AE",), ("AE", "SE")))):
        n = draw(st.integers(1, 2 if focus else 3))
        found[key] = PlanVersion(key, 1, components=tuple(
            draw(components(f"{key.lower()}-{i}", focus)) for i in range(n)))
    return found


def boundary_amounts(plans_: dict[str, PlanVersion]) -> list[int]:
    """Cents (or units) that sit exactly on, or a cent beside, the plans' boundaries."""
    values = {0, 1, -1}
    for plan in plans_.values():
        for c in plan.components:
            edges: list[Decimal] = []
            f = c.formula
            if isinstance(f, RateTable):
                edges = [t.lower for t in f.tiers]
            elif isinstance(f, PayoutCurve):
                edges = [p.attainment for p in f.points]
            elif isinstance(f, MilestoneBonus):
                edges = [m.attainment for m in f.milestones]
            if c.gate is not None and c.gate.min_attainment is not None:
                edges.append(c.gate.min_attainment)
            for edge in edges:
                if isinstance(f, RateTable) and f.basis == "amount":
                    base = int(edge) if c.measure == "units" else int(edge * 100)
                    values |= {base - 1, base, base + 1}
                else:
                    for quota in QUOTAS:
                        base = math.ceil(quota * Fraction(edge))
                        values |= {base - 1, base, base + 1}
    return sorted(values)


@st.composite
def scenarios(draw, *, max_credits: int = 16, focus: str = "") -> dict[str, object]:
    """Plans plus every input table compute() takes.

    focus "ytd": year-to-date tables over several months with quotas everywhere; "rounding":
    one payee and many credits a window, so cumulative rounding carries show up.
    """
    plan_map = draw(plans(focus))
    keys = list(plan_map)
    first = draw(st.integers(0, len(PERIODS) - 2))
    longest = len(PERIODS) - first if focus == "ytd" else min(4, len(PERIODS) - first)
    periods = PERIODS[first:first + draw(st.integers(1, longest))]
    payees = PAYEES[:1] if focus == "rounding" else PAYEES[:draw(st.integers(1, len(PAYEES)))]
    if focus == "rounding":
        max_credits = 40
    rows = []
    for payee in payees:
        for period in periods:
            choice = "one" if focus else draw(st.sampled_from(
                ("one",) * 8 + ("none", "split", "overlap")))
            if choice == "none":
                continue
            target = draw(st.sampled_from((0, 100_000, 500_000, 833_333)))
            share = draw(st.sampled_from(("1", "1", "1/2", "15/31", "0.3")))
            year, month = map(int, period.split("-"))
            middle = datetime.date(year, month, 16)
            if choice == "one" or (len(keys) == 1 and choice == "split"):
                rows.append({"payee_id": payee, "period": period,
                             "plan": draw(st.sampled_from(keys)),
                             "target_incentive_cents": target, "proration": share,
                             "valid_from": None, "valid_to": None})
            elif choice == "split":
                rows.append({"payee_id": payee, "period": period, "plan": keys[0],
                             "target_incentive_cents": target, "proration": "1/2",
                             "valid_from": None, "valid_to": middle})
                rows.append({"payee_id": payee, "period": period, "plan": keys[1],
                             "target_incentive_cents": target, "proration": "1/2",
                             "valid_from": middle, "valid_to": None})
            else:
                for key in keys if len(keys) > 1 else keys * 2:
                    rows.append({"payee_id": payee, "period": period, "plan": key,
                                 "target_incentive_cents": target, "proration": share,
                                 "valid_from": None, "valid_to": None})
    assignments = pd.DataFrame(rows, columns=["payee_id", "period", "plan",
                                              "target_incentive_cents", "proration",
                                              "valid_from", "valid_to"])
    assignments["valid_from"] = pd.to_datetime(assignments["valid_from"])
    assignments["valid_to"] = pd.to_datetime(assignments["valid_to"])
    assignments["target_incentive_cents"] = assignments["target_incentive_cents"].astype("int64")

    quota_rows = []
    for payee in payees:
        for period in periods:
            if draw(st.integers(0, 7)) == 0 and not focus:
                continue
            quota_rows.append({"payee_id": payee, "period": period,
                               "quota_cents": draw(st.sampled_from(QUOTAS[1:] if focus
                                                                   else QUOTAS)),
                               "quota_units": draw(st.sampled_from((0, 1, 3, 10, 25))),
                               "quota_margin_cents": draw(st.sampled_from(QUOTAS))})
    quotas = pd.DataFrame(quota_rows, columns=["payee_id", "period", "quota_cents",
                                               "quota_units", "quota_margin_cents"]).astype(
        {"quota_cents": "int64", "quota_units": "int64", "quota_margin_cents": "int64"})

    special = boundary_amounts(plan_map)
    amount = st.one_of(st.integers(-300_000, 3_000_000), st.sampled_from(special))
    credit_rows = []
    for number in range(draw(st.integers(0, max_credits))):
        period = draw(st.sampled_from(periods))
        year, month = map(int, period.split("-"))
        day = datetime.date(year, month, draw(st.integers(1, 28)))
        cents = draw(amount)
        credit_rows.append({
            "credit_id": 1000 + number,
            "payee_id": draw(st.sampled_from(payees)),
            "deal_id": 5000 + draw(st.integers(0, max_credits)),
            "period": period,
            "credit_date": day,
            "amount_cents": cents,
            "units": draw(st.one_of(st.integers(-3, 30), st.sampled_from(special))),
            "margin_cents": draw(amount),
            "product_line": draw(st.sampled_from(PRODUCT_LINES)),
            "deal_type": draw(st.sampled_from(("new", "renewal"))),
            "is_new_logo": draw(st.booleans()),
            "deal_amount_cents": abs(cents) + draw(st.sampled_from((0, 0, 50_000, 2_000_000))),
            "close_date": day - datetime.timedelta(days=draw(st.integers(0, 20))),
        })
    credits = pd.DataFrame(credit_rows, columns=[
        "credit_id", "payee_id", "deal_id", "period", "credit_date", "amount_cents", "units",
        "margin_cents", "product_line", "deal_type", "is_new_logo", "deal_amount_cents",
        "close_date"])
    credits["credit_date"] = pd.to_datetime(credits["credit_date"])
    credits["close_date"] = pd.to_datetime(credits["close_date"])
    credits = credits.astype({"credit_id": "int64", "payee_id": "int64", "deal_id": "int64",
                              "amount_cents": "int64", "units": "int64",
                              "margin_cents": "int64", "deal_amount_cents": "int64",
                              "is_new_logo": "bool"})
    score_rows = []
    for key, plan in plan_map.items():
        for c in plan.components:
            if isinstance(c.formula, Mbo):
                for payee in payees:
                    for window in ("FY2026", "FY2026-Q1", "FY2026-Q2", "FY2025-Q4",
                                   *periods):
                        if draw(st.integers(0, 2)) == 0:
                            score_rows.append({"payee_id": payee, "component": c.code,
                                               "window": window, "score_pct": draw(
                                                   st.sampled_from(("0", "85", "100",
                                                                    "133.33", "150")))})
        del key
    mbo = pd.DataFrame(score_rows, columns=["payee_id", "component", "window", "score_pct"])
    return {"plans": plan_map, "credits": credits, "quotas": quotas,
            "assignments": assignments, "mbo_scores": mbo}


@st.composite
def draw_plans(draw) -> dict[str, PlanVersion]:
    """One plan: a commission that claws back, and a recoverable draw or a guarantee."""
    recoverable = draw(st.booleans())
    commission = Component(
        "commission", "Commission",
        RateTable(tiers=(Tier(Decimal(0), Decimal("1"), rate=Decimal("0.1")),
                         Tier(Decimal("1"), None, rate=Decimal("0.15")))),
        clawback=Clawback(draw(st.sampled_from((30, 90))), draw(st.sampled_from(
            ("full", "prorated")))))
    if recoverable:
        formula = Draw(True, amount=draw(st.sampled_from(MONEY)) if draw(st.booleans()) else None,
                       of_target=None, max_recovery_per_period=draw(
                           st.none() | st.sampled_from(MONEY)),
                       recovery_start=draw(st.none() | st.sampled_from(PERIODS)),
                       last_draw_period=draw(st.none() | st.sampled_from(PERIODS)))
        if formula.amount is None:
            formula = Draw(True, of_target=draw(st.sampled_from(PERCENTS)),
                           max_recovery_per_period=formula.max_recovery_per_period,
                           recovery_start=formula.recovery_start,
                           last_draw_period=formula.last_draw_period)
    else:
        formula = Draw(False, amount=draw(st.sampled_from(MONEY)),
                       last_draw_period=draw(st.none() | st.sampled_from(PERIODS)))
    return {"AE": PlanVersion("AE", 1, components=(
        commission, Component("draw", "Draw", formula, period=draw(st.sampled_from(
            ("month", "month", "quarter")))),
    ))}
