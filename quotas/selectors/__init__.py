"""Reads for quotas, by concept: the quota of a month (`monthly`), attainment per person and
month (`attainment`), team roll-ups and the manager's team view (`teams`), quota letters
(`letters`) and the allocation workspace (`workspace`).

Every public name is importable from `quotas.selectors` as before.
"""

from .attainment import (
    Attainment,
    MonthAttainment,
    Span,
    Window,
    attainment_by_month,
    attainment_by_person,
    attainment_window,
)
from .common import MONEY_SUM, ZERO, ratio
from .letters import QuotaLetter, published_plans_of, quota_letter
from .monthly import monthly_quotas
from .teams import (
    TeamAttainment,
    TeamTotal,
    TeamView,
    attainment_by_team,
    team_attainment,
    team_total,
    team_view_teams,
)
from .workspace import Workspace, WorkspaceRow, allocation_workspace, quota_plans

__all__ = [
    "MONEY_SUM",
    "ZERO",
    "Attainment",
    "MonthAttainment",
    "QuotaLetter",
    "Span",
    "TeamAttainment",
    "TeamTotal",
    "TeamView",
    "Window",
    "Workspace",
    "WorkspaceRow",
    "allocation_workspace",
    "attainment_by_month",
    "attainment_by_person",
    "attainment_by_team",
    "attainment_window",
    "monthly_quotas",
    "published_plans_of",
    "quota_letter",
    "quota_plans",
    "ratio",
    "team_attainment",
    "team_total",
    "team_view_teams",
]
