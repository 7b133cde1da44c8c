"""A per-row reference implementation of the comp engine: the oracle of the property tests.

Written from the rules in docs/plans.md with plain loops and exact Fractions, one credit and one
window at a time. It shares nothing with compensation.engine but the plan dataclasses and the
calendar's key tuples, so when both agree to the cent (and to the letter of each explanation)
two independent routes reached the same figures.
"""

from __future__ import annotations

import datetime
import itertools
import math
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

import pandas as pd

from compensation.engine.calendar import Calendar
from compensation.engine.plans import (
    Draw,
    Mbo,
    MilestoneBonus,
    PayoutCurve,
    PlanVersion,
    RateTable,
    Spiff,
)

NA = None
MEASURE_FIELD = {"amount": "amount_cents", "units": "units", "margin": "margin_cents"}
QUOTA_FIELD = {"amount": "quota_cents", "units": "quota_units", "margin": "quota_margin_cents"}
METHOD_WORDS = {"graduated": "graduated", "retroactive": "retroactive",
                "base_plus_overage": "base plus overage"}


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
def _date(value: object) -> datetime.date:
    return pd.Timestamp(value).date()


def _fraction(value: object) -> Fraction:
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
            proration = _fraction(row["proration"]) if "proration" in row else Fraction(1)
            target = int(row.get("target_incentive_cents", 0) or 0)
            self.assign_rows.append({
                "payee": row["payee_id"], "period": str(row["period"]),
                "plan": str(row["plan"]),
                "from": _date(row["valid_from"]) if not pd.isna(row.get("valid_from"))
                else None,
                "to": _date(row["valid_to"]) if not pd.isna(row.get("valid_to")) else None,
                "target": round_half_up(target * proration),
            })
        self.held = {(a["payee"], a["period"], a["plan"]) for a in self.assign_rows}
        self.target = defaultdict(int)
        for a in self.assign_rows:
            self.target[(a["payee"], a["period"], a["plan"])] += a["target"]
        rows = credits.to_dict("records")
        for row in rows:
            row["day"] = _date(row["credit_date"])
            if "close_date" in row and not pd.isna(row["close_date"]):
                row["close"] = _date(row["close_date"])
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
                    _fraction(row["score_pct"]) / 100
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


def _matches(comp, c) -> bool:
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


def _clears_deal_size(comp, c) -> bool:
    gate = comp.gate
    if gate is None or gate.min_deal_amount is None:
        return True
    return c["deal_amount_cents"] >= to_cents(gate.min_deal_amount)


