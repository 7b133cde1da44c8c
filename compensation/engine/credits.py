"""Components that pay per credit: rate tables and spiffs, one line per credit.

Cumulative rate tables round the running total, not each deal: a credit's line is
round(earned after it) - round(earned before it), both half-up to the cent, so a window's lines
add up exactly to its earnings rounded once, and each line is within a cent of its own exact
share (the difference is shown as a rounding carry). A year-to-date true-up adds one line per
pay period that re-prices earlier credits at the period's year-to-date quota.
"""

from __future__ import annotations

import numpy as np

from . import text
from .context import ComponentContext, cap_suffix, running_total
from .exact import SAFE_BOUND, abs_max, half_up_div, scaled, to_int64
from .plans import RateTable, Spiff
from .tiers import (
    CompiledTable,
    compile_table,
    earned,
    evaluate,
    lower_bounds,
    render_terms,
    tier_index,
)

METHOD_LABELS = {"graduated": "graduated", "retroactive": "retroactive",
                 "base_plus_overage": "base plus overage"}


def credit_component(ctx: ComponentContext) -> None:
    rows = ctx.credit_rows()
    if len(rows) == 0 and not ctx.ytd:
        return
    if isinstance(ctx.component.formula, RateTable):
        _rate_table(ctx, rows, ctx.component.formula)
    else:
        assert isinstance(ctx.component.formula, Spiff)
        _spiff(ctx, rows, ctx.component.formula)


def _common(ctx: ComponentContext, rows: np.ndarray) -> dict[str, np.ndarray]:
    p = ctx.prepared
    window = ctx.windows.of_period[p.period[rows]]
    raw, deal_ok = ctx.basis(rows)
    return {
        "payee": p.payee[rows],
        "window": window,
        "raw": raw,
        "deal_ok": deal_ok,
        "counted": np.where(deal_ok, raw, 0),
    }


def _accumulation_group(ctx: ComponentContext, payee: np.ndarray,
                        window: np.ndarray) -> np.ndarray:
    if ctx.ytd:
        n_years = int(ctx.windows.year.max(initial=0)) + 1
        return payee * n_years + ctx.windows.year[window]
    return payee * ctx.n_windows + window


def _deal_size_text(ctx: ComponentContext, rows: np.ndarray, below: np.ndarray) -> np.ndarray:
    gate = ctx.component.gate
    assert gate is not None
    assert gate.min_deal_amount is not None
    deal = ctx.prepared.columns["deal_amount_cents"][rows[below]]
    return text.add("deal of ", text.money(deal), " is below the ",
                    text.money_label(gate.min_deal_amount),
                    " minimum deal size: not counted, paid 0.00")


def _gate_texts(ctx: ComponentContext, out: np.ndarray, rows: np.ndarray, window: np.ndarray,
                basis: np.ndarray, quota: np.ndarray | None, gate_ok: np.ndarray,
                has_quota: np.ndarray, paid_words: str) -> None:
    """Append why a gate stopped a line: attainment below it, or no quota to measure it."""
    gate = ctx.component.gate
    if gate is None or gate.min_attainment is None:
        return
    label = ctx.gate_label()
    failed = rows[~gate_ok[rows] & has_quota[rows]]
    if len(failed):
        assert quota is not None
        out[failed] = text.add(out[failed], "; attainment ",
                               text.percent(basis[failed], quota[failed]),
                               f" is below the {label} gate{paid_words}")
    missing = rows[~has_quota[rows]]
    if len(missing):
        out[missing] = text.add(out[missing], "; no quota for ",
                                _window_labels(ctx, window[missing]),
                                f" to test the {label} gate{paid_words}")


def _window_labels(ctx: ComponentContext, window: np.ndarray) -> np.ndarray:
    return np.array(ctx.windows.labels, dtype=text.STR)[window]


