"""Plan versions as frozen dataclasses, and their validation with document paths.

Percentages are Decimal fractions (8% is Decimal("0.08")); money is Decimal in currency units with
at most two decimals. Field names follow the YAML document (docs/plans.md), so an error path such
as `components[2].tiers[1].rate` points at the line a comp admin has to fix.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

MEASURES = ("amount", "units", "margin")
CADENCES = ("month", "quarter", "year")
METHODS = ("graduated", "retroactive", "base_plus_overage")
EVALUATIONS = ("cumulative", "per_transaction")
TIER_BASES = ("amount", "attainment")
CAP_SPANS = ("period", "year")
CLAWBACK_METHODS = ("full", "prorated")

Measure = Literal["amount", "units", "margin"]
Cadence = Literal["month", "quarter", "year"]


@dataclass(frozen=True)
class Tier:
    """One row of a rate table. `lower` is inclusive (YAML `from`), `upper` exclusive (`to`)."""

    lower: Decimal
    upper: Decimal | None
    rate: Decimal | None = None
    multiplier: Decimal | None = None


@dataclass(frozen=True)
class RateTable:
    tiers: tuple[Tier, ...]
    basis: str = "attainment"
    method: str = "graduated"
    evaluation: str = "cumulative"
    base_rate: Decimal | None = None


@dataclass(frozen=True)
class CurvePoint:
    attainment: Decimal
    payout: Decimal  # share of the target incentive


@dataclass(frozen=True)
class PayoutCurve:
    points: tuple[CurvePoint, ...]


@dataclass(frozen=True)
class Milestone:
    attainment: Decimal
    amount: Decimal | None = None
    of_target: Decimal | None = None


@dataclass(frozen=True)
class MilestoneBonus:
    milestones: tuple[Milestone, ...]


@dataclass(frozen=True)
class Mbo:
    weight: Decimal
    max_score: Decimal = Decimal(1)


@dataclass(frozen=True)
class Spiff:
    per_deal: Decimal | None = None
    per_unit: Decimal | None = None
    percent: Decimal | None = None


@dataclass(frozen=True)
class Draw:
    recoverable: bool
    amount: Decimal | None = None
    of_target: Decimal | None = None
    max_recovery_per_period: Decimal | None = None
    recovery_start: str | None = None
    last_draw_period: str | None = None


Formula = RateTable | PayoutCurve | MilestoneBonus | Mbo | Spiff | Draw

KIND_OF: dict[type, str] = {
    RateTable: "rate_table",
    PayoutCurve: "payout_curve",
    MilestoneBonus: "milestone_bonus",
    Mbo: "mbo",
    Spiff: "spiff",
    Draw: "draw",
}
KINDS = tuple(KIND_OF.values())
CREDIT_KINDS = ("rate_table", "spiff")  # one line per credit
WINDOW_KINDS = ("payout_curve", "milestone_bonus", "mbo")  # lines per payee and window


@dataclass(frozen=True)
class CreditFilter:
    """Which credits a component looks at; every field given must match (empty = any)."""

    product_lines: tuple[str, ...] = ()
    deal_types: tuple[str, ...] = ()
    new_logo: bool | None = None
    deal_amount_at_least: Decimal | None = None
    deal_amount_below: Decimal | None = None
    closed_on_or_after: datetime.date | None = None
    closed_before: datetime.date | None = None


@dataclass(frozen=True)
class Gate:
    min_attainment: Decimal | None = None
    min_deal_amount: Decimal | None = None


@dataclass(frozen=True)
class Cap:
    per: str
    amount: Decimal | None = None
    target_multiple: Decimal | None = None


@dataclass(frozen=True)
class Clawback:
    within_days: int
    method: str = "full"


@dataclass(frozen=True)
class Component:
    code: str
    name: str
    formula: Formula
    measure: str = "amount"
    period: str = "month"
    ytd_true_up: bool = False
    filter: CreditFilter | None = None
    gate: Gate | None = None
    caps: tuple[Cap, ...] = ()
    clawback: Clawback | None = None

    @property
    def kind(self) -> str:
        return KIND_OF[type(self.formula)]

    def needs_quota(self) -> bool:
        """True when attainment (basis / quota) decides anything this component pays."""
        f = self.formula
        if self.gate is not None and self.gate.min_attainment is not None:
            return True
        if isinstance(f, RateTable):
            return f.basis == "attainment"
        return isinstance(f, PayoutCurve | MilestoneBonus)


@dataclass(frozen=True)
class PlanVersion:
    plan: str
    version: int
    name: str = ""
    components: tuple[Component, ...] = field(default_factory=tuple)


class PlanInvalid(ValueError):
    """A plan version breaks one or more rules; `errors` lists every one as `path: message`."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("The plan has errors:\n" + "\n".join(f"  {e}" for e in self.errors))


