"""Components paid once per payee and window: payout curves, milestone bonuses and MBOs.

They read the window's attainment (basis / quota) and target incentive, not single credits, so
their lines carry no deal. With a year-to-date true-up a line pays the year's earnings so far
minus what the component earned through the previous pay period.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from . import text
from .context import ComponentContext, cap_suffix
from .exact import decimal_exponent, half_up_div, scaled, to_int64
from .plans import Mbo, MilestoneBonus, PayoutCurve


def window_component(ctx: ComponentContext) -> None:
    formula = ctx.component.formula
    if isinstance(formula, Mbo):
        _mbo(ctx, formula)
        return
    rows = ctx.credit_rows()
    raw, deal_ok = ctx.basis(rows)
    basis_w = ctx.window_basis(rows, np.where(deal_ok, raw, 0))
    quota_w = ctx.quota()
    assert quota_w is not None
    gate_w = ctx.gate_passes(basis_w, quota_w)
    payee, window = np.nonzero(ctx.active)
    quota = quota_w[payee, window]
    missing = quota <= 0
    ctx.no_quota_issue(payee[missing], window[missing],
                       "attainment cannot be measured, so this component pays nothing")
    keep = ~missing
    payee, window, quota = payee[keep], window[keep], quota[keep]
    state = {
        "payee": payee,
        "window": window,
        "basis": basis_w[payee, window],
        "quota": quota,
        "target": ctx.target()[payee, window],
        "gate": gate_w[payee, window],
    }
    if isinstance(formula, PayoutCurve):
        _curve(ctx, formula, state)
    else:
        assert isinstance(formula, MilestoneBonus)
        _milestones(ctx, formula, state)


def _earlier(ctx: ComponentContext, payee: np.ndarray, window: np.ndarray,
             earned: np.ndarray) -> np.ndarray:
    """What the previous pay period of the same payee and year earned (0 for the first)."""
    if not ctx.ytd or len(payee) == 0:
        return np.zeros(len(payee), dtype=np.int64)
    same = np.zeros(len(payee), dtype=bool)
    same[1:] = (payee[1:] == payee[:-1]) & (
        ctx.windows.year[window[1:]] == ctx.windows.year[window[:-1]])
    return np.where(same, np.roll(earned, 1), 0)


def _ytd_tail(earned: np.ndarray, before: np.ndarray, line: np.ndarray) -> np.ndarray:
    return text.add("; ", text.money(earned), " - ", text.money(before), " earned before = ",
                    text.money(line))


def _gate_suffix(ctx: ComponentContext, state: dict[str, np.ndarray], out: np.ndarray,
                 rows: np.ndarray, paid: str) -> None:
    gate = ctx.component.gate
    if gate is None or gate.min_attainment is None:
        return
    failed = rows[~state["gate"][rows]]
    if len(failed):
        out[failed] = text.add(out[failed], "; attainment ",
                               text.percent(state["basis"][failed], state["quota"][failed]),
                               f" is below the {ctx.gate_label()} gate{paid}")


def _gate_words(ctx: ComponentContext) -> str:
    return ": earns 0.00" if ctx.ytd else ": paid 0.00"


def _curve(ctx: ComponentContext, curve: PayoutCurve, state: dict[str, np.ndarray]) -> None:
    payee, window = state["payee"], state["window"]
    n = len(payee)
    a_exp = decimal_exponent([p.attainment for p in curve.points])
    p_exp = decimal_exponent([p.payout for p in curve.points])
    a_pts = [scaled(p.attainment, a_exp) for p in curve.points]
    p_pts = [scaled(p.payout, p_exp) for p in curve.points]
    # Python integers: quota × target × scales can pass 2**63 long before cents do.
    basis = state["basis"].astype(object)
    quota = state["quota"].astype(object)
    target = state["target"].astype(object)
    x = basis * 10**a_exp  # attainment × quota, scaled
    segment = np.zeros(n, dtype=np.int64)
    for a in a_pts[1:]:
        segment += x >= a * quota
    last = len(a_pts) - 1
    # share of target = numerator / denominator; flat below 0% and beyond the last point
    numerator = np.empty(n, dtype=object)
    denominator = np.empty(n, dtype=object)
    flat_rows = (segment == last) | (basis < 0)
    flat_point = np.where(basis < 0, 0, last)
    numerator[flat_rows] = np.array(p_pts, dtype=object)[flat_point[flat_rows]]
    denominator[flat_rows] = 10**p_exp
    inner = np.flatnonzero(~flat_rows)
    if len(inner):
        j = segment[inner]
        a_lo = np.array(a_pts, dtype=object)[j]
        a_hi = np.array([*a_pts, 0], dtype=object)[j + 1]
        p_lo = np.array(p_pts, dtype=object)[j]
        p_hi = np.array([*p_pts, 0], dtype=object)[j + 1]
        q = quota[inner]
        numerator[inner] = p_lo * (a_hi - a_lo) * q + (p_hi - p_lo) * (x[inner] - a_lo * q)
        denominator[inner] = 10**p_exp * (a_hi - a_lo) * q
    value = to_int64(half_up_div(target * numerator, denominator)) if n else \
        np.zeros(0, dtype=np.int64)
    earned = np.where(state["gate"], value, 0)
    before = _earlier(ctx, payee, window, earned)
    line = earned - before
    label = "payout curve, year to date: " if ctx.ytd else "payout curve: "
    attainment = text.percent(state["basis"], state["quota"])
    explanation = text.add(label, "attainment ", attainment, " pays ",
                           text.percent(numerator, denominator), " of target ",
                           text.money(state["target"]), " = ", text.money(value))
    _gate_suffix(ctx, state, explanation, np.arange(n), _gate_words(ctx))
    if ctx.ytd:
        explanation = text.add(explanation, _ytd_tail(earned, before, line))
    _emit(ctx, state, np.arange(n), line, np.zeros(n, dtype=np.int64),
          np.full(n, -1, dtype=np.int64), explanation, line_type=2)


def _milestones(ctx: ComponentContext, bonus: MilestoneBonus,
                state: dict[str, np.ndarray]) -> None:
    payee, window = state["payee"], state["window"]
    n = len(payee)
    batches = []
    for index, milestone in enumerate(bonus.milestones):
        exponent = decimal_exponent([milestone.attainment])
        bound = scaled(milestone.attainment, exponent)
        reached = state["basis"].astype(object) * 10**exponent >= state["quota"].astype(
            object) * bound
        reached = reached.astype(bool)
        if milestone.amount is not None:
            value = np.full(n, scaled(milestone.amount, 2), dtype=np.int64)
            label = text.money_label(milestone.amount)
            pays_text = text.money(value)
        else:
            assert milestone.of_target is not None
            share_exp = decimal_exponent([milestone.of_target])
            share = scaled(milestone.of_target, share_exp)
            value = to_int64(half_up_div(state["target"].astype(object) * share,
                                         10**share_exp))
            label = text.percent_label(milestone.of_target)
            pays_text = text.add(f"{label} of target ", text.money(state["target"]), " = ",
                                 text.money(value))
        earned = np.where(reached & state["gate"], value, 0)
        before = _earlier(ctx, payee, window, earned)
        line = earned - before
        emit = np.flatnonzero(line != 0) if ctx.ytd else np.flatnonzero(reached)
        head = f"milestone {text.percent_label(milestone.attainment)}"
        head += ", year to date: " if ctx.ytd else ": "
        attainment = text.percent(state["basis"], state["quota"])
        explanation = text.choose(
            reached,
            text.add(head, "reached at ", attainment, " attainment: ", pays_text),
            text.add(head, "attainment ", attainment, " is below it: 0.00"),
        )
        _gate_suffix(ctx, state, explanation, np.flatnonzero(reached), _gate_words(ctx))
        if ctx.ytd:
            explanation = text.add(explanation, _ytd_tail(earned, before, line))
        rate = ctx.builder.rate_codes([label])[0]
        batches.append((emit, line, np.full(n, index + 1, dtype=np.int64),
                        np.full(n, rate, dtype=np.int64), explanation))
    if not batches:
        return
    rows = np.concatenate([b[0] for b in batches])
    line = np.concatenate([b[1][b[0]] for b in batches])
    tier = np.concatenate([b[2][b[0]] for b in batches])
    rate = np.concatenate([b[3][b[0]] for b in batches])
    explanation = np.concatenate([b[4][b[0]] for b in batches])
    # pay order: by payee and window, then milestone
    order = np.lexsort((tier, window[rows], payee[rows]))
    _emit(ctx, state, rows[order], line[order], tier[order], rate[order],
          explanation[order], line_type=3)


def _mbo(ctx: ComponentContext, mbo: Mbo) -> None:
    p = ctx.prepared
    code = ctx.component.code
    label_of_window = {label: i for i, label in enumerate(ctx.windows.labels)}
    active = ctx.active
    scored: dict[tuple[int, int], Fraction] = {}
    for (payee, component, window_label), score in p.mbo.items():
        window = label_of_window.get(window_label)
        if component == code and window is not None and payee >= 0 and active[payee, window]:
            scored[(payee, window)] = score
    payee_all, window_all = np.nonzero(active)
    has = np.array([(int(a), int(b)) in scored for a, b in zip(payee_all, window_all,
                                                               strict=True)], dtype=bool)
    unscored_payee, unscored_window = payee_all[~has], window_all[~has]
    if len(unscored_payee):
        labels = np.array(ctx.windows.labels, dtype=object)[unscored_window]
        ctx.builder.issue("warning", "no_mbo_score",
                          np.array([f"no MBO score for {label}: nothing paid yet"
                                    for label in labels], dtype=object),
                          payee=unscored_payee, period=ctx.windows.last_period[unscored_window],
                          plan=ctx.plan, component=code)
    payee, window = payee_all[has], window_all[has]
    n = len(payee)
    scores = [scored[(int(a), int(b))] for a, b in zip(payee, window, strict=True)]
    limit = Fraction(mbo.max_score)
    counted = [min(s, limit) for s in scores]
    weight = Fraction(mbo.weight)
    target = ctx.target()[payee, window]
    share = [weight * c for c in counted]
    amount = to_int64(half_up_div(
        target.astype(object) * np.array([s.numerator for s in share], dtype=object),
        np.array([s.denominator for s in share], dtype=object))) if n else \
        np.zeros(0, dtype=np.int64)
    score_text = text.percent(np.array([c.numerator for c in counted], dtype=object),
                              np.array([c.denominator for c in counted], dtype=object)) \
        if n else text.blank(0)
    over = np.array([s > limit for s in scores], dtype=bool)
    if over.any():
        raw = text.percent(np.array([s.numerator for s in scores], dtype=object)[over],
                           np.array([s.denominator for s in scores], dtype=object)[over])
        score_text[over] = text.add(score_text[over], " (scored ", raw, ", capped at the ",
                                    text.percent_label(mbo.max_score), " maximum)")
    explanation = text.add("MBO: score ", score_text,
                           f" × weight {text.percent_label(mbo.weight)} × target ",
                           text.money(target), " = ", text.money(amount))
    state = {"payee": payee, "window": window,
             "basis": np.zeros(n, dtype=np.int64), "quota": np.zeros(n, dtype=np.int64)}
    _emit(ctx, state, np.arange(n), amount, np.zeros(n, dtype=np.int64),
          np.full(n, -1, dtype=np.int64), explanation, line_type=4, has_quota=False)


def _emit(ctx: ComponentContext, state: dict[str, np.ndarray], rows: np.ndarray,
          amount: np.ndarray, tier: np.ndarray, rate: np.ndarray, explanation: np.ndarray,
          *, line_type: int, has_quota: bool = True) -> None:
    """Caps, explanation tail and hand-over for window lines given in pay order.

    `rows` index the window `state`; amount, tier, rate and explanation are already per line.
    """
    k = len(rows)
    quota = state["quota"][rows]
    lines = {
        "payee": state["payee"][rows],
        "window": state["window"][rows],
        "line_type": np.full(k, line_type, dtype=np.int64),
        "credit_row": np.full(k, -1, dtype=np.int64),
        "seq": tier,
        "basis": state["basis"][rows],
        "cumulative": state["basis"][rows],
        "quota": quota,
        "quota_present": (quota > 0) if has_quota else np.zeros(k, dtype=bool),
        "tier": tier,
        "rate": rate,
        "amount": np.asarray(amount, dtype=np.int64),
        "carry": np.zeros(k, dtype=np.int64),
        "explanation": explanation,
    }
    ctx.apply_caps(lines, lines["window"])
    cap_suffix(lines)
    lines["pay_period"] = ctx.windows.last_period[lines["window"]]
    ctx.builder.add_lines(ctx, lines)