# ---- rate tables ---------------------------------------------------------------------------
class Table:
    def __init__(self, table: RateTable, measure: str):
        self.method = table.method
        self.basis = table.basis
        self.rates = []
        self.labels = []
        for tier in table.tiers:
            rate = tier.rate if tier.rate is not None else tier.multiplier * table.base_rate
            self.rates.append(Fraction(rate) * (100 if measure == "units" else 1))
            self.labels.append(money_label(rate) if measure == "units" else pct_label(rate))
        self.lowers = [t.lower for t in table.tiers]
        self.measure = measure

    def bounds(self, quota: int) -> list[int]:
        if self.basis == "attainment":
            return [math.ceil(quota * Fraction(b)) for b in self.lowers]
        return [int(b) if self.measure == "units" else to_cents(b) for b in self.lowers]

    def tier(self, x: int, bounds: list[int]) -> int:
        found = 0
        for t in range(1, len(bounds)):
            if x >= bounds[t]:
                found = t
        return found

    def earned(self, x: int, bounds: list[int]) -> Fraction:
        if x < 0 or len(bounds) == 1:  # below zero every method pays the first rate
            return self.rates[0] * x
        if self.method == "retroactive":
            return self.rates[self.tier(x, bounds)] * x
        if self.method == "base_plus_overage":
            end = bounds[1]
            return self.rates[0] * min(x, end) + self.rates[self.tier(x, bounds)] * max(
                x - end, 0)
        total = Fraction(0)
        for t, low in enumerate(bounds):
            high = bounds[t + 1] if t + 1 < len(bounds) else None
            top = x if high is None else min(x, high)
            if top > low:
                total += self.rates[t] * (top - low)
        return total

    def terms(self, before: int, after: int, bounds: list[int]) -> list[tuple[int, int]]:
        if self.method == "graduated":
            def slices(x):
                out = []
                for t, low in enumerate(bounds):
                    high = bounds[t + 1] if t + 1 < len(bounds) else None
                    if t == 0:
                        out.append(x if high is None else min(x, high))
                    else:
                        part = max(x - low, 0)
                        out.append(part if high is None else min(part, high - low))
                return out
            return [(a - b, t) for t, (a, b) in enumerate(zip(slices(after), slices(before),
                                                                strict=True))]
        if len(bounds) == 1:
            return [(after - before, 0)]
        t_after, t_before = self.tier(after, bounds), self.tier(before, bounds)
        if self.method == "retroactive":
            if t_after == t_before:
                return [(after - before, t_after)]
            return [(after, t_after), (-before, t_before)]
        end = bounds[1]
        base = (min(after, end) - min(before, end), 0)
        over_after, over_before = max(after - end, 0), max(before - end, 0)
        if t_after == t_before:
            return [base, (over_after - over_before, t_after)]
        return [base, (over_after, t_after), (-over_before, t_before)]

    def render(self, terms, fallback_tier) -> str:
        out = ""
        for q, t in terms:
            if q == 0:
                continue
            if not out:
                out = ("-" if q < 0 else "") + f"{qty(abs(q), self.measure)} × {self.labels[t]}"
            else:
                out += (" - " if q < 0 else " + ") + \
                    f"{qty(abs(q), self.measure)} × {self.labels[t]}"
        if not out:
            zero = "0" if self.measure == "units" else "0.00"
            out = f"{zero} × {self.labels[fallback_tier]}"
        return out


# ---- lines -----------------------------------------------------------------------------------
def _line(env, comp, plan_key, payee, window, **fields) -> dict:
    line = {
        "payee_id": payee, "period": env.pay_period(window, comp.period), "window": window,
        "plan": plan_key, "component": comp.code, "kind": comp.kind, "line_type": "credit",
        "deal_id": NA, "credit_id": NA, "measure": comp.measure, "basis": 0,
        "cumulative": NA, "quota": NA, "tier": NA, "rate": NA, "amount_cents": 0,
        "rounding_carry_cents": 0, "capped_cents": 0, "explanation": "",
    }
    line.update(fields)
    return line


def _gate_passes(comp, basis: int, quota: int) -> bool:
    gate = comp.gate
    if gate is None or gate.min_attainment is None:
        return True
    return quota > 0 and Fraction(basis, quota) >= Fraction(gate.min_attainment)


def _gate_words(comp, basis, quota, has_quota, window, paid_words) -> str:
    gate = comp.gate
    if gate is None or gate.min_attainment is None:
        return ""
    label = pct_label(gate.min_attainment)
    if not has_quota:
        return f"; no quota for {window} to test the {label} gate{paid_words}"
    if not _gate_passes(comp, basis, quota):
        return f"; attainment {shown_percent(Fraction(basis, quota))} is below the {label} " \
               f"gate{paid_words}"
    return ""


def _caps(env, comp, plan_key, lines: list[dict]) -> None:
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


