"""Compensation data: plans with immutable published versions built from a component library,
plan assignments, the crediting of deals, and the tables calculation runs write.

Plan rows convert to and from the engine's dataclasses (compensation.engine.plans) without loss;
the engine's validation is the one set of plan rules (see compensation.plan_rows). Every name is
importable from `compensation.models`; the modules only keep each concept in a file of its own.
"""

from .acceptance import PlanAcceptance, PlanReminder
from .assignments import (
    MBO_SCORE_LIMIT,
    AssignmentImport,
    AssignmentPeriod,
    MboScore,
    MboScoreLockedError,
    PlanAssignment,
    window_label,
)
from .common import (
    CADENCES,
    CAP_SPANS,
    CLAWBACK_METHODS,
    CODE,
    EVALUATIONS,
    EXACT,
    KINDS,
    MEASURES,
    METHODS,
    MONEY,
    NON_NEGATIVE,
    PERIOD_KEY,
    TIER_BASES,
)
from .crediting import (
    CancellationKind,
    Credit,
    CreditBuild,
    CreditKind,
    CreditRole,
    CreditRule,
    CreditTarget,
    DealCancellation,
    DealSplit,
    DealSplitSet,
    ExchangeRate,
)
from .cycle import (
    FROZEN_STATUSES,
    PayCycle,
    PayCycleStatus,
    PayCycleTransition,
    PayeeApproval,
    PayeePayroll,
    PayrollExport,
    PayrollLayout,
    PaySettings,
)
from .operations import (
    AdjustmentReason,
    DisputeMessage,
    DisputePolicy,
    Hold,
    Notification,
)
from .pay import (
    Adjustment,
    AdjustmentStatus,
    Dispute,
    DisputeStatus,
    DrawBalance,
    Payout,
    PayoutStatus,
)
from .plans import (
    Component,
    ComponentCap,
    ComponentCurvePoint,
    ComponentMilestone,
    ComponentTier,
    CompPlan,
    CreditDateField,
    PlanLockedError,
    PlanVersion,
    PlanVersionComponent,
    VersionStatus,
)
from .runs import (
    RESULT_STATUSES,
    CalculationRun,
    LineItem,
    PayeePeriodResult,
    RecomputeRequest,
    RunScope,
    RunStatus,
)

__all__ = [
    "CADENCES",
    "CAP_SPANS",
    "CLAWBACK_METHODS",
    "CODE",
    "EVALUATIONS",
    "EXACT",
    "FROZEN_STATUSES",
    "KINDS",
    "MBO_SCORE_LIMIT",
    "MEASURES",
    "METHODS",
    "MONEY",
    "NON_NEGATIVE",
    "PERIOD_KEY",
    "RESULT_STATUSES",
    "TIER_BASES",
    "Adjustment",
    "AdjustmentReason",
    "AdjustmentStatus",
    "AssignmentImport",
    "AssignmentPeriod",
    "CalculationRun",
    "CancellationKind",
    "CompPlan",
    "Component",
    "ComponentCap",
    "ComponentCurvePoint",
    "ComponentMilestone",
    "ComponentTier",
    "Credit",
    "CreditBuild",
    "CreditDateField",
    "CreditKind",
    "CreditRole",
    "CreditRule",
    "CreditTarget",
    "DealCancellation",
    "DealSplit",
    "DealSplitSet",
    "Dispute",
    "DisputeMessage",
    "DisputePolicy",
    "DisputeStatus",
    "DrawBalance",
    "ExchangeRate",
    "Hold",
    "LineItem",
    "MboScore",
    "MboScoreLockedError",
    "Notification",
    "PayCycle",
    "PayCycleStatus",
    "PayCycleTransition",
    "PaySettings",
    "PayeeApproval",
    "PayeePayroll",
    "PayeePeriodResult",
    "Payout",
    "PayoutStatus",
    "PayrollExport",
    "PayrollLayout",
    "PlanAcceptance",
    "PlanAssignment",
    "PlanLockedError",
    "PlanReminder",
    "PlanVersion",
    "PlanVersionComponent",
    "RecomputeRequest",
    "RunScope",
    "RunStatus",
    "VersionStatus",
    "window_label",
]


def _reexport_history_models() -> None:
    # simple_history adds each Historical<Model> to the module that declares the model; keep
    # them reachable here, where they lived before the models were split into modules.
    from . import acceptance, assignments, crediting, cycle, operations, pay, plans, runs

    for module in (plans, assignments, crediting, runs, pay, acceptance, operations, cycle):
        for name, value in vars(module).items():
            if name.startswith("Historical") and isinstance(value, type):
                globals()[name] = value


_reexport_history_models()
