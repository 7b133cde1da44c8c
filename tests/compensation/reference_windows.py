"""Per-row reference for window bonuses: payout curves, milestones and MBOs, window by window."""

from __future__ import annotations

import itertools
from collections import defaultdict
from fractions import Fraction

from compensation.engine.plans import Mbo, MilestoneBonus, PayoutCurve

from .reference_common import (
    MEASURE_FIELD,
    NA,
    apply_caps,
    clears_deal_size,
    gate_passes,
    gate_words,
    make_line,
    matches,
    money,
    money_label,
    pct_label,
    round_half_up,
    shown_percent,
    to_cents,
)


def window_lines(env, plan_key, comp) -> list[dict]:
    formula = comp.formula
    if isinstance(formula, Mbo):
        return _mbo_lines(env, plan_key, comp, formula)
    basis = defaultdict(int)
    for c in env.credits:
        if c["plan"] == plan_key and matches(comp, c) and clears_deal_size(comp, c):
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
            passes = gate_passes(comp, b, q)
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
                text += gate_words(comp, b, q, True, window, paid_words)
                if comp.ytd_true_up:
                    text += f"; {money(earned)} - {money(earned_before[0])} earned before = " \
                            f"{money(line_amount)}"
                lines.append(make_line(env, comp, plan_key, payee, window, line_type="curve",
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
                               f"{pays_text}" + gate_words(comp, b, q, True, window, paid_words)
                    else:
                        text = f"{head}attainment {shown_percent(attainment)} is below it: 0.00"
                    if comp.ytd_true_up:
                        text += f"; {money(earned)} - {money(earned_before[index])} earned " \
                                f"before = {money(line_amount)}"
                    emit = line_amount != 0 if comp.ytd_true_up else reached
                    if emit:
                        lines.append(make_line(env, comp, plan_key, payee, window,
                                           line_type="milestone", tier=index + 1, rate=label,
                                           amount_cents=line_amount, explanation=text,
                                           **common))
                    earned_before[index] = earned
    apply_caps(env, comp, plan_key, lines)
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
            lines.append(make_line(env, comp, plan_key, payee, window, line_type="mbo",
                               cumulative=0, amount_cents=amount, explanation=text))
    apply_caps(env, comp, plan_key, lines)
    return lines