def _credit_lines(env, plan_key, comp) -> list[dict]:
    credits = [c for c in env.credits if c["plan"] == plan_key and _matches(comp, c)]
    measure = comp.measure
    for c in credits:
        c["_counted"] = int(c[MEASURE_FIELD[measure]]) if _clears_deal_size(comp, c) else 0
        c["_window"] = env.window_of(c["period"], comp.period)
    window_basis = defaultdict(int)
    for c in credits:
        window_basis[(c["payee_id"], c["_window"])] += c["_counted"]

    def to_date_basis(payee, window):
        span_windows = {env.window_of(m, comp.period) for m in env.span(window, comp)}
        return sum(window_basis[(payee, w)] for w in span_windows)

    def quota(payee, window):
        return env.quota_of(payee, env.span(window, comp), plan_key, measure)

    has_table = QUOTA_FIELD[measure] in env.quota_columns
    needs = comp.needs_quota()
    formula = comp.formula
    table = Table(formula, measure) if isinstance(formula, RateTable) else None
    lines = []
    running = defaultdict(int)
    no_quota_windows = []
    for c in credits:
        payee, window = c["payee_id"], c["_window"]
        group = (payee, env.year_of(window, comp.period) if comp.ytd_true_up else window)
        q = quota(payee, window)
        has_quota = (q > 0) or not needs
        if not has_quota and (payee, window) not in no_quota_windows:
            no_quota_windows.append((payee, window))
        basis_now = to_date_basis(payee, window)
        pays = _gate_passes(comp, basis_now, q) and has_quota
        before = running[group]
        running[group] += c["_counted"]
        after = running[group]
        fields = {"credit_id": c["credit_id"], "deal_id": c["deal_id"],
                  "basis": c["_counted"], "cumulative": after,
                  "quota": q if has_table and q > 0 else NA}
        if table is not None:
            bounds = table.bounds(q)
            if formula.evaluation == "cumulative":
                e_after, e_before = table.earned(after, bounds), table.earned(before, bounds)
                uncapped = round_half_up(e_after) - round_half_up(e_before)
                own = round_half_up(e_after - e_before)
                t_before, t_after = before, after
            else:
                own = round_half_up(table.earned(c["_counted"], bounds))
                uncapped = own
                t_before, t_after = 0, c["_counted"]
            tier = table.tier(t_after, bounds)
            head = METHOD_WORDS[formula.method]
            if formula.evaluation == "per_transaction":
                head += " per deal"
            elif comp.ytd_true_up:
                head += " (year to date)"
            text = f"{head}: {table.render(table.terms(t_before, t_after, bounds), tier)} = " \
                   f"{money(own)}"
            carry = uncapped - own if pays else 0
            if carry:
                text += f" {'-' if carry < 0 else '+'} {money(abs(carry))} rounding carry = " \
                        f"{money(uncapped)}"
            text += _gate_words(comp, basis_now, q, has_quota, window, ": paid 0.00")
            shows_tier = has_quota or table.basis != "attainment"
            if not shows_tier:
                text = f"{head}: no quota for {window}, so the attainment tiers cannot apply: " \
                       f"paid 0.00"
            fields.update(tier=tier + 1 if shows_tier else NA,
                          rate=table.labels[tier] if shows_tier else NA,
                          rounding_carry_cents=carry)
        else:
            text, own, label = _spiff(comp, c, formula)
            uncapped = own
            text += _gate_words(comp, basis_now, q, has_quota, window, ": paid 0.00")
            fields["rate"] = label
        if not _clears_deal_size(comp, c):
            text = f"deal of {money(c['deal_amount_cents'])} is below the " \
                   f"{money_label(comp.gate.min_deal_amount)} minimum deal size: not counted, " \
                   f"paid 0.00"
        fields.update(amount_cents=uncapped if pays else 0, explanation=text)
        lines.append(_line(env, comp, plan_key, payee, window, **fields))
    for payee, window in no_quota_windows:
        env.issues.append(("warning", "no_quota", payee, env.pay_period(window, comp.period),
                           plan_key, comp.code, NA))
    if comp.ytd_true_up and table is not None:
        lines = _true_ups(env, plan_key, comp, table, lines, window_basis, quota, has_table,
                          needs)
    _caps(env, comp, plan_key, lines)
    return lines