def effective_rates(table: RateTable) -> list[Decimal]:
    """Each tier's rate: its own `rate`, or `multiplier` × the table's `base_rate`."""
    rates = []
    for tier in table.tiers:
        if tier.rate is not None:
            rates.append(tier.rate)
        else:
            rates.append((tier.multiplier or Decimal(0)) * (table.base_rate or Decimal(0)))
    return rates


def _whole_cents(value: Decimal) -> bool:
    return value == value.quantize(Decimal("0.01"))


class _Errors:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(f"{path}: {message}")

    def non_negative(self, path: str, value: Decimal | None) -> None:
        if value is not None and value < 0:
            self.add(path, "must be ≥ 0")

    def money(self, path: str, value: Decimal | None) -> None:
        if value is None:
            return
        if value < 0:
            self.add(path, "must be ≥ 0")
        elif not _whole_cents(value):
            self.add(path, "must be a whole number of cents")

    def exactly_one(self, path: str, names: dict[str, object]) -> None:
        given = [n for n, v in names.items() if v is not None]
        if len(given) != 1:
            options = " or ".join(f"`{n}`" for n in names)
            found = f" (found {', '.join(given)})" if given else ""
            self.add(path, f"needs exactly one of {options}{found}")


def validate_plan(plan: PlanVersion, positions: Sequence[int] | None = None) -> list[str]:
    """Every rule the plan breaks, as `path: message`; empty when the plan can be computed.

    `positions` gives each component's index in its document when some could not be read, so
    paths still point at the right entry.
    """
    errors = _Errors()
    if not plan.plan:
        errors.add("plan", "must not be empty")
    if not plan.components and positions is None:
        errors.add("components", "a plan version needs at least one component")
    seen: dict[str, int] = {}
    for number, component in enumerate(plan.components):
        index = positions[number] if positions is not None else number
        path = f"components[{index}]"
        if component.code in seen:
            errors.add(f"{path}.code", f"{component.code!r} is already used by "
                                       f"components[{seen[component.code]}]")
        seen.setdefault(component.code, index)
        _validate_component(errors, path, component)
    return errors.items


