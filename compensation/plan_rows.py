"""Plan rows <-> the engine's plan dataclasses, and error paths <-> the rows and fields they name.

The engine's `validate_plan` is the one set of plan rules: the admin and the services convert
rows to dataclasses, validate them, and place each `components[2].tiers[1].rate: ...` error on
the row and field it names. Only what rows can get wrong and documents cannot (a value too fine
for its column, a required field left empty, tiers on a spiff) is checked here. No queries:
callers pass rows they loaded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models

from compensation.engine.plans import (
    Cap,
    Clawback,
    Component,
    CreditFilter,
    CurvePoint,
    Draw,
    Formula,
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

from . import models as m

# path segment -> Component field, for the fields a component row holds itself
MAIN_FIELDS = {
    "code": "code", "name": "name", "kind": "kind", "measure": "measure", "period": "period",
    "ytd_true_up": "ytd_true_up", "basis": "basis", "method": "method",
    "evaluation": "evaluation", "base_rate": "base_rate", "weight": "mbo_weight",
    "max_score": "mbo_max_score", "per_deal": "spiff_per_deal", "per_unit": "spiff_per_unit",
    "percent": "spiff_percent", "recoverable": "draw_recoverable", "amount": "draw_amount",
    "of_target": "draw_of_target", "max_recovery_per_period": "draw_max_recovery_per_period",
    "recovery_start": "draw_recovery_start", "last_draw_period": "draw_last_period",
}
GROUP_PREFIX = {"filter": "filter_", "gate": "gate_", "clawback": "clawback_"}
# path list name -> (related name on Component, {path field: model field})
CHILDREN = {
    "tiers": ("tiers", {"from": "lower", "to": "upper", "rate": "rate",
                        "multiplier": "multiplier"}),
    "points": ("curve_points", {"attainment": "attainment", "payout": "payout"}),
    "milestones": ("milestones", {"attainment": "attainment", "amount": "amount",
                                  "of_target": "of_target"}),
    "caps": ("caps", {"per": "per", "amount": "amount", "target_multiple": "target_multiple"}),
}
CHILD_OF_KIND = {"rate_table": "tiers", "payout_curve": "points",
                 "milestone_bonus": "milestones"}
_PATH = re.compile(r"^components\[(\d+)\](?:\.(.*))?$")
_PART = re.compile(r"^(\w+)(?:\[(\d+)\])?(?:\.(\w+))?$")


@dataclass(frozen=True)
class Location:
    """Where an error belongs: a component (by position), a part of it, a row, a field."""

    component: int | None  # position in the version; None for the version itself
    part: str  # "main" or a CHILDREN key
    index: int | None  # row of the part; None for the part as a whole
    field: str | None  # model field; None for the row (or part) as a whole
    message: str


def locate(error: str) -> Location:
    """Split `components[2].tiers[1].rate: must be ≥ 0` into where it points and what it says."""
    path, _, message = error.partition(": ")
    match = _PATH.match(path)
    if match is None:
        return Location(None, "main", None, None, message or error)
    component = int(match.group(1))
    rest = match.group(2) or ""
    if not rest:
        return Location(component, "main", None, None, message)
    part = _PART.match(rest)
    if part is None:
        return Location(component, "main", None, None, f"{rest}: {message}")
    name, index, sub = part.group(1), part.group(2), part.group(3)
    if name in CHILDREN:
        fields = CHILDREN[name][1]
        return Location(component, name, int(index) if index is not None else None,
                        fields.get(sub) if sub else None, message)
    if name in GROUP_PREFIX:
        field = f"{GROUP_PREFIX[name]}{sub}" if sub else None
        return Location(component, "main", None, field, message)
    return Location(component, "main", None, MAIN_FIELDS.get(name), message)


# ---- rows -> dataclasses -------------------------------------------------------------------
def _plain(value: Decimal | None) -> Decimal | None:
    """Drop the column's trailing zeros (0.0800000000 -> 0.08) so documents read naturally."""
    if value is None:
        return None
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def _money(value: Decimal | None) -> Decimal | None:
    return value.quantize(Decimal("0.01")) if value is not None else None


@dataclass
class ComponentRows:
    """A component row with its parts, as loaded or as a form is about to save them."""

    component: m.Component
    tiers: Sequence[m.ComponentTier] = ()
    points: Sequence[m.ComponentCurvePoint] = ()
    milestones: Sequence[m.ComponentMilestone] = ()
    caps: Sequence[m.ComponentCap] = ()

    @classmethod
    def of(cls, component: m.Component) -> ComponentRows:
        """From a component whose parts were prefetched (or are read here, one query each)."""
        return cls(component, list(component.tiers.all()), list(component.curve_points.all()),
                   list(component.milestones.all()), list(component.caps.all()))


def _by(rows: Iterable[Any], key: str) -> list[Any]:
    return sorted(rows, key=lambda r: (getattr(r, key), r.pk or 0))


