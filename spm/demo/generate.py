"""Realistic sales data as pandas frames, from a seed: org, accounts, deals, stage paths, leads
and activities. Pure numpy/pandas (no Django), so it is fast, testable and deterministic.

Rows refer to each other by `key` (a 0-based row number); the steps that write them to the
database turn keys into primary keys. Money is integer cents; dates are numpy datetime64.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# The tables, the spec and the shared helpers live in .basics, what happens around the deals
# in .activity; importing them from here keeps working.
from .activity import (  # noqa: F401
    activities_frame,
    deal_times,
    leads_frame,
    stage_history_frame,
)
from .basics import (  # noqa: F401
    ACTIVITIES_PER_REP_WEEK,
    ACTIVITY_KINDS,
    COMPANY_FLAVOURS,
    COMPANY_NOUNS,
    COMPANY_SUFFIX,
    COMPANY_WORDS,
    DAY,
    DEAL_TYPES,
    DEALS_PER_REP_YEAR,
    FIRST_NAMES,
    HOUR,
    INDUSTRIES,
    LAST_NAMES,
    LAST_OPEN_STAGE,
    LEAD_SOURCES,
    LEADS_PER_REP_MONTH,
    LOST_DEPTH_BETA,
    LOST_REASONS,
    LOST_STAGE,
    PIPELINE_HORIZON_DAYS,
    PRODUCTS,
    RAMP_DAYS,
    REGIONS,
    REPS_PER_TEAM,
    SEGMENTS,
    SKIPPED_STAGE_SHARE,
    STAGES,
    TIERS,
    WON_STAGE,
    DemoSpec,
    _d64,
    _lookup,
    _pick,
    rng_for,
)

# -- org ----------------------------------------------------------------------------------------


def _names(rng: np.random.Generator, n: int) -> list[str]:
    first = rng.choice(FIRST_NAMES, size=n)
    last = rng.choice(LAST_NAMES, size=n)
    return [f"{f} {la}" for f, la in zip(first, last, strict=True)]


def _split(total: int, shares: list[float]) -> list[int]:
    """Largest-remainder split of `total` by `shares`, each part at least 1 when total allows."""
    raw = np.array(shares) / sum(shares) * total
    parts = np.floor(raw).astype(int)
    for i in np.argsort(raw - parts)[::-1][: total - parts.sum()]:
        parts[i] += 1
    if total >= len(parts):
        while (parts == 0).any():
            parts[parts.argmax()] -= 1
            parts[(parts == 0).argmax()] += 1
    return parts.tolist()


def org_frames(spec: DemoSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Teams (root, one per region, first-line teams of ~8 reps) and the people in them.

    Reps get a tier, hire dates (a few new hires ramping inside the last months) and exactly one
    leaver with a termination date in the middle of the window.
    """
    rng = rng_for(spec.seed, "org")
    start, as_of = _d64(spec.window_start), _d64(spec.as_of)
    teams: list[dict] = [{"key": 0, "name": "Sales", "parent_key": None, "region": ""}]
    people: list[dict] = []

    def person(role: str, title: str, team_key: int, region: str, hired: np.datetime64) -> int:
        people.append({"key": len(people), "role": role, "title": title, "team_key": team_key,
                       "region": region, "hire_date": hired, "termination_date": None,
                       "tier": ""})
        return len(people) - 1

    def veteran_hire() -> np.datetime64:
        return start - int(rng.integers(200, 2_500)) * DAY

    teams[0]["manager_key"] = person("manager", "VP Sales", 0, "", veteran_hire())
    region_reps = _split(spec.reps, [r["share"] for r in REGIONS.values()])
    for region, reps_here in zip(REGIONS, region_reps, strict=True):
        if reps_here == 0:
            continue
        region_key = len(teams)
        teams.append({"key": region_key, "name": region, "parent_key": 0, "region": region})
        teams[region_key]["manager_key"] = person(
            "manager", f"Regional Director, {region}", 0, region, veteran_hire()
        )
        team_sizes = _split(reps_here, [1.0] * max(1, round(reps_here / REPS_PER_TEAM)))
        for number, size in enumerate(team_sizes, start=1):
            team_key = len(teams)
            teams.append({"key": team_key, "name": f"{region} {number}", "parent_key": region_key,
                          "region": region})
            teams[team_key]["manager_key"] = person(
                "manager", "Sales Manager", region_key, region, veteran_hire()
            )
            for _ in range(size):
                person("rep", "Account Executive", team_key, region, veteran_hire())

    frame = pd.DataFrame(people)
    reps = frame.index[frame.role == "rep"].to_numpy()
    tiers = _pick(rng, {k: v["share"] for k, v in TIERS.items()}, len(reps))
    frame.loc[reps, "tier"] = tiers
    # A few new hires inside the last eight months, still ramping; never a top performer yet.
    shuffled = rng.permutation(reps)
    new_hires = shuffled[: max(1, spec.reps // 15)] if spec.reps >= 3 else shuffled[:0]
    for key in new_hires:
        frame.loc[key, "hire_date"] = as_of - int(rng.integers(20, 240)) * DAY
        if frame.loc[key, "tier"] == "top":
            frame.loc[key, "tier"] = "middle"
    # One leaver, a veteran who left a little past the middle of the window.
    if spec.reps >= 2:
        leaver = shuffled[len(new_hires)]
        span = (as_of - start) / DAY
        frame.loc[leaver, "termination_date"] = start + int(span * rng.uniform(0.5, 0.7)) * DAY
    frame["name"] = _names(rng, len(frame))
    frame["employee_id"] = [f"E{n:05d}" for n in range(1, len(frame) + 1)]
    slug = frame["name"].str.lower().str.replace(" ", ".", regex=False)
    frame["email"] = slug + "." + frame["employee_id"].str.lower() + "@acme.example"

    # Each rep scatters around the tier, so no two reps look alike.
    noise = rng.lognormal(0, 0.12, size=(len(frame), 5))
    tier_of = frame["tier"].where(frame["tier"] != "", "middle")
    for column, param in enumerate(["win", "cycle", "size", "response_h", "volume"]):
        frame[param] = tier_of.map({k: v[param] for k, v in TIERS.items()}) * noise[:, column]
    frame["win"] = frame["win"].clip(0.03, 0.8)
    frame["lead_ratio"] = tier_of.map({k: v["lead_ratio"] for k, v in TIERS.items()})
    frame["activity"] = tier_of.map({k: v["activity"] for k, v in TIERS.items()})
    frame["hire_date"] = frame["hire_date"].astype("datetime64[s]")
    frame["termination_date"] = pd.to_datetime(frame["termination_date"])
    return pd.DataFrame(teams), frame


# -- accounts -----------------------------------------------------------------------------------


def _postal_codes(rng: np.random.Generator, pattern: str, n: int) -> list[str]:
    digits = rng.integers(0, 10, size=(n, len(pattern)))
    letters = rng.integers(0, 26, size=(n, len(pattern)))
    out = []
    for row in range(n):
        chars = []
        for i, mark in enumerate(pattern):
            if mark == "#":
                chars.append(str(digits[row, i]))
            elif mark == "A":
                chars.append(chr(65 + letters[row, i]))
            else:
                chars.append(mark)
        out.append("".join(chars))
    return out


def accounts_frame(spec: DemoSpec, regions: list[str]) -> pd.DataFrame:
    """Accounts per sales region (sorted by region), with segment, size and geography."""
    rng = rng_for(spec.seed, "accounts")
    total = max(50, spec.deal_count // 3)
    counts = _split(total, [REGIONS[r]["share"] for r in regions])
    parts = []
    for region, n in zip(regions, counts, strict=True):
        countries = REGIONS[region]["countries"]
        country = _pick(rng, countries, n)
        part = pd.DataFrame({"sales_region": region, "country": country})
        part["region"] = ""
        part["postal_code"] = ""
        for code, (_, areas, pattern) in countries.items():
            rows = part.index[part.country == code]
            part.loc[rows, "region"] = rng.choice(areas, size=len(rows))
            part.loc[rows, "postal_code"] = _postal_codes(rng, pattern, len(rows))
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    n = len(frame)
    frame["key"] = np.arange(n)
    frame["external_id"] = [f"ACC-{k:07d}" for k in range(1, n + 1)]
    frame["segment"] = _pick(rng, SEGMENTS, n)
    bounds = np.array([SEGMENTS[s][1] for s in frame["segment"]])
    frame["employees"] = np.exp(
        rng.uniform(np.log(bounds[:, 0]), np.log(bounds[:, 1]))
    ).astype(np.int64)
    revenue_per_employee = rng.lognormal(np.log(180_000), 0.5, size=n)
    frame["annual_revenue_cents"] = (frame["employees"] * revenue_per_employee).round(-3) * 100
    frame["annual_revenue_cents"] = frame["annual_revenue_cents"].astype(np.int64)
    median_deal = _lookup(SEGMENTS, frame["segment"].to_numpy(), 2)
    potential = median_deal * rng.lognormal(np.log(3), 0.6, size=n)
    frame["potential_cents"] = (np.round(potential, -2) * 100).astype(np.int64)
    frame["industry"] = rng.choice(INDUSTRIES, size=n)
    words = rng.choice(COMPANY_WORDS, size=n)
    nouns = rng.choice(COMPANY_NOUNS, size=n)
    flavour = rng.choice(COMPANY_FLAVOURS, size=n)
    base = (pd.Series(words, dtype=object) + " " + pd.Series(nouns, dtype=object)
            + pd.Series(flavour, dtype=object))
    repeat = base.groupby(base).cumcount()
    base = base.where(repeat == 0, base + " " + (repeat + 1).astype(str))
    frame["name"] = base + " " + frame["country"].map(COMPANY_SUFFIX)
    return frame


# -- deals --------------------------------------------------------------------------------------


def close_day_weights(days: np.ndarray, start_month: int) -> np.ndarray:
    """Relative chance of a deal closing on each day: quarter-end months and the last week of a
    quarter peak, the fiscal fourth quarter is strongest, the first weakest, weekends quiet."""
    months = days.astype("datetime64[M]")
    month_of_year = months.astype(np.int64) % 12 + 1
    fiscal_month = (month_of_year - start_month) % 12
    position = fiscal_month % 3
    quarter = fiscal_month // 3
    weight = np.choose(position, [0.75, 0.95, 1.5])
    weight = weight * np.choose(quarter, [0.85, 1.0, 1.0, 1.35])
    days_left = ((months + 1).astype("datetime64[D]") - days) / DAY
    weight = weight * np.where((position == 2) & (days_left <= 7), 2.2, 1.0)
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    return weight * np.where(weekday >= 5, 0.15, 1.0)


def deals_frame(spec: DemoSpec, people: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    """Deals with seasonal close dates, owners in their active months, outcomes by rep quality."""
    # The steps draw from one generator in a fixed order: reordering them changes every deal.
    rng = rng_for(spec.seed, "deals")
    as_of = _d64(spec.as_of)
    reps = people[people.role == "rep"].reset_index(drop=True)
    owner, close = _owners_and_close_dates(spec, rng, reps)
    n = spec.deal_count
    rep = reps.iloc[owner]
    account, segment = _deal_accounts(rng, rep, accounts, n)
    deal_type = _pick(rng, DEAL_TYPES, n)
    product = _pick(rng, PRODUCTS, n)
    dollars = (
        _lookup(SEGMENTS, segment, 2)
        * rng.lognormal(0, 0.55, size=n)
        * rep["size"].to_numpy()
        * _lookup(DEAL_TYPES, deal_type, 1)
        * _lookup(PRODUCTS, product, 1)
    )
    dollars = np.maximum(np.round(dollars, -1), 500)
    amount_cents = (dollars * 100).astype(np.int64)
    created, close, is_open = _created_dates(rng, rep, segment, deal_type, close, as_of)
    status, start_stage, reached, final_stage, lost = _deal_stages(
        rng, rep, segment, deal_type, created, close, is_open, as_of)

    reasons = np.array(LOST_REASONS, dtype=object)[rng.integers(0, len(LOST_REASONS), n)]
    frame = pd.DataFrame({
        "owner_key": rep["key"].to_numpy(),
        "account_key": account,
        "segment": segment,
        "amount_cents": amount_cents,
        "margin_cents": np.round(amount_cents * _lookup(PRODUCTS, product, 3)).astype(np.int64),
        "units": np.maximum(1, np.round(dollars / _lookup(PRODUCTS, product, 2))).astype(np.int64),
        "product_line": product,
        "deal_type": deal_type,
        "created_date": created,
        "close_date": close,
        "status": status,
        "start_stage": start_stage,
        "reached_stage": reached,
        "stage_order": final_stage,
        "lost_reason": np.where(lost, reasons, ""),
    })
    frame = frame.sort_values(["created_date", "close_date", "owner_key"], kind="stable")
    frame = frame.reset_index(drop=True)
    frame["key"] = np.arange(n)
    frame["external_id"] = [f"OPP-{k:07d}" for k in range(1, n + 1)]
    account_names = accounts["name"].to_numpy()[frame["account_key"].to_numpy()]
    frame["name"] = (pd.Series(account_names, dtype=object) + " - " + frame["product_line"]
                     + " (" + frame["deal_type"] + ")")
    return frame


def _owners_and_close_dates(spec: DemoSpec, rng: np.random.Generator,
                            reps: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each deal's owner (a row of `reps`) and close day: seasonal, in the owner's active
    months, fewer while they ramp up."""
    start, horizon = _d64(spec.window_start), _d64(spec.horizon)
    days = np.arange(start, horizon + DAY, DAY)
    cdf = np.concatenate([[0.0], np.cumsum(close_day_weights(days, spec.fiscal_year_start_month))])
    first_close = reps["hire_date"].to_numpy().astype("datetime64[D]") + 30 * DAY
    last_close = reps["termination_date"].to_numpy().astype("datetime64[D]")
    last_close = np.where(np.isnat(last_close), horizon, np.minimum(last_close, horizon))
    lo = np.clip((first_close - start) / DAY, 0, len(days) - 1).astype(np.int64)
    hi = np.clip((last_close - start) / DAY + 1, 0, len(days)).astype(np.int64)
    mass = np.maximum(cdf[hi] - cdf[lo], 0) * reps["volume"].to_numpy()
    if mass.sum() <= 0:
        raise ValueError("No rep is active in the window; widen --years or add reps.")

    wanted = spec.deal_count
    owner_rows: list[np.ndarray] = []
    close_rows: list[np.ndarray] = []
    have = 0
    while have < wanted:
        draw = int((wanted - have) * 1.3) + 64
        owner = rng.choice(len(reps), size=draw, p=mass / mass.sum())
        u = rng.uniform(cdf[lo[owner]], cdf[hi[owner]])
        day_index = np.clip(np.searchsorted(cdf, u, side="right") - 1, 0, len(days) - 1)
        close = days[day_index]
        tenure = (close - reps["hire_date"].to_numpy().astype("datetime64[D]")[owner]) / DAY
        keep = rng.uniform(size=draw) < np.clip(tenure / RAMP_DAYS, 0.1, 1.0)
        owner_rows.append(owner[keep])
        close_rows.append(close[keep])
        have += int(keep.sum())
    return np.concatenate(owner_rows)[:wanted], np.concatenate(close_rows)[:wanted]


def _deal_accounts(rng: np.random.Generator, rep: pd.DataFrame, accounts: pd.DataFrame,
                   n: int) -> tuple[np.ndarray, np.ndarray]:
    """Each deal's account, from its owner's region, and that account's segment."""
    # Accounts are sorted by region.
    region_first = accounts.groupby("sales_region")["key"].min()
    region_size = accounts.groupby("sales_region")["key"].count()
    first = rep["region"].map(region_first).to_numpy()
    size = rep["region"].map(region_size).to_numpy()
    account = (first + np.floor(rng.uniform(size=n) * size)).astype(np.int64)
    return account, accounts["segment"].to_numpy()[account]


def _created_dates(rng: np.random.Generator, rep: pd.DataFrame, segment: np.ndarray,
                   deal_type: np.ndarray, close: np.ndarray,
                   as_of: np.datetime64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each deal's created day, a sales cycle before its close (recent for open deals), its
    close day moved no earlier than that, and whether it was open (by its drawn close day)."""
    n = len(close)
    cycle_mean = (rep["cycle"].to_numpy() * _lookup(SEGMENTS, segment, 3)
                  * _lookup(DEAL_TYPES, deal_type, 2))
    cycle = np.minimum(rng.gamma(2.2, cycle_mean / 2.2) + 5, 365).astype(np.int64)
    hire = rep["hire_date"].to_numpy().astype("datetime64[D]")
    created = np.maximum(close - cycle * DAY, hire + DAY)
    is_open = close > as_of
    recent = as_of - rng.integers(1, 30, size=n) * DAY
    created = np.where(is_open, np.minimum(created, recent), created)
    created = np.maximum(created, hire + DAY)
    return created, np.maximum(close, created), is_open


def _deal_stages(
    rng: np.random.Generator, rep: pd.DataFrame, segment: np.ndarray, deal_type: np.ndarray,
    created: np.ndarray, close: np.ndarray, is_open: np.ndarray, as_of: np.datetime64,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each deal's outcome by rep quality: status, first stage, furthest open stage reached,
    final stage, and whether it was lost."""
    n = len(close)
    win_p = np.clip(rep["win"].to_numpy() * _lookup(DEAL_TYPES, deal_type, 3)
                    * _lookup(SEGMENTS, segment, 4), 0.02, 0.92)
    won = ~is_open & (rng.uniform(size=n) < win_p)
    lost = ~is_open & ~won
    status = np.where(is_open, "open", np.where(won, "won", "lost"))

    start_stage = np.where(rng.uniform(size=n) < 0.6, 1, 2)
    open_span = np.maximum((close - created) / DAY, 1)
    elapsed = np.clip((as_of - created) / DAY / open_span, 0, 0.999)
    open_reached = start_stage + np.floor(elapsed * (LAST_OPEN_STAGE - start_stage + 1))
    tier = rep["tier"].to_numpy()
    depth = np.empty(n)
    for name, (a, b) in LOST_DEPTH_BETA.items():
        rows = tier == name
        depth[rows] = rng.beta(a, b, size=int(rows.sum()))
    lost_reached = start_stage + np.floor(depth * (LAST_OPEN_STAGE - start_stage + 1))
    reached = np.where(won, LAST_OPEN_STAGE, np.where(lost, lost_reached, open_reached))
    reached = np.clip(reached, start_stage, LAST_OPEN_STAGE).astype(np.int64)
    final_stage = np.where(won, WON_STAGE, np.where(lost, LOST_STAGE, reached))
    return status, start_stage, reached, final_stage, lost


