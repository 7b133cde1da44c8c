"""Shared pieces of the per-row reference: formatting, the inputs as rows, lines, gates, caps.

Written from the rules in docs/plans.md, one value at a time, with nothing taken from
compensation.engine but the plan dataclasses and the calendar's key tuples.
"""

from __future__ import annotations

import datetime
import math
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

import pandas as pd

from compensation.engine.calendar import Calendar

NA = None
MEASURE_FIELD = {"amount": "amount_cents", "units": "units", "margin": "margin_cents"}
QUOTA_FIELD = {"amount": "quota_cents", "units": "quota_units", "margin": "quota_margin_cents"}


# ---- formatting, written out per value ----------------------------------------------------
def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100:,}.{abs(cents) % 100:02d}"


def count(n: int) -> str:
    return f"{n:,}"


def qty(n: int, measure: str) -> str:
    return count(n) if measure == "units" else money(n)


def round_half_up(value: Fraction) -> int:
    magnitude = math.floor(abs(value) + Fraction(1, 2))
    return -magnitude if value < 0 else magnitude


def shown_percent(value: Fraction) -> str:
    return money(round_half_up(value * 10000)) + "%"


def pct_label(value: Decimal) -> str:
    return f"{(value * 100).normalize():f}%"


def money_label(value: Decimal) -> str:
    if value == value.quantize(Decimal("0.01")):
        return f"{value.quantize(Decimal('0.01')):,f}"
    return f"{value.normalize():,f}"


def to_cents(value: Decimal) -> int:
    return int(value * 100)


# ---- inputs --------------------------------------------------------------------------------
def as_date(value: object) -> datetime.date:
    return pd.Timestamp(value).date()


def as_fraction(value: object) -> Fraction:
    if isinstance(value, str):
        return Fraction(value) if "/" in value else Fraction(Decimal(value))
    if isinstance(value, Decimal):
        return Fraction(value)
    return Fraction(int(value))


class Env:
    """The inputs as plain Python rows and dicts."""

    def __init__(self, plans, credits, quotas, assignments, mbo_scores, calendar):
        keys = {str(k) for k in credits["period"]} | {str(k) for k in quotas["period"]} | {
            str(k) for k in assignments["period"]}
        self.calendar = calendar or Calendar.covering(keys)
        self.periods = list(self.calendar.periods)
        self.pos = {p: i for i, p in enumerate(self.periods)}
        self.plans = plans
        self.quota_columns = set(quotas.columns)
        self.quota: dict[tuple, dict] = {}
        for row in quotas.to_dict("records"):
            self.quota[(row["payee_id"], str(row["period"]))] = row
        self.assign_rows = []
        for row in assignments.to_dict("records"):
            proration = as_fraction(row["proration"]) if "proration" in row else Fraction(1)
            target = int(row.get("target_incentive_cents", 0) or 0)
            self.assign_rows.append({
                "payee": row["payee_id"], "period": str(row["period"]),
                "plan": str(row["plan"]),
                "from": as_date(row["valid_from"]) if not pd.isna(row.get("valid_from"))
                else None,
                "to": as_date(row["valid_to"]) if not pd.isna(row.get("valid_to")) else None,
                "target": round_half_up(target * proration),
            })
        self.held = {(a["payee"], a["period"], a["plan"]) for a in self.assign_rows}
        self.target = defaultdict(int)
        for a in self.assign_rows:
            self.target[(a["payee"], a["period"], a["plan"])] += a["target"]
        rows = credits.to_dict("records")
        for row in rows:
            row["day"] = as_date(row["credit_date"])
            if "close_date" in row and not pd.isna(row["close_date"]):
                row["close"] = as_date(row["close_date"])
            row["period"] = str(row["period"])
        rows.sort(key=lambda r: (r["payee_id"], self.pos[r["period"]], r["day"], r["credit_id"]))
        self.credits = rows
        self.issues = []
        by_month = defaultdict(list)
        for a in self.assign_rows:
            by_month[(a["payee"], a["period"])].append(a)
        for row in rows:
            plans_here = {a["plan"] for a in by_month[(row["payee_id"], row["period"])]
                          if (a["from"] is None or row["day"] >= a["from"])
                          and (a["to"] is None or row["day"] < a["to"])}
            row["plan"] = next(iter(plans_here)) if len(plans_here) == 1 else None
            if not plans_here:
                self.issues.append(("error", "unassigned_credit", row["payee_id"],
                                    row["period"], "", "", row["credit_id"]))
            elif len(plans_here) > 1:
                self.issues.append(("error", "ambiguous_assignment", row["payee_id"],
                                    row["period"], "", "", row["credit_id"]))
        self.mbo = {}
        if mbo_scores is not None:
            for row in mbo_scores.to_dict("records"):
                self.mbo[(row["payee_id"], str(row["component"]), str(row["window"]))] = \
                    as_fraction(row["score_pct"]) / 100
        self.payees = sorted({r["payee_id"] for r in rows} | {a["payee"] for a in
                                                              self.assign_rows})

    # windows, straight from the calendar's tuples
    def window_of(self, period: str, cadence: str) -> str:
        i = self.pos[period]
        return {"month": self.calendar.periods, "quarter": self.calendar.quarters,
                "year": self.calendar.years}[cadence][i]

    def windows(self, cadence: str) -> list[str]:
        seen = []
        for p in self.periods:
            w = self.window_of(p, cadence)
            if w not in seen:
                seen.append(w)
        return seen

    def months(self, window: str, cadence: str) -> list[str]:
        return [p for p in self.periods if self.window_of(p, cadence) == window]

    def year_of(self, window: str, cadence: str) -> str:
        return self.window_of(self.months(window, cadence)[0], "year")

    def pay_period(self, window: str, cadence: str) -> str:
        return self.months(window, cadence)[-1]

    def span(self, window: str, comp) -> list[str]:
        """Base periods a window's figures cover: the window, or the year through it (YTD)."""
        months = self.months(window, comp.period)
        if not comp.ytd_true_up:
            return months
        year = self.window_of(months[0], "year")
        return [p for p in self.periods if self.window_of(p, "year") == year
                and self.pos[p] <= self.pos[months[-1]]]

    def quota_of(self, payee, months, plan, measure) -> int:
        column = QUOTA_FIELD[measure]
        total = 0
        for m in months:
            row = self.quota.get((payee, m))
            if row is not None and (payee, m, plan) in self.held and column in row:
                total += int(row[column])
        return total

    def target_of(self, payee, months, plan) -> int:
        return sum(self.target[(payee, m, plan)] for m in months)

    def active(self, payee, window, comp, plan) -> bool:
        return any((payee, m, plan) in self.held for m in self.months(window, comp.period))


