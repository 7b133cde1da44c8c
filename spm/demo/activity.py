"""What happens around the demo's deals: when they opened and changed, the stage path of each,
the leads before them and the sellers' activities. Pure numpy/pandas, from a seed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .basics import (
    ACTIVITIES_PER_REP_WEEK,
    ACTIVITY_KINDS,
    HOUR,
    LEAD_SOURCES,
    LEADS_PER_REP_MONTH,
    SKIPPED_STAGE_SHARE,
    DemoSpec,
    _pick,
    rng_for,
)


def _working_time(rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    """A moment in office hours (08:00-18:00 UTC) on each day."""
    seconds = rng.integers(8 * 3600, 18 * 3600, size=len(days))
    return days.astype("datetime64[s]") + seconds.astype("timedelta64[s]")


def deal_times(spec: DemoSpec, deals: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """When each deal was opened and when its last change happened (close, or now if open)."""
    rng = rng_for(spec.seed, "deal-times")
    opened = _working_time(rng, deals["created_date"].to_numpy())
    closed = _working_time(rng, deals["close_date"].to_numpy())
    as_of = np.datetime64(spec.as_of, "s")
    end = np.where(deals["status"].to_numpy() == "open", as_of, np.maximum(closed, opened + HOUR))
    return opened, end


def stage_history_frame(spec: DemoSpec, deals: pd.DataFrame) -> pd.DataFrame:
    """Every deal's path: from its first stage up to where it got, then won or lost.

    A quarter of the stages between the first and the furthest are skipped, as sellers do. Times
    spread over the deal's life: the first row when it opened, a closed deal's last row on its
    close date, an open deal's last move before today.
    """
    rng = rng_for(spec.seed, "stage-history")
    opened, end = deal_times(spec, deals)
    start = deals["start_stage"].to_numpy()
    reached = deals["reached_stage"].to_numpy()
    closed = deals["status"].to_numpy() != "open"
    steps = reached - start + 1 + closed
    deal = np.repeat(np.arange(len(deals)), steps)
    position = np.arange(len(deal)) - np.repeat(np.cumsum(steps) - steps, steps)
    to_stage = np.repeat(start, steps) + position
    is_closing = (position == np.repeat(steps - 1, steps)) & np.repeat(closed, steps)
    to_stage = np.where(is_closing, np.repeat(deals["stage_order"].to_numpy(), steps), to_stage)
    between = (position > 0) & (to_stage < np.repeat(reached, steps))
    keep = ~(between & (rng.uniform(size=len(deal)) < SKIPPED_STAGE_SHARE))
    deal, to_stage = deal[keep], to_stage[keep]

    steps = np.bincount(deal, minlength=len(deals))
    first_row = np.cumsum(steps) - steps
    position = np.arange(len(deal)) - np.repeat(first_row, steps)
    from_stage = np.where(position == 0, 0, np.roll(to_stage, 1))
    gaps = np.where(position == 0, 0.0, rng.exponential(size=len(deal)))
    cumulative = np.cumsum(gaps)
    cumulative -= np.repeat(cumulative[first_row], steps)
    span_total = np.repeat(cumulative[first_row + steps - 1], steps)
    # Open deals are still in their stage, so their last move sits before "now".
    tail = np.where(np.repeat(closed, steps), 0.0,
                    np.repeat(rng.exponential(size=len(deals)), steps))
    fraction = np.divide(cumulative, span_total + tail, out=np.zeros(len(deal)),
                         where=(span_total + tail) > 0)
    life = (end - opened).astype(np.int64)
    changed = opened[deal] + (fraction * life[deal]).astype("timedelta64[s]")
    return pd.DataFrame({"deal_key": deal, "from_stage": from_stage, "to_stage": to_stage,
                         "changed_at": changed})


# -- leads and activities -----------------------------------------------------------------------


def leads_frame(spec: DemoSpec, people: pd.DataFrame, deals: pd.DataFrame) -> pd.DataFrame:
    """Leads: most new-business deals began as one; the rest were disqualified or are open.

    Top reps answer in minutes and convert more of their leads; weak reps take a day.
    """
    rng = rng_for(spec.seed, "leads")
    as_of = np.datetime64(spec.as_of, "s")
    window_start = np.datetime64(spec.window_start, "s")
    opened, _ = deal_times(spec, deals)
    by_key = people.set_index("key")

    converted = np.flatnonzero((deals["deal_type"].to_numpy() == "new")
                               & (rng.uniform(size=len(deals)) < 0.55))
    owner = deals["owner_key"].to_numpy()[converted]
    deal_opened = opened[converted]
    created = deal_opened - (rng.uniform(1, 20, size=len(converted)) * 86400).astype(
        "timedelta64[s]"
    )
    hire = by_key.loc[owner, "hire_date"].to_numpy().astype("datetime64[s]")
    created = np.maximum(created, np.minimum(hire, deal_opened - HOUR))
    conv = pd.DataFrame({
        "owner_key": owner,
        "account_key": deals["account_key"].to_numpy()[converted],
        "deal_key": deals["key"].to_numpy()[converted],
        "created_at": created,
        "converted_at": deal_opened,
        "status": "converted",
    })

    # Leads that did not convert, more of them for reps who convert less, but no more than a
    # rep can work in a month.
    converted_per_rep = conv.groupby("owner_key").size()
    reps = people[people.role == "rep"]
    extra = (reps["key"].map(converted_per_rep).fillna(0) * reps["lead_ratio"]).round()
    months = (spec.as_of - spec.window_start).days / 30.4
    extra = (np.minimum(extra, months * LEADS_PER_REP_MONTH) + 3).astype(np.int64).to_numpy()
    owner = np.repeat(reps["key"].to_numpy(), extra)
    hired = np.maximum(by_key.loc[owner, "hire_date"].to_numpy().astype("datetime64[s]"),
                       window_start)
    left = by_key.loc[owner, "termination_date"].to_numpy().astype("datetime64[s]")
    until = np.where(np.isnat(left), as_of, np.minimum(left, as_of))
    span = np.maximum((until - hired).astype(np.int64), 3600)
    created = hired + (rng.uniform(size=len(owner)) * span).astype("timedelta64[s]")
    age_days = (as_of - created).astype(np.int64) / 86400
    status = np.where(
        age_days < 14,
        np.where(rng.uniform(size=len(owner)) < 0.5, "new", "working"),
        np.where(rng.uniform(size=len(owner)) < 0.85, "disqualified", "working"),
    )
    other = pd.DataFrame({
        "owner_key": owner, "account_key": -1, "deal_key": -1, "created_at": created,
        "converted_at": np.datetime64("NaT", "s"), "status": status,
    })
    frame = pd.concat([conv, other], ignore_index=True)
    n = len(frame)

    median_hours = by_key.loc[frame["owner_key"], "response_h"].to_numpy()
    lag = rng.lognormal(np.log(median_hours), 0.9) * 3600
    created = frame["created_at"].to_numpy()
    limit = np.where(frame["status"] == "converted",
                     (frame["converted_at"].to_numpy() - created).astype(np.int64) * 0.5,
                     np.inf)
    lag = np.maximum(np.minimum(lag, limit), 60)
    responded = created + lag.astype(np.int64).astype("timedelta64[s]")
    unanswered = (responded > as_of) | ((frame["status"] == "new").to_numpy()
                                        & (rng.uniform(size=n) < 0.5))
    frame["first_response_at"] = np.where(unanswered, np.datetime64("NaT", "s"), responded)
    frame["source"] = _pick(rng, LEAD_SOURCES, n)
    frame = frame.sort_values("created_at", kind="stable").reset_index(drop=True)
    frame["key"] = np.arange(n)
    frame["external_id"] = [f"LEAD-{k:07d}" for k in range(1, n + 1)]
    return frame


def activities_frame(
    spec: DemoSpec, people: pd.DataFrame, deals: pd.DataFrame, leads: pd.DataFrame
) -> pd.DataFrame:
    """Calls, e-mails, meetings and demos: along each deal's life, and a lead's first answer."""
    rng = rng_for(spec.seed, "activities")
    opened, end = deal_times(spec, deals)
    activity = people.set_index("key")["activity"]
    life_days = (end - opened).astype(np.int64) / 86400
    touches = activity.loc[deals["owner_key"]].to_numpy()
    follow_ups = np.minimum(life_days / 45, 4) * touches
    # A rep's week has only so many calls in it: with far more deals than a team could work
    # (a benchmark's 200,000), deals get fewer touches rather than reps getting superhuman.
    weeks = (spec.as_of - spec.window_start).days / 7
    budget = (people["role"] == "rep").sum() * weeks * ACTIVITIES_PER_REP_WEEK
    wanted = len(deals) + follow_ups.sum()
    if wanted <= budget:
        per_deal = 1 + rng.poisson(follow_ups)
    else:
        per_deal = rng.poisson((1 + follow_ups) * budget / wanted)
    deal = np.repeat(np.arange(len(deals)), per_deal)
    at = opened[deal] + (rng.uniform(size=len(deal)) * (end - opened)[deal].astype(np.int64)
                         ).astype("timedelta64[s]")
    on_deals = pd.DataFrame({
        "kind": _pick(rng, ACTIVITY_KINDS, len(deal)),
        "person_key": deals["owner_key"].to_numpy()[deal],
        "deal_key": deals["key"].to_numpy()[deal],
        "lead_key": -1,
        "at": at,
    })

    answered = leads[leads["first_response_at"].notna()]
    first = pd.DataFrame({
        "kind": np.where(rng.uniform(size=len(answered)) < 0.5, "call", "email"),
        "person_key": answered["owner_key"].to_numpy(),
        "deal_key": -1,
        "lead_key": answered["key"].to_numpy(),
        "at": answered["first_response_at"].to_numpy(),
    })
    frame = pd.concat([on_deals, first], ignore_index=True)
    frame = frame.sort_values("at", kind="stable").reset_index(drop=True)
    frame["external_id"] = [f"ACT-{k:08d}" for k in range(1, len(frame) + 1)]
    return frame