def component_to_engine(rows: ComponentRows) -> Component:
    """The engine's Component for a row and its parts (tiers, points, milestones by their lower
    bound; caps in the order they were created)."""
    c = rows.component
    formula: Formula
    if c.kind == "rate_table":
        formula = RateTable(
            tiers=tuple(Tier(lower=_plain(t.lower), upper=_plain(t.upper), rate=_plain(t.rate),
                             multiplier=_plain(t.multiplier))
                        for t in _by(rows.tiers, "lower")),
            basis=c.basis, method=c.method, evaluation=c.evaluation,
            base_rate=_plain(c.base_rate))
    elif c.kind == "payout_curve":
        formula = PayoutCurve(points=tuple(
            CurvePoint(attainment=_plain(p.attainment), payout=_plain(p.payout))
            for p in _by(rows.points, "attainment")))
    elif c.kind == "milestone_bonus":
        formula = MilestoneBonus(milestones=tuple(
            Milestone(attainment=_plain(x.attainment), amount=_money(x.amount),
                      of_target=_plain(x.of_target))
            for x in _by(rows.milestones, "attainment")))
    elif c.kind == "mbo":
        formula = Mbo(weight=_plain(c.mbo_weight),  # type: ignore[arg-type]
                      max_score=_plain(c.mbo_max_score) if c.mbo_max_score is not None
                      else Decimal(1))
    elif c.kind == "spiff":
        formula = Spiff(per_deal=_money(c.spiff_per_deal), per_unit=_plain(c.spiff_per_unit),
                        percent=_plain(c.spiff_percent))
    else:
        formula = Draw(recoverable=bool(c.draw_recoverable), amount=_money(c.draw_amount),
                       of_target=_plain(c.draw_of_target),
                       max_recovery_per_period=_money(c.draw_max_recovery_per_period),
                       recovery_start=c.draw_recovery_start or None,
                       last_draw_period=c.draw_last_period or None)
    return Component(
        code=c.code, name=c.name, formula=formula, measure=c.measure, period=c.period,
        ytd_true_up=c.ytd_true_up, filter=_filter(c), gate=_gate(c),
        caps=tuple(Cap(per=x.per, amount=_money(x.amount),
                       target_multiple=_plain(x.target_multiple))
                   for x in sorted(rows.caps, key=lambda r: r.pk or 0)),
        clawback=(Clawback(within_days=c.clawback_within_days,
                           method=c.clawback_method or "full")
                  if c.clawback_within_days is not None else None),
    )


def _filter(c: m.Component) -> CreditFilter | None:
    # An empty filter matches every credit, exactly like no filter: both are stored as none.
    found = CreditFilter(
        product_lines=tuple(c.filter_product_lines or ()),
        deal_types=tuple(c.filter_deal_types or ()),
        new_logo=c.filter_new_logo,
        deal_amount_at_least=_money(c.filter_deal_amount_at_least),
        deal_amount_below=_money(c.filter_deal_amount_below),
        closed_on_or_after=c.filter_closed_on_or_after,
        closed_before=c.filter_closed_before,
    )
    return None if found == CreditFilter() else found


def _gate(c: m.Component) -> Gate | None:
    found = Gate(min_attainment=_plain(c.gate_min_attainment),
                 min_deal_amount=_money(c.gate_min_deal_amount))
    return None if found == Gate() else found


def version_to_engine(version: m.PlanVersion, components: Sequence[ComponentRows]) -> PlanVersion:
    return PlanVersion(plan=version.plan.code, version=version.number, name=version.name,
                       components=tuple(component_to_engine(c) for c in components))


# ---- dataclasses -> rows -------------------------------------------------------------------
@dataclass
class ComponentValues:
    """Field values of a component row and of each of its parts, ready to save."""

    fields: dict[str, Any]
    tiers: list[dict[str, Any]]
    points: list[dict[str, Any]]
    milestones: list[dict[str, Any]]
    caps: list[dict[str, Any]]


_FORMULA_DEFAULTS: dict[str, Any] = {
    "basis": "attainment", "method": "graduated", "evaluation": "cumulative", "base_rate": None,
    "mbo_weight": None, "mbo_max_score": None, "spiff_per_deal": None, "spiff_per_unit": None,
    "spiff_percent": None, "draw_recoverable": None, "draw_amount": None,
    "draw_of_target": None, "draw_max_recovery_per_period": None, "draw_recovery_start": "",
    "draw_last_period": "",
}