def _validate_component(errors: _Errors, path: str, c: Component) -> None:
    if not c.code:
        errors.add(f"{path}.code", "must not be empty")
    if c.measure not in MEASURES:
        errors.add(f"{path}.measure", f"must be one of {', '.join(MEASURES)}")
    if c.period not in CADENCES:
        errors.add(f"{path}.period", f"must be one of {', '.join(CADENCES)}")
    kind = c.kind
    f = c.formula
    if isinstance(f, RateTable):
        _validate_rate_table(errors, path, c, f)
    elif isinstance(f, PayoutCurve):
        _validate_curve(errors, path, f)
    elif isinstance(f, MilestoneBonus):
        _validate_milestones(errors, path, f)
    elif isinstance(f, Mbo):
        errors.non_negative(f"{path}.weight", f.weight)
        errors.non_negative(f"{path}.max_score", f.max_score)
    elif isinstance(f, Spiff):
        errors.exactly_one(path, {"per_deal": f.per_deal, "per_unit": f.per_unit,
                                  "percent": f.percent})
        errors.money(f"{path}.per_deal", f.per_deal)
        errors.non_negative(f"{path}.per_unit", f.per_unit)
        errors.non_negative(f"{path}.percent", f.percent)
        if f.percent is not None and c.measure == "units":
            errors.add(f"{path}.percent", "a percentage needs a money measure (amount or margin)")
    elif isinstance(f, Draw):
        _validate_draw(errors, path, c, f)

    if c.ytd_true_up and kind in ("spiff", "mbo", "draw"):
        errors.add(f"{path}.ytd_true_up", f"a {kind} component cannot true up year to date")
    if c.filter is not None:
        if kind in ("mbo", "draw"):
            errors.add(f"{path}.filter", f"a {kind} component does not look at credits")
        _validate_filter(errors, f"{path}.filter", c.filter)
    if c.gate is not None:
        if kind in ("draw", "mbo"):
            errors.add(f"{path}.gate", f"a {kind} component takes no gate")
        errors.non_negative(f"{path}.gate.min_attainment", c.gate.min_attainment)
        errors.money(f"{path}.gate.min_deal_amount", c.gate.min_deal_amount)
    if c.caps and kind == "draw":
        errors.add(f"{path}.caps", "a draw takes no cap")
    for i, cap in enumerate(c.caps):
        cap_path = f"{path}.caps[{i}]"
        if cap.per not in CAP_SPANS:
            errors.add(f"{cap_path}.per", "must be period or year")
        elif cap.per == "period" and c.ytd_true_up:
            errors.add(f"{cap_path}.per", "a year-to-date true-up takes only a yearly cap")
        errors.exactly_one(cap_path, {"amount": cap.amount,
                                      "target_multiple": cap.target_multiple})
        errors.money(f"{cap_path}.amount", cap.amount)
        errors.non_negative(f"{cap_path}.target_multiple", cap.target_multiple)
    if c.clawback is not None:
        if kind not in CREDIT_KINDS:
            errors.add(f"{path}.clawback", "only rate tables and spiffs pay per deal, "
                                           "so only they can be clawed back")
        if c.clawback.within_days <= 0:
            errors.add(f"{path}.clawback.within_days", "must be a whole number of days > 0")
        if c.clawback.method not in CLAWBACK_METHODS:
            errors.add(f"{path}.clawback.method", "must be full or prorated")


def _validate_rate_table(errors: _Errors, path: str, c: Component, t: RateTable) -> None:
    if t.basis not in TIER_BASES:
        errors.add(f"{path}.basis", "must be amount or attainment")
    if t.method not in METHODS:
        errors.add(f"{path}.method", f"must be one of {', '.join(METHODS)}")
    if t.evaluation not in EVALUATIONS:
        errors.add(f"{path}.evaluation", "must be cumulative or per_transaction")
    if c.ytd_true_up and t.evaluation == "per_transaction":
        errors.add(f"{path}.ytd_true_up", "a year-to-date true-up needs cumulative evaluation")
    errors.non_negative(f"{path}.base_rate", t.base_rate)
    if not t.tiers:
        errors.add(f"{path}.tiers", "a rate table needs at least one tier")
        return
    for i, tier in enumerate(t.tiers):
        tp = f"{path}.tiers[{i}]"
        errors.exactly_one(tp, {"rate": tier.rate, "multiplier": tier.multiplier})
        errors.non_negative(f"{tp}.rate", tier.rate)
        errors.non_negative(f"{tp}.multiplier", tier.multiplier)
        if tier.multiplier is not None and t.base_rate is None:
            errors.add(f"{tp}.multiplier", "a multiplier needs the table's base_rate")
        for name, bound in (("from", tier.lower), ("to", tier.upper)):
            if bound is None:
                continue
            if bound < 0:
                errors.add(f"{tp}.{name}", "must be ≥ 0")
            elif t.basis == "amount" and c.measure == "units" and bound != bound.to_integral():
                errors.add(f"{tp}.{name}", "must be a whole number of units")
            elif t.basis == "amount" and c.measure != "units" and not _whole_cents(bound):
                errors.add(f"{tp}.{name}", "must be a whole number of cents")
        if tier.upper is not None and tier.upper <= tier.lower:
            errors.add(f"{tp}.to", f"must be above `from` ({_bound_label(tier.lower, t.basis)})")
        if i == 0 and tier.lower != 0:
            errors.add(f"{tp}.from", "the first tier must start at 0")
        if i + 1 < len(t.tiers):
            following = t.tiers[i + 1]
            end = _bound_label(tier.upper, t.basis) if tier.upper is not None else ""
            if tier.upper is None:
                errors.add(f"{tp}.to", "only the last tier may be open-ended")
            elif following.lower > tier.upper:
                errors.add(f"{path}.tiers[{i + 1}].from",
                           f"leaves a gap after tiers[{i}], which ends at {end}")
            elif following.lower < tier.upper:
                errors.add(f"{path}.tiers[{i + 1}].from",
                           f"overlaps tiers[{i}], which ends at {end}")
        elif tier.upper is not None:
            errors.add(f"{tp}.to", "the last tier must be open-ended (no `to`) so every "
                                   "amount has a rate")