def _rate_table(ctx: ComponentContext, rows: np.ndarray, formula: RateTable) -> None:
    # Longer than 80 lines on purpose: the tiers, the rounding carry, the gate texts and the
    # explanation all read the same dozen per-credit arrays computed here; as separate
    # functions each would take most of them as arguments, which reads worse than one pass.
    measure = ctx.component.measure
    table = compile_table(formula, measure)
    c = _common(ctx, rows)
    payee, window, counted = c["payee"], c["window"], c["counted"]
    n = len(rows)
    quota_w = ctx.quota()
    basis_w = ctx.window_basis(rows, counted)
    gate_w = ctx.gate_passes(basis_w, quota_w)
    needs_quota = ctx.component.needs_quota()
    if needs_quota and quota_w is not None:
        has_quota_w = quota_w > 0
    else:
        has_quota_w = np.ones(basis_w.shape, dtype=bool)

    quota = quota_w[payee, window] if quota_w is not None else None
    has_quota = has_quota_w[payee, window]
    pays = gate_w[payee, window] & has_quota
    lowers = lower_bounds(table, quota, n)
    group = _accumulation_group(ctx, payee, window)
    den = table.denominator
    cumulative = running_total(counted, group)
    if formula.evaluation == "cumulative":
        before, after = cumulative - counted, cumulative
    else:
        before, after = np.zeros(n, dtype=np.int64), counted
    earned_before, earned_after, found, tier = evaluate(table, before, after, lowers)
    own = to_int64(half_up_div(earned_after - earned_before, den))
    if formula.evaluation == "cumulative":
        uncapped = to_int64(half_up_div(earned_after, den) - half_up_div(earned_before, den))
    else:
        uncapped = own
    rate_codes = ctx.builder.rate_codes(table.rate_labels)
    attainment_tiers = table.basis == "attainment"
    lines = {
        "payee": payee,
        "window": window,
        "line_type": np.zeros(n, dtype=np.int64),
        "credit_row": rows,
        "seq": rows,
        "basis": counted,
        "cumulative": cumulative,
        "quota": quota if quota is not None else np.zeros(n, dtype=np.int64),
        "quota_present": (has_quota & (quota > 0)) if quota is not None
        else np.zeros(n, dtype=bool),
        "tier": np.where(has_quota | (not attainment_tiers), tier + 1, 0),
        "rate": np.where(has_quota | (not attainment_tiers), rate_codes[tier], -1),
        "amount": np.where(pays, uncapped, 0),
        "carry": np.where(pays, uncapped - own, 0),
    }
    method = METHOD_LABELS[formula.method]
    if formula.evaluation == "per_transaction":
        method += " per deal"
    elif ctx.ytd:
        method += " (year to date)"
    explanation = render_terms(found, table.rate_labels, measure, tier, prefix=f"{method}: ",
                               result=text.money(own))
    carried = np.flatnonzero(lines["carry"] != 0)
    if len(carried):
        carry = lines["carry"][carried]
        explanation[carried] = text.add(
            explanation[carried], np.where(carry < 0, " - ", " + ").astype(text.STR),
            text.money(np.abs(carry)), " rounding carry = ", text.money(uncapped[carried]))
    all_rows = np.arange(n)
    _gate_texts(ctx, explanation, all_rows, window, basis_w[payee, window],
                quota, gate_w[payee, window], has_quota, ": paid 0.00")
    if attainment_tiers:
        missing = np.flatnonzero(~has_quota)
        explanation[missing] = text.add(f"{method}: no quota for ",
                                        _window_labels(ctx, window[missing]),
                                        ", so the attainment tiers cannot apply: paid 0.00")
    below = ~c["deal_ok"]
    if below.any():
        explanation[below] = _deal_size_text(ctx, rows, below)
    lines["explanation"] = explanation
    no_quota_windows = np.unique(payee[~has_quota] * ctx.n_windows + window[~has_quota])
    ctx.no_quota_issue(no_quota_windows // ctx.n_windows, no_quota_windows % ctx.n_windows,
                       "attainment cannot be measured, so this component pays nothing")
    if ctx.ytd:
        lines = _with_true_ups(ctx, lines, table, basis_w, quota_w, gate_w, has_quota_w,
                               rows, counted)
    _finish(ctx, lines)