def _spiff(comp, c, formula: Spiff) -> tuple[str, int, str]:
    counted = c["_counted"]
    if formula.per_deal is not None:
        label = money_label(formula.per_deal)
        if c["amount_cents"] > 0:
            paid = to_cents(formula.per_deal) if _clears_deal_size(comp, c) else 0
            return f"spiff: {label} per deal", paid, label
        return (f"spiff: {label} per deal, but this credit of {money(c['amount_cents'])} is "
                f"not a sale: paid 0.00", 0, label)
    if formula.per_unit is not None:
        label = money_label(formula.per_unit)
        units = int(c["units"]) if _clears_deal_size(comp, c) else 0
        paid = round_half_up(units * Fraction(formula.per_unit) * 100)
        return f"spiff: {count(units)} units × {label} = {money(paid)}", paid, label
    label = pct_label(formula.percent)
    paid = round_half_up(counted * Fraction(formula.percent))
    return f"spiff: {qty(counted, comp.measure)} × {label} = {money(paid)}", paid, label


def _true_ups(env, plan_key, comp, table, lines, window_basis, quota, has_table, needs):
    """Per active window: re-price the year's earlier credits; the line carries the change."""
    out = []
    by_window = defaultdict(list)
    for line in lines:
        by_window[(line["payee_id"], line["window"])].append(line)
    for payee in env.payees:
        previous_year, earned_through = None, 0
        for window in env.windows(comp.period):
            if not env.active(payee, window, comp, plan_key):
                continue
            year = env.year_of(window, comp.period)
            if year != previous_year:
                earned_through, previous_year = 0, year
            earlier_windows = {env.window_of(m, comp.period) for m in env.span(window, comp)}
            earlier_windows.discard(window)
            earlier = sum(window_basis[(payee, w)] for w in earlier_windows)
            through = earlier + window_basis[(payee, window)]
            q = quota(payee, window)
            has_quota = q > 0 or not needs
            pays = has_quota and _gate_passes(comp, through, q)
            bounds = table.bounds(q)
            now_earlier = round_half_up(table.earned(earlier, bounds)) if pays else 0
            now_through = round_half_up(table.earned(through, bounds)) if pays else 0
            true_up = now_earlier - earned_through
            if true_up:
                tier = table.tier(earlier, bounds)
                shows_tier = has_quota or table.basis != "attainment"
                text = (f"year-to-date true-up: earlier credits of {qty(earlier, comp.measure)} "
                        f"now earn {money(now_earlier)} - {money(earned_through)} earned before "
                        f"= {money(true_up)}")
                text += _gate_words(comp, through, q, has_quota, window, "")
                out.append(_line(env, comp, plan_key, payee, window, line_type="true_up",
                                 basis=earlier, cumulative=earlier,
                                 quota=q if has_table and q > 0 else NA,
                                 tier=tier + 1 if shows_tier else NA,
                                 rate=table.labels[tier] if shows_tier else NA,
                                 amount_cents=true_up, explanation=text))
            out.extend(by_window.pop((payee, window), []))
            earned_through = now_through
    for rest in by_window.values():
        out.extend(rest)
    return out