def _bound_label(value: Decimal, basis: str) -> str:
    if basis == "attainment":
        return f"{(value * 100).normalize():f}%"
    return f"{value:f}"


def _validate_curve(errors: _Errors, path: str, curve: PayoutCurve) -> None:
    if not curve.points:
        errors.add(f"{path}.points", "a payout curve needs at least one point")
        return
    for i, point in enumerate(curve.points):
        pp = f"{path}.points[{i}]"
        errors.non_negative(f"{pp}.payout", point.payout)
        if i == 0 and point.attainment != 0:
            errors.add(f"{pp}.attainment", "the first point must be at 0% attainment")
        if i > 0 and point.attainment <= curve.points[i - 1].attainment:
            errors.add(f"{pp}.attainment", "points must rise in attainment")


def _validate_milestones(errors: _Errors, path: str, bonus: MilestoneBonus) -> None:
    if not bonus.milestones:
        errors.add(f"{path}.milestones", "a milestone bonus needs at least one milestone")
    for i, milestone in enumerate(bonus.milestones):
        mp = f"{path}.milestones[{i}]"
        errors.exactly_one(mp, {"amount": milestone.amount, "of_target": milestone.of_target})
        errors.money(f"{mp}.amount", milestone.amount)
        errors.non_negative(f"{mp}.of_target", milestone.of_target)
        errors.non_negative(f"{mp}.attainment", milestone.attainment)
        if i > 0 and milestone.attainment <= bonus.milestones[i - 1].attainment:
            errors.add(f"{mp}.attainment", "milestones must rise in attainment")


def _validate_draw(errors: _Errors, path: str, c: Component, d: Draw) -> None:
    errors.exactly_one(path, {"amount": d.amount, "of_target": d.of_target})
    errors.money(f"{path}.amount", d.amount)
    errors.non_negative(f"{path}.of_target", d.of_target)
    errors.money(f"{path}.max_recovery_per_period", d.max_recovery_per_period)
    if not d.recoverable and (d.max_recovery_per_period is not None
                              or d.recovery_start is not None):
        errors.add(path, "a non-recoverable guarantee is never recovered: drop "
                         "max_recovery_per_period and recovery_start")
    if c.clawback is not None:
        errors.add(f"{path}.clawback", "a draw cannot be clawed back")
    # A month the engine cannot place would silently mean "never" or "from the start".
    for name in ("recovery_start", "last_draw_period"):
        value = getattr(d, name)
        if value is not None and not _MONTH.fullmatch(str(value)):
            errors.add(f"{path}.{name}", f"{value!r} is not a month; write it as 2026-06")


_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def _validate_filter(errors: _Errors, path: str, f: CreditFilter) -> None:
    errors.money(f"{path}.deal_amount_at_least", f.deal_amount_at_least)
    errors.money(f"{path}.deal_amount_below", f.deal_amount_below)
    if (f.deal_amount_at_least is not None and f.deal_amount_below is not None
            and f.deal_amount_below <= f.deal_amount_at_least):
        errors.add(f"{path}.deal_amount_below", "must be above deal_amount_at_least")
    if (f.closed_on_or_after is not None and f.closed_before is not None
            and f.closed_before <= f.closed_on_or_after):
        errors.add(f"{path}.closed_before", "must be after closed_on_or_after")
