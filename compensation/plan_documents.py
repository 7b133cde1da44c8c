"""Plan versions as YAML documents: load with every error listed by path, and dump back.

Percentages are written with a percent sign ("8%"), money as plain decimals (100000.00), and
numbers are read as exact decimals, never binary floats. The schema is documented in
docs/plans.md. No Django here: the admin, the simulate command and tests all share it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

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
    validate_plan,
)


class PlanDocumentError(ValueError):
    """A plan document cannot be used; `errors` lists every problem as `path: message`."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("The plan document has errors:\n"
                         + "\n".join(f"  {e}" for e in self.errors))


# ---- YAML dialect: exact decimals, no duplicate keys ---------------------------------------
class _Loader(yaml.SafeLoader):
    pass


def _decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    return Decimal(loader.construct_scalar(node).replace("_", ""))  # type: ignore[arg-type]


def _mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} appears twice", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


_Loader.add_constructor("tag:yaml.org,2002:float", _decimal)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


class _Dumper(yaml.SafeDumper):
    pass


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    text = f"{value:f}"
    if "." not in text:  # keep it a YAML float so it loads back as a Decimal
        text += ".0"
    return dumper.represent_scalar("tag:yaml.org,2002:float", text)


_Dumper.add_representer(Decimal, _represent_decimal)


