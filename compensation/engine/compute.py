"""compute(): credits, quotas and assignments through every plan component to line items.

Stateless: the same inputs always give the same lines. Draws and clawbacks, which carry state
from one period to the next, are separate steps (draws.py, clawbacks.py) run after this one.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from .calendar import Calendar
from .context import Builder, ComponentContext
from .credits import credit_component
from .inputs import prepare
from .plans import CREDIT_KINDS, WINDOW_KINDS, PlanInvalid, PlanVersion, validate_plan
from .result import EngineResult, assemble, issues_frame, payee_period_totals
from .windows import window_component


def check_plans(plans: Mapping[str, PlanVersion]) -> None:
    """Raise PlanInvalid listing every error of every plan, each prefixed by its plan key."""
    errors = [f"{key}: {error}" for key, plan in plans.items() for error in validate_plan(plan)]
    if errors:
        raise PlanInvalid(errors)


def compute(
    *,
    plans: Mapping[str, PlanVersion],
    credits: pd.DataFrame,
    quotas: pd.DataFrame,
    assignments: pd.DataFrame,
    mbo_scores: pd.DataFrame | None = None,
    calendar: Calendar | None = None,
) -> EngineResult:
    """Line items, payee-period totals and issues for every credit-, window- and MBO component.

    Raises PlanInvalid or EngineInputError (each listing every problem) before computing
    anything; problems that only affect some payees are returned in `issues` instead.
    """
    check_plans(plans)
    prepared = prepare(plans=plans, credits=credits, quotas=quotas, assignments=assignments,
                       mbo_scores=mbo_scores, calendar=calendar)
    builder = Builder(prepared)
    for plan_index, plan in enumerate(prepared.plans):
        for order, component in enumerate(plan.components):
            ctx = ComponentContext(
                builder=builder,
                plan=plan_index,
                order=order,
                component=component,
                code=builder.component_code(component.code),
                windows=prepared.calendar.windows(component.period),
            )
            if component.kind in CREDIT_KINDS:
                credit_component(ctx)
            elif component.kind in WINDOW_KINDS:
                window_component(ctx)
    lines = assemble(builder)
    return EngineResult(lines=lines, totals=payee_period_totals(lines),
                        issues=issues_frame(prepared), calendar=prepared.calendar)
