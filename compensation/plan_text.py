"""A plan version's components in words a payee reads: tiers as percentages and money, caps,
gates, draws and clawbacks. Pure: engine dataclasses in, display dataclasses out, so the plan
page, the printed plan and the admin all say the same thing."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from compensation.engine.plans import (
    Component,
    Draw,
    Mbo,
    MilestoneBonus,
    PayoutCurve,
    RateTable,
    Spiff,
    effective_rates,
)

WINDOW_WORD = {"month": "month", "quarter": "quarter", "year": "year"}
WINDOWS_PER_YEAR = {"month": 12, "quarter": 4, "year": 1}
METHOD_TEXT = {
    "graduated": "Graduated: each slice of your total is paid at its own tier's rate, like tax "
                 "brackets.",
    "retroactive": "Retroactive: your whole total is paid at the rate of the highest tier it "
                   "reaches.",
    "base_plus_overage": "Base plus overage: the first tier at its rate, everything above it at "
                         "the rate of the highest tier reached.",
}
# Between a range's bounds, as typeset: "0% \u2013 100%".
DASH = " \N{EN DASH} "
MEASURE_WORD = {"amount": "deal amount", "units": "units", "margin": "margin"}


def pct(value: Decimal | None) -> str:
    """A fraction as a percentage with trailing zeros stripped: 0.0800000000 -> '8%'."""
    if value is None:
        return ""
    return f"{_plain(value * 100)}%"


def money(value: Decimal | None) -> str:
    """Money with thousands separators and cents only when there are any: 40,000 or 12.50."""
    if value is None:
        return ""
    cents = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if cents == cents.to_integral_value():
        return f"{cents:,.0f}"
    return f"{cents:,.2f}"


def number(value: Decimal | None) -> str:
    return "" if value is None else _plain(value)


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True)
class TierRow:
    """One tier: its bounds as written, as money for this payee's quota, and its rate."""

    bounds: str  # "0% - 100%" or "0 - 40,000" (an en dash between)
    money_bounds: str  # "0 - 25,000" for an attainment tier with a known quota, else ""
    rate: str  # "8%", "1.5 × base rate (9%)", "50 per unit"
    accelerator: bool  # pays more than the tier below

    @property
    def text(self) -> str:
        return f"{self.bounds}: {self.rate}"


@dataclass(frozen=True)
class ComponentText:
    code: str
    name: str
    kind: str
    kind_label: str
    summary: str
    window: str
    measure: str
    tiers: tuple[TierRow, ...] = ()
    rows: tuple[tuple[str, str], ...] = ()  # (label, value) pairs for other kinds
    terms: tuple[str, ...] = ()  # caps, gates, filters, true-up, clawback in sentences
    notes: tuple[str, ...] = field(default=())
    quota_label: str = ""  # whose quota the money bounds are for, e.g. "Jul 2026: 25,000"


KIND_LABEL = {
    "rate_table": "Commission", "payout_curve": "Payout curve",
    "milestone_bonus": "Milestone bonus",
    "mbo": "Objectives (MBO) bonus", "spiff": "Spiff", "draw": "Draw or guarantee",
}


def tier_bounds(lower: Decimal, upper: Decimal | None, *, basis: str, measure: str) -> str:
    """A tier's range as written: percentages for attainment, money or units for amounts."""
    def one(v: Decimal) -> str:
        if basis == "attainment":
            return pct(v)
        return number(v) if measure == "units" else money(v)
    if upper is None:
        return f"{one(lower)} and above"
    return f"{one(lower)}{DASH}{one(upper)}"


def tier_rate(rate: Decimal, *, multiplier: Decimal | None, base_rate: Decimal | None,
              measure: str) -> str:
    shown = f"{money(rate)} per unit" if measure == "units" else pct(rate)
    if multiplier is not None and base_rate is not None:
        return f"{number(multiplier)} × base rate {pct(base_rate)} = {shown}"
    return shown