def _with_true_ups(ctx: ComponentContext, lines: dict[str, np.ndarray], table: CompiledTable,
                   basis_w: np.ndarray, quota_w: np.ndarray | None, gate_w: np.ndarray,
                   has_quota_w: np.ndarray, rows: np.ndarray,
                   counted: np.ndarray) -> dict[str, np.ndarray]:
    """Add, per active pay period, the line that re-prices earlier credits of the year."""
    p = ctx.prepared
    # Basis of the window alone (not year to date): YTD minus YTD through the previous window.
    flat = np.zeros(p.n_payees * ctx.n_windows, dtype=np.int64)
    keys = p.payee[rows] * ctx.n_windows + ctx.windows.of_period[p.period[rows]]
    if len(rows):
        starts = np.r_[0, np.flatnonzero(keys[1:] != keys[:-1]) + 1]
        flat[keys[starts]] = np.add.reduceat(counted, starts)
    alone = flat.reshape(p.n_payees, ctx.n_windows)
    payee, window = np.nonzero(ctx.active)
    m = len(payee)
    earlier = basis_w[payee, window] - alone[payee, window]
    through = basis_w[payee, window]
    quota = quota_w[payee, window] if quota_w is not None else None
    has_quota = has_quota_w[payee, window]
    gate_ok = gate_w[payee, window]
    pays = gate_ok & has_quota
    lowers = lower_bounds(table, quota, m)
    den = table.denominator
    now_earlier = np.where(pays, to_int64(half_up_div(earned(table, earlier, lowers), den)), 0)
    now_through = np.where(pays, to_int64(half_up_div(earned(table, through, lowers), den)), 0)
    same_year = np.zeros(m, dtype=bool)
    same_year[1:] = (payee[1:] == payee[:-1]) & (
        ctx.windows.year[window[1:]] == ctx.windows.year[window[:-1]])
    earned_before = np.where(same_year, np.roll(now_through, 1), 0)
    true_up = now_earlier - earned_before
    keep = np.flatnonzero(true_up != 0)
    payee, window, earlier, true_up = payee[keep], window[keep], earlier[keep], true_up[keep]
    k = len(keep)
    explanation = text.add("year-to-date true-up: earlier credits of ",
                           text.quantity(earlier, ctx.component.measure), " now earn ",
                           text.money(now_earlier[keep]), " - ", text.money(earned_before[keep]),
                           " earned before = ", text.money(true_up))
    _gate_texts(ctx, explanation, np.arange(k), window, through[keep],
                quota[keep] if quota is not None else None, gate_ok[keep], has_quota[keep], "")
    q = quota[keep] if quota is not None else np.zeros(k, dtype=np.int64)
    tier = tier_index(earlier, [b[keep] for b in lowers])
    attainment_tiers = table.basis == "attainment"
    extra = {
        "payee": payee,
        "window": window,
        "line_type": np.ones(k, dtype=np.int64),
        "credit_row": np.full(k, -1, dtype=np.int64),
        "seq": np.full(k, -1, dtype=np.int64),
        "basis": earlier,
        "cumulative": earlier,
        "quota": q,
        "quota_present": q > 0,
        "tier": np.where(has_quota[keep] | (not attainment_tiers), tier + 1, 0),
        "rate": np.where(has_quota[keep] | (not attainment_tiers),
                         ctx.builder.rate_codes(table.rate_labels)[tier], -1),
        "amount": true_up,
        "carry": np.zeros(k, dtype=np.int64),
        "explanation": explanation,
    }
    merged = {key: np.concatenate([extra[key], lines[key]]) for key in lines}
    # Pay order: per payee and window, the true-up first, then credits in accumulation order.
    order = np.lexsort((merged["seq"], merged["line_type"] == 0, merged["window"],
                        merged["payee"]))
    return {key: value[order] for key, value in merged.items()}