def _window_lines(env, plan_key, comp) -> list[dict]:
    formula = comp.formula
    if isinstance(formula, Mbo):
        return _mbo_lines(env, plan_key, comp, formula)
    basis = defaultdict(int)
    for c in env.credits:
        if c["plan"] == plan_key and _matches(comp, c) and _clears_deal_size(comp, c):
            basis[(c["payee_id"], env.window_of(c["period"], comp.period))] += int(
                c[MEASURE_FIELD[comp.measure]])
    lines = []
    for payee in env.payees:
        previous_year = None
        earned_before: dict[int, int] = defaultdict(int)
        for window in env.windows(comp.period):
            if not env.active(payee, window, comp, plan_key):
                continue
            year = env.year_of(window, comp.period)
            if year != previous_year:
                earned_before, previous_year = defaultdict(int), year
            span_windows = {env.window_of(m, comp.period) for m in env.span(window, comp)}
            b = sum(basis[(payee, w)] for w in span_windows)
            q = env.quota_of(payee, env.span(window, comp), plan_key, comp.measure)
            if q <= 0:
                env.issues.append(("warning", "no_quota", payee,
                                   env.pay_period(window, comp.period), plan_key, comp.code, NA))
                continue
            target = env.target_of(payee, env.span(window, comp), plan_key)
            passes = _gate_passes(comp, b, q)
            attainment = Fraction(b, q)
            paid_words = ": earns 0.00" if comp.ytd_true_up else ": paid 0.00"
            common = {"basis": b, "cumulative": b, "quota": q}
            if isinstance(formula, PayoutCurve):
                share = _curve_share(formula, attainment)
                value = round_half_up(target * share)
                earned = value if passes else 0
                line_amount = earned - (earned_before[0] if comp.ytd_true_up else 0)
                head = "payout curve, year to date: " if comp.ytd_true_up else "payout curve: "
                text = (f"{head}attainment {shown_percent(attainment)} pays "
                        f"{shown_percent(share)} of target {money(target)} = {money(value)}")
                text += _gate_words(comp, b, q, True, window, paid_words)
                if comp.ytd_true_up:
                    text += f"; {money(earned)} - {money(earned_before[0])} earned before = " \
                            f"{money(line_amount)}"
                lines.append(_line(env, comp, plan_key, payee, window, line_type="curve",
                                   amount_cents=line_amount, explanation=text, **common))
                earned_before[0] = earned
            else:
                assert isinstance(formula, MilestoneBonus)
                for index, m in enumerate(formula.milestones):
                    reached = attainment >= Fraction(m.attainment)
                    if m.amount is not None:
                        value = to_cents(m.amount)
                        label = money_label(m.amount)
                        pays_text = money(value)
                    else:
                        value = round_half_up(target * Fraction(m.of_target))
                        label = pct_label(m.of_target)
                        pays_text = f"{label} of target {money(target)} = {money(value)}"
                    earned = value if reached and passes else 0
                    line_amount = earned - (earned_before[index] if comp.ytd_true_up else 0)
                    head = f"milestone {pct_label(m.attainment)}" + (
                        ", year to date: " if comp.ytd_true_up else ": ")
                    if reached:
                        text = f"{head}reached at {shown_percent(attainment)} attainment: " \
                               f"{pays_text}" + _gate_words(comp, b, q, True, window, paid_words)
                    else:
                        text = f"{head}attainment {shown_percent(attainment)} is below it: 0.00"
                    if comp.ytd_true_up:
                        text += f"; {money(earned)} - {money(earned_before[index])} earned " \
                                f"before = {money(line_amount)}"
                    emit = line_amount != 0 if comp.ytd_true_up else reached
                    if emit:
                        lines.append(_line(env, comp, plan_key, payee, window,
                                           line_type="milestone", tier=index + 1, rate=label,
                                           amount_cents=line_amount, explanation=text,
                                           **common))
                    earned_before[index] = earned
    _caps(env, comp, plan_key, lines)
    return lines


def _curve_share(curve: PayoutCurve, attainment: Fraction) -> Fraction:
    points = [(Fraction(p.attainment), Fraction(p.payout)) for p in curve.points]
    if attainment < 0:
        return points[0][1]
    if attainment >= points[-1][0]:
        return points[-1][1]
    for (a0, p0), (a1, p1) in itertools.pairwise(points):
        if a0 <= attainment < a1:
            return p0 + (p1 - p0) * (attainment - a0) / (a1 - a0)
    raise AssertionError("unreachable")


def _mbo_lines(env, plan_key, comp, mbo: Mbo) -> list[dict]:
    lines = []
    for payee in env.payees:
        for window in env.windows(comp.period):
            if not env.active(payee, window, comp, plan_key):
                continue
            score = env.mbo.get((payee, comp.code, window))
            if score is None:
                env.issues.append(("warning", "no_mbo_score", payee,
                                   env.pay_period(window, comp.period), plan_key, comp.code, NA))
                continue
            counted = min(score, Fraction(mbo.max_score))
            target = env.target_of(payee, env.months(window, comp.period), plan_key)
            amount = round_half_up(target * Fraction(mbo.weight) * counted)
            shown = shown_percent(counted)
            if score > Fraction(mbo.max_score):
                shown += f" (scored {shown_percent(score)}, capped at the " \
                         f"{pct_label(mbo.max_score)} maximum)"
            text = f"MBO: score {shown} × weight {pct_label(mbo.weight)} × target " \
                   f"{money(target)} = {money(amount)}"
            lines.append(_line(env, comp, plan_key, payee, window, line_type="mbo",
                               cumulative=0, amount_cents=amount, explanation=text))
    _caps(env, comp, plan_key, lines)
    return lines