def component_from_engine(c: Component) -> ComponentValues:
    f = c.formula
    fields: dict[str, Any] = {"code": c.code, "name": c.name, "kind": c.kind,
                              "measure": c.measure, "period": c.period,
                              "ytd_true_up": c.ytd_true_up, **_FORMULA_DEFAULTS}
    tiers: list[dict[str, Any]] = []
    points: list[dict[str, Any]] = []
    milestones: list[dict[str, Any]] = []
    if isinstance(f, RateTable):
        fields.update(basis=f.basis, method=f.method, evaluation=f.evaluation,
                      base_rate=f.base_rate)
        tiers = [{"lower": t.lower, "upper": t.upper, "rate": t.rate,
                  "multiplier": t.multiplier} for t in f.tiers]
    elif isinstance(f, PayoutCurve):
        points = [{"attainment": p.attainment, "payout": p.payout} for p in f.points]
    elif isinstance(f, MilestoneBonus):
        milestones = [{"attainment": x.attainment, "amount": x.amount,
                       "of_target": x.of_target} for x in f.milestones]
    elif isinstance(f, Mbo):
        fields.update(mbo_weight=f.weight, mbo_max_score=f.max_score)
    elif isinstance(f, Spiff):
        fields.update(spiff_per_deal=f.per_deal, spiff_per_unit=f.per_unit,
                      spiff_percent=f.percent)
    elif isinstance(f, Draw):
        fields.update(draw_recoverable=f.recoverable, draw_amount=f.amount,
                      draw_of_target=f.of_target,
                      draw_max_recovery_per_period=f.max_recovery_per_period,
                      draw_recovery_start=f.recovery_start or "",
                      draw_last_period=f.last_draw_period or "")
    flt = c.filter or CreditFilter()
    fields.update(
        filter_product_lines=list(flt.product_lines), filter_deal_types=list(flt.deal_types),
        filter_new_logo=flt.new_logo, filter_deal_amount_at_least=flt.deal_amount_at_least,
        filter_deal_amount_below=flt.deal_amount_below,
        filter_closed_on_or_after=flt.closed_on_or_after,
        filter_closed_before=flt.closed_before,
    )
    gate = c.gate or Gate()
    fields.update(gate_min_attainment=gate.min_attainment,
                  gate_min_deal_amount=gate.min_deal_amount)
    fields.update(clawback_within_days=c.clawback.within_days if c.clawback else None,
                  clawback_method=c.clawback.method if c.clawback else "")
    caps = [{"per": x.per, "amount": x.amount, "target_multiple": x.target_multiple}
            for x in c.caps]
    return ComponentValues(fields, tiers, points, milestones, caps)


# ---- what rows can get wrong ---------------------------------------------------------------
_PATH_OF_MAIN = {v: k for k, v in MAIN_FIELDS.items()}


def _main_path(field: str) -> str:
    for group, prefix in GROUP_PREFIX.items():
        if field.startswith(prefix):
            return f"{group}.{field[len(prefix):]}"
    return _PATH_OF_MAIN.get(field, field)


def _column_error(field: models.Field, value: Any) -> str | None:
    """Why `value` cannot be stored in `field` as it is, or None."""
    if value is None:
        return None
    if isinstance(field, models.DecimalField) and isinstance(value, Decimal):
        places = field.decimal_places
        if not value.is_finite() or abs(value) >= Decimal(10) ** (field.max_digits - places):
            return "is too large to keep"
        if value != value.quantize(Decimal(1).scaleb(-places)):
            return f"has more decimal places than the {places} kept"
    elif isinstance(field, models.PositiveIntegerField) and isinstance(value, int):
        if value > 2_147_483_647:
            return "is too large to keep"
    elif isinstance(field, models.CharField) and isinstance(value, str):
        if field.max_length and len(value) > field.max_length:
            return f"is longer than {field.max_length} characters"
        for validator in field.validators:
            message = getattr(validator, "message", None)
            regex = getattr(validator, "regex", None)
            if regex is not None and value and not regex.search(value):
                return f"is not valid: {message}"
    return None


def storage_errors(values: ComponentValues, path: str) -> list[str]:
    """Errors for values a component's rows cannot hold exactly, with document paths."""
    errors = []
    for name, value in values.fields.items():
        problem = _column_error(m.Component._meta.get_field(name), value)
        if problem:
            errors.append(f"{path}.{_main_path(name)}: {problem}")
    for part, model in (("tiers", m.ComponentTier), ("points", m.ComponentCurvePoint),
                        ("milestones", m.ComponentMilestone), ("caps", m.ComponentCap)):
        to_path = {v: k for k, v in CHILDREN[part][1].items()}
        for i, row in enumerate(getattr(values, part)):
            for name, value in row.items():
                problem = _column_error(model._meta.get_field(name), value)
                if problem:
                    errors.append(f"{path}.{part}[{i}].{to_path[name]}: {problem}")
    return errors


def row_errors(rows: ComponentRows, path: str) -> list[str]:
    """Rules the engine's dataclasses cannot break but rows can: a required field left empty,
    and parts the component's kind does not use."""
    c = rows.component
    errors = []
    if c.kind == "mbo" and c.mbo_weight is None:
        errors.append(f"{path}.weight: is required")
    if c.kind == "draw" and c.draw_recoverable is None:
        errors.append(f"{path}.recoverable: is required")
    if c.clawback_within_days is None and c.clawback_method:
        errors.append(f"{path}.clawback.within_days: is required")
    used = CHILD_OF_KIND.get(c.kind)
    for part in ("tiers", "points", "milestones"):
        if part != used and len(getattr(rows, part)):
            errors.append(f"{path}.{part}: a {c.kind.replace('_', ' ')} component has no "
                          f"{part}; delete them")
    return errors
