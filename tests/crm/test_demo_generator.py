"""The demo-data generator's frames: reps who differ, seasons, ramping and leaving, consistency.

These run on the pure numpy/pandas generator (no database) with enough deals for the
differences to be well outside noise.
"""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest

from spm.demo import generate
from spm.demo.generate import DemoSpec

pytestmark = pytest.mark.smoke

SPEC = DemoSpec(reps=40, years=2, deals=20_000, as_of=datetime.date(2026, 6, 30), seed=7)


@pytest.fixture(scope="module")
def data():
    teams, people = generate.org_frames(SPEC)
    regions = [r for r in generate.REGIONS if (people.region == r).any()]
    accounts = generate.accounts_frame(SPEC, regions)
    deals = generate.deals_frame(SPEC, people, accounts)
    history = generate.stage_history_frame(SPEC, deals)
    leads = generate.leads_frame(SPEC, people, deals)
    activities = generate.activities_frame(SPEC, people, deals, leads)
    deals = deals.merge(people[["key", "tier", "hire_date", "termination_date"]],
                        left_on="owner_key", right_on="key", suffixes=("", "_owner"))
    return {"teams": teams, "people": people, "accounts": accounts, "deals": deals,
            "history": history, "leads": leads, "activities": activities}


def by_tier(deals: pd.DataFrame, values: pd.Series, how: str = "mean") -> dict[str, float]:
    return values.groupby(deals["tier"]).agg(how).to_dict()


def test_it_makes_the_number_of_deals_asked_for(data):
    assert len(data["deals"]) == SPEC.deal_count
    assert data["deals"]["external_id"].is_unique


def test_top_performers_win_more_close_faster_and_sell_bigger(data):
    deals = data["deals"]
    closed = deals[deals.status != "open"]
    win = by_tier(closed, closed.status == "won")
    assert win["top"] > win["middle"] + 0.05
    assert win["middle"] > win["low"] + 0.05
    cycle = by_tier(closed, (closed.close_date - closed.created_date).dt.days, "median")
    assert cycle["top"] < cycle["middle"] < cycle["low"]
    size = by_tier(deals, deals.amount_cents, "median")
    assert size["top"] > 1.2 * size["middle"]
    assert size["middle"] > 1.2 * size["low"]


def test_top_performers_answer_leads_faster(data):
    leads = data["leads"].merge(data["people"][["key", "tier"]], left_on="owner_key",
                                right_on="key")
    answered = leads[leads.first_response_at.notna()]
    hours = (answered.first_response_at - answered.created_at).dt.total_seconds() / 3600
    median = hours.groupby(answered.tier).median()
    assert median["top"] < median["middle"] / 2
    assert median["middle"] < median["low"] / 2


