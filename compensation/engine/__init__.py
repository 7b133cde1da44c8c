"""The incentive-compensation engine: pure functions from plan, credits and quotas to lines.

No Django and no database: DataFrames and dataclasses in, DataFrames out. The input and output
tables are documented in docs/plans.md.
"""

from .calendar import Calendar
from .clawbacks import ClawbackResult, apply_clawbacks
from .compute import check_plans, compute
from .draws import DrawResult, settle_draws
from .inputs import EngineInputError
from .pipeline import calculate, combine_lines
from .plans import (
    Cap,
    Clawback,
    Component,
    CreditFilter,
    CurvePoint,
    Draw,
    Gate,
    Mbo,
    Milestone,
    MilestoneBonus,
    PayoutCurve,
    PlanInvalid,
    PlanVersion,
    RateTable,
    Spiff,
    Tier,
    validate_plan,
)
from .result import LINE_COLUMNS, EngineResult, payee_period_totals

__all__ = [
    "LINE_COLUMNS",
    "Calendar",
    "Cap",
    "Clawback",
    "ClawbackResult",
    "Component",
    "CreditFilter",
    "CurvePoint",
    "Draw",
    "DrawResult",
    "EngineInputError",
    "EngineResult",
    "Gate",
    "Mbo",
    "Milestone",
    "MilestoneBonus",
    "PayoutCurve",
    "PlanInvalid",
    "PlanVersion",
    "RateTable",
    "Spiff",
    "Tier",
    "apply_clawbacks",
    "calculate",
    "check_plans",
    "combine_lines",
    "compute",
    "payee_period_totals",
    "settle_draws",
    "validate_plan",
]