def reference_compute(plans: dict[str, PlanVersion], credits: pd.DataFrame,
                      quotas: pd.DataFrame, assignments: pd.DataFrame,
                      mbo_scores: pd.DataFrame | None = None,
                      calendar: Calendar | None = None) -> tuple[list[dict], list[tuple]]:
    """(lines, issues) for the stateless components, in the engine's documented order."""
    env = Env(plans, credits, quotas, assignments, mbo_scores, calendar)
    lines = []
    credit_order = {c["credit_id"]: i for i, c in enumerate(env.credits)}
    payee_order = {payee: i for i, payee in enumerate(env.payees)}
    for plan_index, (key, plan) in enumerate(plans.items()):
        for comp_index, comp in enumerate(plan.components):
            if isinstance(comp.formula, RateTable | Spiff):
                made = _credit_lines(env, key, comp)
            elif isinstance(comp.formula, Draw):
                continue
            else:
                made = _window_lines(env, key, comp)
            for line in made:
                seq = credit_order[line["credit_id"]] if line["credit_id"] is not NA else (
                    line["tier"] or 0 if line["line_type"] == "milestone" else -1)
                line["_order"] = (payee_order[line["payee_id"]], env.pos[line["period"]],
                                  plan_index, comp_index, seq)
                lines.append(line)
    lines.sort(key=lambda line: line["_order"])
    for line in lines:
        del line["_order"]
    return lines, env.issues


# ---- draws and clawbacks -------------------------------------------------------------------
def reference_draws(plans, assignments, lines, calendar, opening=None):
    """Draw lines and closing balances, period by period and payee by payee."""
    env = Env(plans, pd.DataFrame({"period": [], "payee_id": [], "credit_id": [],
                                   "credit_date": []}),
              pd.DataFrame({"period": []}), assignments, None, calendar)
    proration = defaultdict(list)
    for row in assignments.to_dict("records"):
        share = _fraction(row["proration"]) if "proration" in row else Fraction(1)
        proration[(row["payee_id"], str(row["period"]), str(row["plan"]))].append(share)
    balances = defaultdict(int)
    if opening is not None:
        for row in opening.to_dict("records"):
            balances[(row["payee_id"], row["component"])] += int(row["balance_cents"])
    out = []
    for key, plan in plans.items():
        for comp in plan.components:
            if not isinstance(comp.formula, Draw):
                continue
            draw = comp.formula
            payees = sorted({a["payee"] for a in env.assign_rows} | {
                line["payee_id"] for line in lines})
            for window in env.windows(comp.period):
                pay = env.pay_period(window, comp.period)
                months = env.months(window, comp.period)
                for payee in payees:
                    if not any((payee, m, key) in env.held for m in months):
                        continue
                    earned = sum(line["amount_cents"] for line in lines
                                 if line["payee_id"] == payee and line["plan"] == key
                                 and line["kind"] != "draw" and line["period"] in months)
                    if draw.of_target is not None:
                        amount = round_half_up(env.target_of(payee, months, key)
                                               * Fraction(draw.of_target))
                    else:
                        amount = sum(round_half_up(to_cents(draw.amount) * share / len(months))
                                     for m in months for share in proration[(payee, m, key)])
                    if draw.last_draw_period and env.pos[pay] > env.pos.get(
                            draw.last_draw_period, -1):
                        amount = 0
                    balance_key = (payee, comp.code)
                    common = {"payee_id": payee, "period": pay, "window": window,
                              "plan": key, "component": comp.code, "kind": "draw",
                              "deal_id": NA, "credit_id": NA, "measure": "amount",
                              "basis": earned, "cumulative": NA, "quota": NA, "tier": NA,
                              "rate": NA, "rounding_carry_cents": 0, "capped_cents": 0}
                    if amount > 0 and earned < amount:
                        top = amount - earned
                        if not draw.recoverable:
                            out.append({**common, "line_type": "guarantee", "amount_cents": top,
                                        "explanation": f"guarantee: earned {money(earned)} is "
                                        f"below the {money(amount)} guarantee: top-up "
                                        f"{money(top)}"})
                            continue
                        balances[balance_key] += top
                        out.append({**common, "line_type": "draw_advance", "amount_cents": top,
                                    "explanation": f"draw: earned {money(earned)} is below the "
                                    f"{money(amount)} draw: advance {money(top)}, balance "
                                    f"{money(balances[balance_key])}"})
                        continue
                    if not draw.recoverable or earned <= amount:
                        continue
                    if draw.recovery_start and env.pos[pay] < env.pos.get(draw.recovery_start, 0):
                        continue
                    owed = balances[balance_key]
                    take = min(owed, earned - amount)
                    if draw.max_recovery_per_period is not None:
                        take = min(take, to_cents(draw.max_recovery_per_period))
                    if take <= 0:
                        continue
                    balances[balance_key] -= take
                    most = f", at most {money_label(draw.max_recovery_per_period)} a period" \
                        if draw.max_recovery_per_period is not None else ""
                    out.append({**common, "line_type": "draw_recovery", "amount_cents": -take,
                                "explanation": f"draw recovery: earned {money(earned)} is above "
                                f"the {money(amount)} draw: recovers {money(take)} of the "
                                f"{money(owed)} balance{most}; balance "
                                f"{money(balances[balance_key])}"})
    closing = {k: v for k, v in balances.items() if v}
    return out, closing


