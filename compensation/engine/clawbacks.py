"""Clawbacks: reversal lines for deals cancelled within a component's clawback window.

A cancelled deal's paid credit lines are reversed in the period the cancellation is posted in,
in full or prorated by the days the customer stayed ((N - days) / N of the line, rounded
half-up); earlier periods are never rewritten. A line already reversed is not reversed again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import text
from .calendar import Calendar
from .exact import half_up_div, to_int64
from .inputs import EngineInputError, _days, _missing
from .plans import Clawback, PlanVersion
from .result import ISSUE_COLUMNS, LINE_COLUMNS

EVENT_COLUMNS = ("deal_id", "close_date", "cancel_date", "period")


@dataclass
class ClawbackResult:
    lines: pd.DataFrame
    issues: pd.DataFrame


def apply_clawbacks(
    *,
    plans: Mapping[str, PlanVersion],
    events: pd.DataFrame,
    paid_lines: pd.DataFrame,
    calendar: Calendar,
) -> ClawbackResult:
    """Reverse the credit lines of cancelled deals that their component claws back.

    `events`: one row per cancelled deal (deal_id, close_date, cancel_date, period to post in).
    `paid_lines`: lines already computed for earlier periods (and this run), in the engine's
    line format; only lines of periods up to the event's period are reversed.
    """
    close_day, cancel_day, event_period = _event_days(events, calendar)

    issues = []
    backwards = close_day > cancel_day
    for deal in events["deal_id"][backwards]:
        issues.append(_issue("error", "cancelled_before_close",
                             f"deal {deal} is cancelled before it closed: nothing reversed",
                             deal=deal))

    policy = _policies(plans)
    lines = paid_lines
    if lines.empty or not policy:
        return ClawbackResult(_empty(), _issues(issues))
    line_type = lines["line_type"].astype(str)
    reversed_before = lines[line_type == "clawback"]
    done = set(zip(reversed_before["payee_id"], reversed_before["plan"].astype(str),
                   reversed_before["component"].astype(str), reversed_before["credit_id"],
                   strict=True))
    candidates = lines[(line_type == "credit") & lines["deal_id"].isin(events["deal_id"])]
    frame = pd.DataFrame({
        "deal_id": events["deal_id"].to_numpy(),
        "close_day": close_day,
        "cancel_day": cancel_day,
        "event_period": event_period,
    })[~backwards]
    merged = candidates.merge(frame, on="deal_id", how="inner")
    if merged.empty:
        return ClawbackResult(_empty(), _issues(issues))
    line_period = calendar.index_of(merged["period"].astype(str).to_numpy())
    keys = list(zip(merged["plan"].astype(str), merged["component"].astype(str), strict=True))
    within = np.array([policy[k].within_days if k in policy else -1 for k in keys])
    prorated = np.array([k in policy and policy[k].method == "prorated" for k in keys])
    days = (merged["cancel_day"] - merged["close_day"]).to_numpy()
    already = np.array([(p, k[0], k[1], c) in done for p, k, c in zip(
        merged["payee_id"], keys, merged["credit_id"], strict=True)], dtype=bool)
    for deal in merged["deal_id"][already].unique():
        issues.append(_issue("warning", "already_clawed_back",
                             f"deal {deal} was already clawed back: not reversed again",
                             deal=deal))
    take = (within > 0) & (days <= within) & (line_period <= merged["event_period"].to_numpy()) \
        & ~already
    merged, days, within, prorated = merged[take], days[take], within[take], prorated[take]
    paid = merged["amount_cents"].to_numpy(dtype=np.int64)
    kept_days = np.where(prorated, within - days, within)
    amount = -to_int64(half_up_div(paid.astype(object) * kept_days, within.astype(object)))
    keep = amount != 0
    merged, days, within, prorated, paid, amount = (
        merged[keep], days[keep], within[keep], prorated[keep], paid[keep], amount[keep])
    if merged.empty:
        return ClawbackResult(_empty(), _issues(issues))
    out = _clawback_lines(merged, days=days, within=within, prorated=prorated, paid=paid,
                          amount=amount, calendar=calendar)
    return ClawbackResult(out, _issues(issues))



def _event_days(events: pd.DataFrame,
                calendar: Calendar) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each cancellation's close day, cancel day and period index; raises on bad events."""
    errors: list[str] = []
    _missing(events, EVENT_COLUMNS, "cancellations", errors)
    if errors:
        raise EngineInputError(errors)
    if events["deal_id"].duplicated().any():
        errors.append("cancellations.deal_id: a deal is cancelled twice")
    close_day = _days(events, "close_date", "cancellations", errors)
    cancel_day = _days(events, "cancel_date", "cancellations", errors)
    event_period = calendar.index_of(events["period"].astype(str).to_numpy())
    if (event_period < 0).any():
        errors.append("cancellations.period: not in the calendar: "
                      + ", ".join(sorted(set(events["period"].astype(str)[event_period < 0]))))
    if errors:
        raise EngineInputError(errors)
    return close_day, cancel_day, event_period


def _policies(plans: Mapping[str, PlanVersion]) -> dict[tuple[str, str], Clawback]:
    """The clawback policy of each (plan, component) that has one."""
    policy = {}
    for key, plan in plans.items():
        for component in plan.components:
            if component.clawback is not None:
                policy[(key, component.code)] = component.clawback
    return policy


def _clawback_lines(merged: pd.DataFrame, *, days: np.ndarray, within: np.ndarray,
                    prorated: np.ndarray, paid: np.ndarray, amount: np.ndarray,
                    calendar: Calendar) -> pd.DataFrame:
    """The reversing lines, in the engine's line format, each with its explanation."""
    share = np.where(prorated, text.add(text.count(within - days), "/", text.count(within),
                                        " of "), "")
    explanation = text.add(
        "clawback: deal cancelled on ", _dates(merged["cancel_day"]), ", ", text.count(days),
        " days after it closed on ", _dates(merged["close_day"]), " (within ",
        text.count(within), "): reverses ", np.asarray(share, dtype=text.STR), "the ",
        text.money(paid), " paid in ", merged["period"].astype(str).to_numpy().astype(text.STR),
        " = ", text.money(amount))
    periods = np.array(calendar.periods, dtype=object)
    out = pd.DataFrame({
        "payee_id": merged["payee_id"].to_numpy(),
        "period": periods[merged["event_period"].to_numpy()],
        "window": periods[merged["event_period"].to_numpy()],
        "plan": merged["plan"].astype(str).to_numpy(),
        "component": merged["component"].astype(str).to_numpy(),
        "kind": merged["kind"].astype(str).to_numpy(),
        "line_type": "clawback",
        "deal_id": merged["deal_id"].to_numpy(),
        "credit_id": merged["credit_id"].to_numpy(),
        "measure": merged["measure"].astype(str).to_numpy(),
        "basis": paid,
        "cumulative": None,
        "quota": None,
        "tier": None,
        "rate": None,
        "amount_cents": amount,
        "rounding_carry_cents": 0,
        "capped_cents": 0,
        "explanation": explanation.astype(object),
    })
    return out[list(LINE_COLUMNS)]


def _dates(days: pd.Series) -> np.ndarray:
    return np.datetime_as_string(days.to_numpy().astype("datetime64[D]")).astype(text.STR)


def _issue(severity: str, code: str, message: str, *, deal: object) -> dict[str, object]:
    return {"severity": severity, "code": code, "payee_id": None, "period": None,
            "plan": None, "component": None, "credit_id": None, "deal_id": deal,
            "message": message}


def _issues(rows: list[dict[str, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(ISSUE_COLUMNS))


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=list(LINE_COLUMNS))