def _rate_table(c: Component, table: RateTable, window_quota: Decimal | None
                ) -> tuple[str, tuple[TierRow, ...], tuple[str, ...]]:
    rates = effective_rates(table)
    rows = []
    for index, (tier, rate) in enumerate(zip(table.tiers, rates, strict=True)):
        money_bounds = ""
        if table.basis == "attainment" and window_quota is not None:
            low = money(tier.lower * window_quota)
            money_bounds = (f"{low} and above" if tier.upper is None
                            else f"{low}{DASH}{money(tier.upper * window_quota)}")
        rows.append(TierRow(
            bounds=tier_bounds(tier.lower, tier.upper, basis=table.basis, measure=c.measure),
            money_bounds=money_bounds,
            rate=tier_rate(rate, multiplier=tier.multiplier, base_rate=table.base_rate,
                           measure=c.measure),
            accelerator=index > 0 and rate > rates[index - 1],
        ))
    notes = [METHOD_TEXT.get(table.method, table.method)]
    if table.evaluation == "per_transaction":
        notes.append("Tiers apply to each deal on its own, not to your running total.")
    else:
        notes.append(f"Tiers apply to your running total for the {c.period}.")
    basis = ("% of your quota" if table.basis == "attainment"
             else MEASURE_WORD.get(c.measure, c.measure))
    summary = f"Paid on your {MEASURE_WORD.get(c.measure, c.measure)}, tiers by {basis}."
    return summary, tuple(rows), tuple(notes)


def _curve(curve: PayoutCurve, window_target: Decimal | None) -> tuple[tuple[str, str], ...]:
    rows = []
    for point in curve.points:
        value = f"{pct(point.payout)} of target incentive"
        if window_target is not None:
            value += f" ({money(point.payout * window_target)})"
        rows.append((f"at {pct(point.attainment)} of quota", value))
    return tuple(rows)


def _milestones(bonus: MilestoneBonus, window_target: Decimal | None
                ) -> tuple[tuple[str, str], ...]:
    rows = []
    for m in bonus.milestones:
        if m.amount is not None:
            value = money(m.amount)
        else:
            value = f"{pct(m.of_target)} of target incentive"
            if window_target is not None and m.of_target is not None:
                value += f" ({money(m.of_target * window_target)})"
        rows.append((f"on reaching {pct(m.attainment)} of quota", value))
    return tuple(rows)


def _spiff(c: Component, spiff: Spiff) -> tuple[tuple[str, str], ...]:
    rows = []
    if spiff.per_deal is not None:
        rows.append(("per deal", money(spiff.per_deal)))
    if spiff.per_unit is not None:
        rows.append(("per unit", money(spiff.per_unit)))
    if spiff.percent is not None:
        rows.append((f"of the {MEASURE_WORD.get(c.measure, c.measure)}", pct(spiff.percent)))
    return tuple(rows)


def _draw(draw: Draw, window_target: Decimal | None) -> tuple[tuple[str, str], ...]:
    rows = [("type", "recoverable draw (repaid from later earnings above it)"
             if draw.recoverable else "guarantee (never repaid)")]
    if draw.amount is not None:
        rows.append(("amount each period", money(draw.amount)))
    if draw.of_target is not None:
        value = f"{pct(draw.of_target)} of the period's target incentive"
        if window_target is not None:
            value += f" ({money(draw.of_target * window_target)})"
        rows.append(("amount each period", value))
    if draw.max_recovery_per_period is not None:
        rows.append(("most recovered a period", money(draw.max_recovery_per_period)))
    if draw.recovery_start:
        rows.append(("recovery starts", draw.recovery_start))
    if draw.last_draw_period:
        rows.append(("last period with a draw", draw.last_draw_period))
    return tuple(rows)


