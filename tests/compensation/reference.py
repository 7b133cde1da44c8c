"""A per-row reference implementation of the comp engine: the oracle of the property tests.

Written from the rules in docs/plans.md with plain loops and exact Fractions, one credit and one
window at a time. It shares nothing with compensation.engine but the plan dataclasses and the
calendar's key tuples, so when both agree to the cent (and to the letter of each explanation)
two independent routes reached the same figures. Window bonuses are in reference_windows.py,
draws and clawbacks in reference_stateful.py.
"""

from __future__ import annotations

import math
from collections import defaultdict
from fractions import Fraction

import pandas as pd

from compensation.engine.calendar import Calendar
from compensation.engine.plans import Draw, PlanVersion, RateTable, Spiff

from .reference_common import (
    MEASURE_FIELD,
    NA,
    QUOTA_FIELD,
    Env,
    apply_caps,
    clears_deal_size,
    count,
    gate_passes,
    gate_words,
    make_line,
    matches,
    money,
    money_label,
    pct_label,
    qty,
    round_half_up,
    to_cents,
)
from .reference_windows import window_lines

METHOD_WORDS = {"graduated": "graduated", "retroactive": "retroactive",
                "base_plus_overage": "base plus overage"}


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


def _credit_lines(env, plan_key, comp) -> list[dict]:
    credits = [c for c in env.credits if c["plan"] == plan_key and matches(comp, c)]
    measure = comp.measure
    for c in credits:
        c["_counted"] = int(c[MEASURE_FIELD[measure]]) if clears_deal_size(comp, c) else 0
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
        pays = gate_passes(comp, basis_now, q) and has_quota
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
            text += gate_words(comp, basis_now, q, has_quota, window, ": paid 0.00")
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
            text += gate_words(comp, basis_now, q, has_quota, window, ": paid 0.00")
            fields["rate"] = label
        if not clears_deal_size(comp, c):
            text = f"deal of {money(c['deal_amount_cents'])} is below the " \
                   f"{money_label(comp.gate.min_deal_amount)} minimum deal size: not counted, " \
                   f"paid 0.00"
        fields.update(amount_cents=uncapped if pays else 0, explanation=text)
        lines.append(make_line(env, comp, plan_key, payee, window, **fields))
    for payee, window in no_quota_windows:
        env.issues.append(("warning", "no_quota", payee, env.pay_period(window, comp.period),
                           plan_key, comp.code, NA))
    if comp.ytd_true_up and table is not None:
        lines = _true_ups(env, plan_key, comp, table, lines, window_basis, quota, has_table,
                          needs)
    apply_caps(env, comp, plan_key, lines)
    return lines


def _spiff(comp, c, formula: Spiff) -> tuple[str, int, str]:
    counted = c["_counted"]
    if formula.per_deal is not None:
        label = money_label(formula.per_deal)
        if c["amount_cents"] > 0:
            paid = to_cents(formula.per_deal) if clears_deal_size(comp, c) else 0
            return f"spiff: {label} per deal", paid, label
        return (f"spiff: {label} per deal, but this credit of {money(c['amount_cents'])} is "
                f"not a sale: paid 0.00", 0, label)
    if formula.per_unit is not None:
        label = money_label(formula.per_unit)
        units = int(c["units"]) if clears_deal_size(comp, c) else 0
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
            pays = has_quota and gate_passes(comp, through, q)
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
                text += gate_words(comp, through, q, has_quota, window, "")
                out.append(make_line(env, comp, plan_key, payee, window, line_type="true_up",
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
                made = window_lines(env, key, comp)
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