def reference_clawbacks(plans, events, paid_lines, calendar):
    """Reversal lines for each cancelled deal's credit lines, one by one."""
    pos = {p: i for i, p in enumerate(calendar.periods)}
    policy = {(key, c.code): c.clawback for key, plan in plans.items()
              for c in plan.components if c.clawback is not None}
    done = {(line["payee_id"], line["plan"], line["component"], line["credit_id"])
            for line in paid_lines if line["line_type"] == "clawback"}
    by_deal = {event["deal_id"]: event for event in events.to_dict("records")}
    out = []
    for line in paid_lines:
        event = by_deal.get(line["deal_id"])
        if event is None:
            continue
        closed, cancelled = _date(event["close_date"]), _date(event["cancel_date"])
        if cancelled < closed:
            continue
        days = (cancelled - closed).days
        rule = policy.get((line["plan"], line["component"]))
        if (line["line_type"] != "credit" or rule is None or days > rule.within_days
                or pos[line["period"]] > pos[str(event["period"])]
                or (line["payee_id"], line["plan"], line["component"], line["credit_id"])
                in done):
            continue
        if rule.method == "full":
            reversed_cents = -line["amount_cents"]
            share = ""
        else:
            kept = rule.within_days - days
            reversed_cents = -round_half_up(Fraction(line["amount_cents"] * kept,
                                                     rule.within_days))
            share = f"{count(kept)}/{count(rule.within_days)} of "
        if reversed_cents == 0:
            continue
        explanation = (f"clawback: deal cancelled on {cancelled.isoformat()}, {count(days)} "
                       f"days after it closed on {closed.isoformat()} (within "
                       f"{count(rule.within_days)}): reverses {share}the "
                       f"{money(line['amount_cents'])} paid in {line['period']} = "
                       f"{money(reversed_cents)}")
        out.append({
            "payee_id": line["payee_id"], "period": str(event["period"]),
            "window": str(event["period"]), "plan": line["plan"],
            "component": line["component"], "kind": line["kind"], "line_type": "clawback",
            "deal_id": line["deal_id"], "credit_id": line["credit_id"],
            "measure": line["measure"], "basis": line["amount_cents"], "cumulative": NA,
            "quota": NA, "tier": NA, "rate": NA, "amount_cents": reversed_cents,
            "rounding_carry_cents": 0, "capped_cents": 0, "explanation": explanation,
        })
    return out