def _finish(ctx: ComponentContext, lines: dict[str, np.ndarray]) -> None:
    """Apply caps, append their explanation, and hand the batch to the builder."""
    ctx.apply_caps(lines, lines["window"])
    cap_suffix(lines)
    lines["pay_period"] = ctx.windows.last_period[lines["window"]]
    ctx.builder.add_lines(ctx, lines)


def _spiff(ctx: ComponentContext, rows: np.ndarray, formula: Spiff) -> None:
    measure = ctx.component.measure
    c = _common(ctx, rows)
    payee, window, counted, deal_ok = c["payee"], c["window"], c["counted"], c["deal_ok"]
    n = len(rows)
    quota_w = ctx.quota()
    basis_w = ctx.window_basis(rows, counted)
    gate_w = ctx.gate_passes(basis_w, quota_w)
    needs_quota = ctx.component.needs_quota()
    if needs_quota and quota_w is not None:
        has_quota = (quota_w > 0)[payee, window]
    else:
        has_quota = np.ones(n, dtype=bool)
    pays = gate_w[payee, window] & has_quota
    columns = ctx.prepared.columns
    if formula.per_deal is not None:
        fixed = scaled(formula.per_deal, 2)
        sale = columns["amount_cents"][rows] > 0
        own = np.where(sale & deal_ok, fixed, 0).astype(np.int64)
        label = text.money_label(formula.per_deal)
        explanation = text.choose(sale, f"spiff: {label} per deal",
                                  text.add(f"spiff: {label} per deal, but this credit of ",
                                           text.money(columns["amount_cents"][rows]),
                                           " is not a sale: paid 0.00"))
    elif formula.per_unit is not None:
        exponent = max(0, -int(formula.per_unit.normalize().as_tuple().exponent) - 2)
        numerator = scaled(formula.per_unit * 100, exponent)
        units = np.where(deal_ok, columns["units"][rows], 0)
        own = to_int64(half_up_div(_maybe_wide(units, numerator) * numerator, 10**exponent))
        label = text.money_label(formula.per_unit)
        explanation = text.add("spiff: ", text.count(units), f" units × {label} = ",
                               text.money(own))
    else:
        assert formula.percent is not None
        exponent = max(0, -int(formula.percent.normalize().as_tuple().exponent))
        numerator = scaled(formula.percent, exponent)
        own = to_int64(half_up_div(_maybe_wide(counted, numerator) * numerator, 10**exponent))
        label = text.percent_label(formula.percent)
        explanation = text.add("spiff: ", text.quantity(counted, measure), f" × {label} = ",
                               text.money(own))
    quota = quota_w[payee, window] if quota_w is not None else np.zeros(n, dtype=np.int64)
    lines = {
        "payee": payee,
        "window": window,
        "line_type": np.zeros(n, dtype=np.int64),
        "credit_row": rows,
        "seq": rows,
        "basis": counted,
        "cumulative": running_total(counted, _accumulation_group(ctx, payee, window)),
        "quota": quota,
        "quota_present": (quota > 0) if quota_w is not None else np.zeros(n, dtype=bool),
        "tier": np.zeros(n, dtype=np.int64),
        "rate": np.full(n, ctx.builder.rate_codes([label])[0], dtype=np.int64),
        "amount": np.where(pays, own, 0),
        "carry": np.zeros(n, dtype=np.int64),
    }
    _gate_texts(ctx, explanation, np.arange(n), window, basis_w[payee, window], quota,
                gate_w[payee, window], has_quota, ": paid 0.00")
    below = ~deal_ok
    if below.any():
        explanation[below] = _deal_size_text(ctx, rows, below)
    lines["explanation"] = explanation
    if needs_quota:
        missing = ~has_quota
        flat = np.unique(payee[missing] * ctx.n_windows + window[missing])
        ctx.no_quota_issue(flat // ctx.n_windows, flat % ctx.n_windows,
                           "the attainment gate cannot be tested, so this spiff pays nothing")
    _finish(ctx, lines)


def _maybe_wide(values: np.ndarray, numerator: int) -> np.ndarray:
    if abs_max(values) * max(1, abs(numerator)) >= SAFE_BOUND:
        return values.astype(object)
    return values