# ---- reading -------------------------------------------------------------------------------
class _Reader:
    """Reads fields off a mapping, recording every problem with its path instead of stopping."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def mapping(self, value: object, path: str, allowed: set[str]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.error(path or "document", "must be a mapping of fields")
            return None
        for key in value:
            if key not in allowed:
                self.error(f"{path}.{key}" if path else str(key), "unknown field")
        return value

    def field(self, data: dict[str, Any], key: str, path: str,
              parse: Callable[[object, str], Any], *, required: bool = False,
              default: Any = None) -> Any:
        where = f"{path}.{key}" if path else key
        if key not in data or data[key] is None:
            if required:
                self.error(where, "is required")
            return default
        return parse(data[key], where)

    # parsers: each returns None after recording an error
    def text(self, value: object, path: str) -> str | None:
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)
        self.error(path, "must be text")
        return None

    def choice(self, options: tuple[str, ...]) -> Callable[[object, str], str | None]:
        def parse(value: object, path: str) -> str | None:
            if value in options:
                return str(value)
            self.error(path, f"must be one of {', '.join(options)}")
            return None
        return parse

    def boolean(self, value: object, path: str) -> bool | None:
        if isinstance(value, bool):
            return value
        self.error(path, "must be true or false")
        return None

    def integer(self, value: object, path: str) -> int | None:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        self.error(path, "must be a whole number")
        return None

    def number(self, value: object, path: str) -> Decimal | None:
        if isinstance(value, bool):
            self.error(path, "must be a number")
            return None
        if isinstance(value, int | Decimal):
            return Decimal(value)
        if isinstance(value, str):
            if value.strip().endswith("%"):
                self.error(path, "must be a plain number, not a percentage")
                return None
            try:
                number = Decimal(value.strip().replace(",", ""))
            except InvalidOperation:
                number = None
            if number is not None and number.is_finite():
                return number
        self.error(path, "must be a number")
        return None

    def percent(self, value: object, path: str) -> Decimal | None:
        """'8%' -> Decimal('0.08'); a bare number is refused, as 8 and 0.08 are both plausible."""
        if isinstance(value, str) and value.strip().endswith("%"):
            try:
                number = Decimal(value.strip()[:-1].strip())
            except InvalidOperation:
                number = None
            if number is not None and number.is_finite():
                return number / 100
        self.error(path, "must be a percentage such as 8%")
        return None

    def date(self, value: object, path: str) -> datetime.date | None:
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            return value
        if isinstance(value, str):
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:
                pass
        self.error(path, "must be a date such as 2026-03-31")
        return None

    def items(self, value: object, path: str) -> list[Any]:
        if isinstance(value, list):
            return value
        self.error(path, "must be a list")
        return []

    def texts(self, value: object, path: str) -> tuple[str, ...]:
        return tuple(t for i, item in enumerate(self.items(value, path))
                     if (t := self.text(item, f"{path}[{i}]")) is not None)


_COMMON = {"code", "name", "kind", "measure", "period", "ytd_true_up", "filter", "gate", "caps",
           "clawback"}
_KIND_FIELDS = {
    "rate_table": {"basis", "method", "evaluation", "base_rate", "tiers"},
    "payout_curve": {"points"},
    "milestone_bonus": {"milestones"},
    "mbo": {"weight", "max_score"},
    "spiff": {"per_deal", "per_unit", "percent"},
    "draw": {"recoverable", "amount", "of_target", "max_recovery_per_period", "recovery_start",
             "last_draw_period"},
}


def plan_from_data(data: object) -> PlanVersion:
    """A PlanVersion from parsed YAML data; raises PlanDocumentError listing every problem."""
    r = _Reader()
    top = r.mapping(data, "", {"plan", "version", "name", "components"})
    if top is None:
        raise PlanDocumentError(r.errors)
    components, positions = [], []
    for index, raw in enumerate(r.field(top, "components", "", r.items, required=True,
                                        default=[])):
        component = _component(r, raw, f"components[{index}]")
        if component is not None:
            components.append(component)
            positions.append(index)
    plan = PlanVersion(
        plan=r.field(top, "plan", "", r.text, required=True, default=""),
        version=r.field(top, "version", "", r.integer, default=1),
        name=r.field(top, "name", "", r.text, default=""),
        components=tuple(components),
    )
    # The rules are checked on every component that could be read, even when others could
    # not, so one pass lists every problem.
    read_all = len(components) == len(top.get("components") or [])
    r.errors.extend(validate_plan(plan, None if read_all else positions))
    if r.errors:
        raise PlanDocumentError(r.errors)
    return plan


def _component(r: _Reader, raw: object, path: str) -> Component | None:
    """The component, or None when any field of it could not be read (errors recorded)."""
    start = len(r.errors)
    stated = raw.get("kind") if isinstance(raw, dict) else None
    # With an unknown kind, fields are not checked against it: the kind error says enough.
    kind_fields = _KIND_FIELDS[stated] if stated in _KIND_FIELDS else set().union(
        *_KIND_FIELDS.values())
    data = r.mapping(raw, path, _COMMON | kind_fields)
    if data is None:
        return None
    kind = r.field(data, "kind", path, r.choice(tuple(_KIND_FIELDS)), required=True)
    measure = r.field(data, "measure", path, r.choice(("amount", "units", "margin")),
                      default="amount")
    formula = _formula(r, data, path, kind, measure) if kind else None
    component = Component(
        code=r.field(data, "code", path, r.text, required=True, default=""),
        name=r.field(data, "name", path, r.text, default=""),
        formula=formula,  # type: ignore[arg-type]
        measure=measure or "amount",
        period=r.field(data, "period", path, r.choice(("month", "quarter", "year")),
                       default="month"),
        ytd_true_up=r.field(data, "ytd_true_up", path, r.boolean, default=False),
        filter=r.field(data, "filter", path, lambda v, p: _filter(r, v, p)),
        gate=r.field(data, "gate", path, lambda v, p: _gate(r, v, p)),
        caps=tuple(c for i, item in enumerate(r.field(data, "caps", path, r.items, default=[]))
                   if (c := _cap(r, item, f"{path}.caps[{i}]")) is not None),
        clawback=r.field(data, "clawback", path, lambda v, p: _clawback(r, v, p)),
    )
    return component if len(r.errors) == start else None


def _formula(r: _Reader, data: dict[str, Any], path: str, kind: str,
             measure: str | None) -> Formula | None:
    start = len(r.errors)
    formula: Formula | None = None
    if kind == "rate_table":
        basis = r.field(data, "basis", path, r.choice(("amount", "attainment")),
                        default="attainment")
        bound = r.percent if basis == "attainment" else r.number
        rate = r.number if measure == "units" else r.percent
        tiers = []
        for i, item in enumerate(r.field(data, "tiers", path, r.items, required=True,
                                         default=[])):
            tp = f"{path}.tiers[{i}]"
            t = r.mapping(item, tp, {"from", "to", "rate", "multiplier"})
            if t is None:
                continue
            tiers.append(Tier(
                lower=r.field(t, "from", tp, bound, required=True, default=Decimal(0)),
                upper=r.field(t, "to", tp, bound),
                rate=r.field(t, "rate", tp, rate),
                multiplier=r.field(t, "multiplier", tp, r.number),
            ))
        formula = RateTable(
            tiers=tuple(tiers),
            basis=basis or "attainment",
            method=r.field(data, "method", path,
                           r.choice(("graduated", "retroactive", "base_plus_overage")),
                           default="graduated"),
            evaluation=r.field(data, "evaluation", path,
                               r.choice(("cumulative", "per_transaction")),
                               default="cumulative"),
            base_rate=r.field(data, "base_rate", path, rate),
        )
    elif kind == "payout_curve":
        points = []
        for i, item in enumerate(r.field(data, "points", path, r.items, required=True,
                                         default=[])):
            pp = f"{path}.points[{i}]"
            p = r.mapping(item, pp, {"attainment", "payout"})
            if p is not None:
                points.append(CurvePoint(
                    attainment=r.field(p, "attainment", pp, r.percent, required=True),
                    payout=r.field(p, "payout", pp, r.percent, required=True)))
        formula = PayoutCurve(points=tuple(points))
    elif kind == "milestone_bonus":
        milestones = []
        for i, item in enumerate(r.field(data, "milestones", path, r.items, required=True,
                                         default=[])):
            mp = f"{path}.milestones[{i}]"
            m = r.mapping(item, mp, {"attainment", "amount", "of_target"})
            if m is not None:
                milestones.append(Milestone(
                    attainment=r.field(m, "attainment", mp, r.percent, required=True),
                    amount=r.field(m, "amount", mp, r.number),
                    of_target=r.field(m, "of_target", mp, r.percent)))
        formula = MilestoneBonus(milestones=tuple(milestones))
    elif kind == "mbo":
        formula = Mbo(weight=r.field(data, "weight", path, r.percent, required=True),
                      max_score=r.field(data, "max_score", path, r.percent,
                                        default=Decimal(1)))
    elif kind == "spiff":
        formula = Spiff(per_deal=r.field(data, "per_deal", path, r.number),
                        per_unit=r.field(data, "per_unit", path, r.number),
                        percent=r.field(data, "percent", path, r.percent))
    elif kind == "draw":
        formula = Draw(
            recoverable=r.field(data, "recoverable", path, r.boolean, required=True),
            amount=r.field(data, "amount", path, r.number),
            of_target=r.field(data, "of_target", path, r.percent),
            max_recovery_per_period=r.field(data, "max_recovery_per_period", path, r.number),
            recovery_start=r.field(data, "recovery_start", path, r.text),
            last_draw_period=r.field(data, "last_draw_period", path, r.text),
        )
    return formula if len(r.errors) == start else None


def _filter(r: _Reader, value: object, path: str) -> CreditFilter | None:
    data = r.mapping(value, path, {"product_lines", "deal_types", "new_logo",
                                   "deal_amount_at_least", "deal_amount_below",
                                   "closed_on_or_after", "closed_before"})
    if data is None:
        return None
    return CreditFilter(
        product_lines=r.field(data, "product_lines", path, r.texts, default=()),
        deal_types=r.field(data, "deal_types", path, r.texts, default=()),
        new_logo=r.field(data, "new_logo", path, r.boolean),
        deal_amount_at_least=r.field(data, "deal_amount_at_least", path, r.number),
        deal_amount_below=r.field(data, "deal_amount_below", path, r.number),
        closed_on_or_after=r.field(data, "closed_on_or_after", path, r.date),
        closed_before=r.field(data, "closed_before", path, r.date),
    )


def _gate(r: _Reader, value: object, path: str) -> Gate | None:
    data = r.mapping(value, path, {"min_attainment", "min_deal_amount"})
    if data is None:
        return None
    return Gate(min_attainment=r.field(data, "min_attainment", path, r.percent),
                min_deal_amount=r.field(data, "min_deal_amount", path, r.number))


def _cap(r: _Reader, value: object, path: str) -> Cap | None:
    data = r.mapping(value, path, {"per", "amount", "target_multiple"})
    if data is None:
        return None
    return Cap(per=r.field(data, "per", path, r.choice(("period", "year")), required=True,
                           default="period"),
               amount=r.field(data, "amount", path, r.number),
               target_multiple=r.field(data, "target_multiple", path, r.number))


def _clawback(r: _Reader, value: object, path: str) -> Clawback | None:
    data = r.mapping(value, path, {"within_days", "method"})
    if data is None:
        return None
    return Clawback(within_days=r.field(data, "within_days", path, r.integer, required=True,
                                        default=0),
                    method=r.field(data, "method", path, r.choice(("full", "prorated")),
                                   default="full"))


def load_plan(document: str) -> PlanVersion:
    """Parse a YAML plan document; raises PlanDocumentError listing every problem found."""
    try:
        data = yaml.load(document, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}" if mark is not None else "document"
        raise PlanDocumentError([f"{where}: {exc.problem or exc}"]) from exc
    except yaml.YAMLError as exc:
        raise PlanDocumentError([f"document: {exc}"]) from exc
    except InvalidOperation as exc:
        raise PlanDocumentError([f"document: a number cannot be read exactly ({exc})"]) \
            from exc
    return plan_from_data(data)


# ---- writing -------------------------------------------------------------------------------
def _pct(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return f"{(value * 100).normalize():f}%"


def _money(value: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    return value.quantize(Decimal("0.01")) if value == value.quantize(Decimal("0.01")) \
        else value


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None and v != () and v != []}


def plan_to_data(plan: PlanVersion) -> dict[str, Any]:
    """The YAML-ready data of a plan version (the inverse of plan_from_data)."""
    return _drop_none({
        "plan": plan.plan,
        "version": plan.version,
        "name": plan.name or None,
        "components": [_component_data(c) for c in plan.components],
    })


def _component_data(c: Component) -> dict[str, Any]:
    data: dict[str, Any] = {"code": c.code, "name": c.name or None, "kind": c.kind,
                            "measure": c.measure, "period": c.period}
    if c.ytd_true_up:
        data["ytd_true_up"] = True
    f = c.formula
    rate = _money if c.measure == "units" else _pct
    if isinstance(f, RateTable):
        bound = _pct if f.basis == "attainment" else _money
        data.update(basis=f.basis, method=f.method, evaluation=f.evaluation,
                    base_rate=rate(f.base_rate),
                    tiers=[_drop_none({"from": bound(t.lower), "to": bound(t.upper),
                                       "rate": rate(t.rate), "multiplier": t.multiplier})
                           for t in f.tiers])
    elif isinstance(f, PayoutCurve):
        data["points"] = [{"attainment": _pct(p.attainment), "payout": _pct(p.payout)}
                          for p in f.points]
    elif isinstance(f, MilestoneBonus):
        data["milestones"] = [_drop_none({"attainment": _pct(m.attainment),
                                          "amount": _money(m.amount),
                                          "of_target": _pct(m.of_target)})
                              for m in f.milestones]
    elif isinstance(f, Mbo):
        data.update(weight=_pct(f.weight), max_score=_pct(f.max_score))
    elif isinstance(f, Spiff):
        data.update(per_deal=_money(f.per_deal), per_unit=_money(f.per_unit),
                    percent=_pct(f.percent))
    elif isinstance(f, Draw):
        data.update(recoverable=f.recoverable, amount=_money(f.amount),
                    of_target=_pct(f.of_target),
                    max_recovery_per_period=_money(f.max_recovery_per_period),
                    recovery_start=f.recovery_start, last_draw_period=f.last_draw_period)
    if c.filter is not None:
        flt = c.filter
        data["filter"] = _drop_none({
            "product_lines": list(flt.product_lines) or None,
            "deal_types": list(flt.deal_types) or None,
            "new_logo": flt.new_logo,
            "deal_amount_at_least": _money(flt.deal_amount_at_least),
            "deal_amount_below": _money(flt.deal_amount_below),
            "closed_on_or_after": flt.closed_on_or_after,
            "closed_before": flt.closed_before,
        })
    if c.gate is not None:
        data["gate"] = _drop_none({"min_attainment": _pct(c.gate.min_attainment),
                                   "min_deal_amount": _money(c.gate.min_deal_amount)})
    if c.caps:
        data["caps"] = [_drop_none({"per": cap.per, "amount": _money(cap.amount),
                                    "target_multiple": cap.target_multiple})
                        for cap in c.caps]
    if c.clawback is not None:
        data["clawback"] = {"within_days": c.clawback.within_days,
                            "method": c.clawback.method}
    return _drop_none(data)


def dump_plan(plan: PlanVersion) -> str:
    """The plan version as a YAML document that load_plan() reads back to an equal plan."""
    return yaml.dump(plan_to_data(plan), Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=None, width=100)