def matches(comp, c) -> bool:
    f = comp.filter
    if f is None:
        return True
    if f.product_lines and c["product_line"] not in f.product_lines:
        return False
    if f.deal_types and c["deal_type"] not in f.deal_types:
        return False
    if f.new_logo is not None and bool(c["is_new_logo"]) != f.new_logo:
        return False
    if f.deal_amount_at_least is not None and c["deal_amount_cents"] < to_cents(
            f.deal_amount_at_least):
        return False
    if f.deal_amount_below is not None and c["deal_amount_cents"] >= to_cents(
            f.deal_amount_below):
        return False
    if f.closed_on_or_after is not None and c["close"] < f.closed_on_or_after:
        return False
    return not (f.closed_before is not None and c["close"] >= f.closed_before)


def clears_deal_size(comp, c) -> bool:
    gate = comp.gate
    if gate is None or gate.min_deal_amount is None:
        return True
    return c["deal_amount_cents"] >= to_cents(gate.min_deal_amount)


# ---- lines -----------------------------------------------------------------------------------
def make_line(env, comp, plan_key, payee, window, **fields) -> dict:
    line = {
        "payee_id": payee, "period": env.pay_period(window, comp.period), "window": window,
        "plan": plan_key, "component": comp.code, "kind": comp.kind, "line_type": "credit",
        "deal_id": NA, "credit_id": NA, "measure": comp.measure, "basis": 0,
        "cumulative": NA, "quota": NA, "tier": NA, "rate": NA, "amount_cents": 0,
        "rounding_carry_cents": 0, "capped_cents": 0, "explanation": "",
    }
    line.update(fields)
    return line


def gate_passes(comp, basis: int, quota: int) -> bool:
    gate = comp.gate
    if gate is None or gate.min_attainment is None:
        return True
    return quota > 0 and Fraction(basis, quota) >= Fraction(gate.min_attainment)


def gate_words(comp, basis, quota, has_quota, window, paid_words) -> str:
    gate = comp.gate
    if gate is None or gate.min_attainment is None:
        return ""
    label = pct_label(gate.min_attainment)
    if not has_quota:
        return f"; no quota for {window} to test the {label} gate{paid_words}"
    if not gate_passes(comp, basis, quota):
        return f"; attainment {shown_percent(Fraction(basis, quota))} is below the {label} " \
               f"gate{paid_words}"
    return ""


def apply_caps(env, comp, plan_key, lines: list[dict]) -> None:
    """Period cap on each window's running total, then the yearly cap on the year's."""
    def limit(per, payee, window):
        caps = [c for c in comp.caps if c.per == per]
        if not caps:
            return None
        if per == "period":
            target = env.target_of(payee, env.months(window, comp.period), plan_key)
        else:
            year = env.year_of(window, comp.period)
            target = env.target_of(payee, [p for p in env.periods
                                           if env.window_of(p, "year") == year], plan_key)
        values = [to_cents(c.amount) if c.amount is not None
                  else round_half_up(Fraction(c.target_multiple) * target) for c in caps]
        return min(values)

    for per in ("period", "year"):
        running = defaultdict(int)
        for line in lines:
            key = (line["payee_id"], line["window"] if per == "period"
                   else env.year_of(line["window"], comp.period))
            cap = limit(per, line["payee_id"], line["window"])
            before = running[key]
            running[key] += line["amount_cents"]
            if cap is None:
                continue
            paid = min(running[key], cap) - min(before, cap)
            if paid != line["amount_cents"]:
                line["capped_cents"] += line["amount_cents"] - paid
                line["explanation_caps"] = line.get("explanation_caps", "") + (
                    f"; capped at {money(cap)} for the {'period' if per == 'period' else 'year'}"
                    f": paid {money(paid)}")
            line["amount_cents"] = paid
    for line in lines:
        line["explanation"] += line.pop("explanation_caps", "")