def _terms(c: Component, window_target: Decimal | None) -> tuple[str, ...]:
    terms = []
    if c.ytd_true_up:
        terms.append("Year-to-date true-up: each period re-prices the year so far against your "
                     "year-to-date quota and pays the difference.")
    f = c.filter
    if f is not None:
        parts = []
        if f.product_lines:
            parts.append("product lines " + ", ".join(f.product_lines))
        if f.deal_types:
            parts.append("deal types " + ", ".join(f.deal_types))
        if f.new_logo is not None:
            parts.append("new logos only" if f.new_logo else "existing customers only")
        if f.deal_amount_at_least is not None:
            parts.append(f"deals of at least {money(f.deal_amount_at_least)}")
        if f.deal_amount_below is not None:
            parts.append(f"deals below {money(f.deal_amount_below)}")
        if f.closed_on_or_after is not None:
            parts.append(f"closed on or after {f.closed_on_or_after:%d %b %Y}")
        if f.closed_before is not None:
            parts.append(f"closed before {f.closed_before:%d %b %Y}")
        if parts:
            terms.append("Counts only: " + "; ".join(parts) + ".")
    g = c.gate
    if g is not None:
        if g.min_attainment is not None:
            terms.append(f"Gate: nothing is paid for a {c.period} below {pct(g.min_attainment)} "
                         "of quota.")
        if g.min_deal_amount is not None:
            terms.append(f"Deals below {money(g.min_deal_amount)} do not count and pay nothing.")
    for cap in c.caps:
        span = "each " + c.period if cap.per == "period" else "each fiscal year"
        if cap.amount is not None:
            terms.append(f"Cap: at most {money(cap.amount)} {span}.")
        elif cap.target_multiple is not None:
            text = f"Cap: at most {number(cap.target_multiple)} × target incentive {span}"
            if window_target is not None:
                base = window_target if cap.per == "period" else (
                    window_target * WINDOWS_PER_YEAR.get(c.period, 1))
                text += f" ({money(cap.target_multiple * base)})"
            terms.append(text + ".")
    if c.clawback is not None:
        how = ("in full" if c.clawback.method == "full"
               else "in proportion to the days the customer stayed")
        terms.append(f"Clawback: if a deal is cancelled within {c.clawback.within_days} days of "
                     f"closing, its commission is taken back {how}.")
    return tuple(terms)


def component_text(c: Component, *, annual_quota: Decimal | None = None,
                   window_quota: Decimal | None = None,
                   target_incentive: Decimal | None = None,
                   window_label: str = "") -> ComponentText:
    """The component in words. `window_quota` is the payee's quota for one window of the
    component (month, quarter or year) and turns attainment tiers into money (`window_label`
    names that window); the yearly `target_incentive` puts money next to shares of target."""
    per_year = WINDOWS_PER_YEAR.get(c.period, 1)
    window_target = None if target_incentive is None else target_incentive / per_year
    if window_quota is None and annual_quota is not None:
        window_quota = annual_quota / per_year
    f = c.formula
    tiers: tuple[TierRow, ...] = ()
    rows: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()
    measure = MEASURE_WORD.get(c.measure, c.measure)
    if isinstance(f, RateTable):
        summary, tiers, notes = _rate_table(c, f, window_quota)
    elif isinstance(f, PayoutCurve):
        summary = (f"A share of your target incentive for the {c.period}, read off a curve of "
                   "your attainment (straight lines between points, flat beyond the last).")
        rows = _curve(f, window_target)
    elif isinstance(f, MilestoneBonus):
        summary = f"Paid once each {c.period} for each milestone of attainment you reach."
        rows = _milestones(f, window_target)
    elif isinstance(f, Mbo):
        summary = (f"Target incentive × {pct(f.weight)} × the score your manager enters for "
                   f"the {c.period}, counted up to {pct(f.max_score)}.")
        rows = (("weight", pct(f.weight)), ("highest score paid", pct(f.max_score)))
        if window_target is not None:
            rows += (("at a 100% score", money(window_target * f.weight)),)
    elif isinstance(f, Spiff):
        summary = f"Paid on each matching deal's {measure}."
        rows = _spiff(c, f)
    elif isinstance(f, Draw):
        summary = ("Tops your earnings up to the draw each period"
                   + (" and carries the advance to be repaid." if f.recoverable
                      else "; never repaid."))
        rows = _draw(f, window_target)
    else:  # pragma: no cover - the engine has no other kinds
        summary = ""
    return ComponentText(
        code=c.code, name=c.name or c.code, kind=c.kind, kind_label=KIND_LABEL.get(c.kind, c.kind),
        summary=summary, window=WINDOW_WORD.get(c.period, c.period), measure=measure,
        tiers=tiers, rows=rows, terms=_terms(c, window_target), notes=notes,
        quota_label=(f"{window_label + ': ' if window_label else ''}{money(window_quota)}"
                     if window_quota is not None and any(t.money_bounds for t in tiers) else ""),
    )
