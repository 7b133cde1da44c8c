"""Writes and business operations of compensation: plan versioning, assignments, crediting."""

from .adjustments import (
    adjustment_approve,
    adjustment_create,
    adjustment_reject,
    hold_place,
    hold_release,
)
from .assignments import (
    assignment_change,
    assignment_create,
    assignment_end,
    assignment_periods_refresh,
)
from .crediting import CreditIssue, credits_build
from .disputes import (
    dispute_comment,
    dispute_move,
    dispute_open,
    dispute_reject,
    dispute_resolve,
)
from .plans import (
    component_create,
    component_revise,
    plan_create,
    plan_version_create,
    plan_version_errors,
    plan_version_import,
    plan_version_new_from,
    plan_version_publish,
    plan_version_set_components,
)
from .splits import deal_splits_set

__all__ = [
    "CreditIssue",
    "adjustment_approve",
    "adjustment_create",
    "adjustment_reject",
    "assignment_change",
    "assignment_create",
    "assignment_end",
    "assignment_periods_refresh",
    "component_create",
    "component_revise",
    "credits_build",
    "deal_splits_set",
    "dispute_comment",
    "dispute_move",
    "dispute_open",
    "dispute_reject",
    "dispute_resolve",
    "hold_place",
    "hold_release",
    "plan_create",
    "plan_version_create",
    "plan_version_errors",
    "plan_version_import",
    "plan_version_new_from",
    "plan_version_publish",
    "plan_version_set_components",
]