def test_quarter_ends_and_the_fourth_quarter_peak(data):
    close = pd.to_datetime(data["deals"].close_date)
    fiscal_month = (close.dt.month - SPEC.fiscal_year_start_month) % 12
    share_in_third_months = (fiscal_month % 3 == 2).mean()
    assert share_in_third_months > 0.42  # a flat calendar would give a third
    complete_year = close[close.dt.year == 2025]
    quarters = ((complete_year.dt.month - 1) // 3).value_counts()
    assert quarters[3] > 1.3 * quarters[0]
    last_week = close.dt.days_in_month - close.dt.day < 7
    quarter_end = fiscal_month % 3 == 2
    assert last_week[quarter_end].mean() > 1.5 * last_week[~quarter_end].mean()


def test_new_hires_ramp_and_the_leaver_stops_selling(data):
    people, deals = data["people"], data["deals"]
    reps = people[people.role == "rep"]
    assert reps.termination_date.notna().sum() == 1
    leaver = reps[reps.termination_date.notna()].iloc[0]
    assert (deals[deals.owner_key == leaver.key].close_date <= leaver.termination_date).all()
    window_start = np.datetime64(SPEC.window_start)
    new_hires = reps[reps.hire_date > window_start]
    assert len(new_hires) >= 2
    assert (deals.created_date > deals.hire_date).all()
    assert (deals.close_date >= deals.hire_date + pd.Timedelta(days=30)).all()
    # A new hire sells less than a veteran of the same tier over the same months.
    recent = deals[deals.close_date > pd.Timestamp(SPEC.as_of) - pd.Timedelta(days=120)]
    per_rep = recent.groupby("owner_key").size()
    veterans = reps[(reps.hire_date < window_start) & reps.termination_date.isna()]
    assert per_rep.reindex(new_hires.key).fillna(0).mean() < per_rep.reindex(veterans.key).mean()


def test_every_stage_path_is_consistent_with_the_outcome(data):
    deals, history = data["deals"], data["history"]
    grouped = history.groupby("deal_key")
    first, last = grouped.first(), grouped.last()
    assert (first.from_stage == 0).all()
    assert (last.to_stage.to_numpy() == deals.sort_values("key").stage_order.to_numpy()).all()
    assert (grouped.changed_at.apply(lambda s: s.is_monotonic_increasing)).all()
    starts = deals.set_index("key").start_stage
    assert (first.to_stage == starts[first.index]).all()
    won = deals[deals.status == "won"].key
    won_steps = history[history.deal_key.isin(won)]
    # Every won deal went through negotiation before it closed, whatever it skipped before.
    assert (won_steps.groupby("deal_key").to_stage.apply(lambda s: list(s)[-2:] == [5, 6])).all()
    chained = history[history.from_stage != 0]
    assert (chained.to_stage > chained.from_stage).all()
    skipped = chained[(chained.to_stage - chained.from_stage > 1) & (chained.to_stage <= 5)]
    assert 0 < len(skipped) < len(chained) / 2
    opened, end = generate.deal_times(SPEC, deals.sort_values("key"))
    assert (history.changed_at.to_numpy() >= opened[history.deal_key]).all()
    assert (history.changed_at.to_numpy() <= end[history.deal_key]).all()


def test_leads_and_activities_fit_their_deals(data):
    deals = data["deals"].sort_values("key")
    leads, activities = data["leads"], data["activities"]
    opened, end = generate.deal_times(SPEC, deals)
    converted = leads[leads.status == "converted"]
    assert (converted.converted_at.to_numpy() == opened[converted.deal_key]).all()
    assert (deals.deal_type.to_numpy()[converted.deal_key] == "new").all()
    answered = leads[leads.first_response_at.notna()]
    assert (answered.first_response_at >= answered.created_at).all()
    assert (answered.first_response_at <= pd.Timestamp(SPEC.as_of)).all()
    on_deals = activities[activities.deal_key >= 0]
    assert (on_deals["at"].to_numpy() >= opened[on_deals.deal_key]).all()
    assert (on_deals["at"].to_numpy() <= end[on_deals.deal_key]).all()
    assert (on_deals.person_key.to_numpy() == deals.owner_key.to_numpy()[on_deals.deal_key]).all()


def test_deal_accounts_sit_in_the_owners_region(data):
    deals, people, accounts = data["deals"], data["people"], data["accounts"]
    owner_region = people.set_index("key").region[deals.owner_key].to_numpy()
    account_region = accounts.sales_region.to_numpy()[deals.account_key]
    assert (owner_region == account_region).all()


def test_the_same_seed_gives_the_same_data_and_another_seed_does_not():
    small = DemoSpec(reps=8, years=1, deals=500, as_of=datetime.date(2026, 3, 15), seed=3)

    def build(spec):
        _, people = generate.org_frames(spec)
        accounts = generate.accounts_frame(spec, sorted(set(people.region) - {""}))
        return generate.deals_frame(spec, people, accounts)

    pd.testing.assert_frame_equal(build(small), build(small))
    other = build(DemoSpec(**{**small.__dict__, "seed": 4}))
    assert not build(small)[["amount_cents", "close_date"]].equals(
        other[["amount_cents", "close_date"]]
    )
