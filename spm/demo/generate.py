"""Realistic sales data as pandas frames, from a seed: org, accounts, deals, stage paths, leads
and activities. Pure numpy/pandas (no Django), so it is fast, testable and deterministic.

Rows refer to each other by `key` (a 0-based row number); the steps that write them to the
database turn keys into primary keys. Money is integer cents; dates are numpy datetime64.
"""

from __future__ import annotations

import datetime
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spm.org.calendar import fiscal_year_of, fiscal_year_start

DAY = np.timedelta64(1, "D")
HOUR = np.timedelta64(3600, "s")

#: The default sales process: (name, order, probability %, forecast category, won, lost).
STAGES: list[tuple[str, int, str, str, bool, bool]] = [
    ("Prospecting", 1, "10", "pipeline", False, False),
    ("Qualification", 2, "20", "pipeline", False, False),
    ("Discovery", 3, "35", "pipeline", False, False),
    ("Proposal", 4, "55", "best_case", False, False),
    ("Negotiation", 5, "80", "commit", False, False),
    ("Closed Won", 6, "100", "closed", True, False),
    ("Closed Lost", 7, "0", "omitted", False, True),
]
LAST_OPEN_STAGE, WON_STAGE, LOST_STAGE = 5, 6, 7

#: How the three kinds of seller differ. Individual reps scatter around their tier.
TIERS: dict[str, dict[str, float]] = {
    "top": {"share": 0.2, "win": 0.40, "cycle": 40, "size": 1.35, "response_h": 0.6,
            "volume": 1.15, "lead_ratio": 1.6, "activity": 1.15},
    "middle": {"share": 0.55, "win": 0.26, "cycle": 58, "size": 1.0, "response_h": 3.0,
               "volume": 1.0, "lead_ratio": 2.6, "activity": 1.0},
    "low": {"share": 0.25, "win": 0.14, "cycle": 82, "size": 0.75, "response_h": 14.0,
            "volume": 0.85, "lead_ratio": 4.0, "activity": 0.85},
}
#: Where lost deals die: top reps disqualify early, weak reps lose after the proposal.
LOST_DEPTH_BETA = {"top": (1.2, 2.5), "middle": (1.6, 1.6), "low": (2.5, 1.2)}

REGIONS: dict[str, dict] = {
    "North America": {"share": 0.45, "countries": {
        "US": (0.85, ["CA", "NY", "TX", "IL", "WA", "MA", "GA", "CO"], "#####"),
        "CA": (0.15, ["ON", "BC", "QC"], "A#A #A#")}},
    "EMEA": {"share": 0.30, "countries": {
        "GB": (0.35, ["England", "Scotland"], "AA# #AA"),
        "DE": (0.30, ["Bayern", "Berlin", "Hessen"], "#####"),
        "FR": (0.20, ["Ile-de-France", "Auvergne-Rhone-Alpes"], "#####"),
        "NL": (0.08, ["Noord-Holland"], "#### AA"),
        "SE": (0.07, ["Stockholm"], "### ##")}},
    "APAC": {"share": 0.15, "countries": {
        "AU": (0.40, ["NSW", "VIC"], "####"),
        "JP": (0.30, ["Tokyo", "Osaka"], "###-####"),
        "SG": (0.15, [""], "######"),
        "IN": (0.15, ["Maharashtra", "Karnataka"], "######")}},
    "LATAM": {"share": 0.10, "countries": {
        "BR": (0.65, ["Sao Paulo", "Rio de Janeiro"], "#####-###"),
        "MX": (0.35, ["CDMX", "Jalisco"], "#####")}},
}
SEGMENTS = {  # share, employee range, median deal dollars, cycle factor, win factor
    "smb": (0.50, (10, 200), 9_000, 0.7, 1.10),
    "mid_market": (0.35, (200, 2_000), 32_000, 1.0, 1.0),
    "enterprise": (0.15, (2_000, 60_000), 115_000, 1.6, 0.85),
}
INDUSTRIES = ["Software", "Manufacturing", "Healthcare", "Financial Services", "Retail",
              "Logistics", "Education", "Energy", "Media", "Public Sector"]
PRODUCTS = {  # share, price factor, unit price dollars, margin rate
    "Platform": (0.45, 1.0, 1_200, 0.82),
    "Analytics": (0.25, 0.8, 800, 0.78),
    "Services": (0.15, 0.5, 1_600, 0.32),
    "Add-ons": (0.15, 0.3, 300, 0.88),
}
DEAL_TYPES = {  # share, size factor, cycle factor, win factor
    "new": (0.62, 1.0, 1.0, 1.0),
    "expansion": (0.24, 0.55, 0.8, 1.6),
    "renewal": (0.14, 0.8, 0.6, 2.8),
}
LOST_REASONS = ["Price", "Chose a competitor", "No decision", "Timing", "Missing feature",
                "Budget cut"]
LEAD_SOURCES = {"Web": 0.40, "Outbound": 0.20, "Event": 0.15, "Partner": 0.15, "Referral": 0.10}
ACTIVITY_KINDS = {"call": 0.38, "email": 0.34, "meeting": 0.18, "demo": 0.10}

FIRST_NAMES = [
    "Ava", "Ben", "Chloe", "Daniel", "Elena", "Farid", "Grace", "Hugo", "Isla", "Jonas", "Kira",
    "Liam", "Maya", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera",
    "Will", "Xena", "Yusuf", "Zoe", "Aiko", "Bruno", "Carmen", "Dev", "Emma", "Felix", "Gita",
    "Hana", "Ivan", "Julia", "Kofi", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Raj", "Sofia",
    "Theo", "Ines", "Leo", "Mia", "Nils", "Ola"
]
LAST_NAMES = [
    "Alvarez", "Becker", "Chen", "Dubois", "Eriksen", "Fischer", "Garcia", "Hughes", "Ito",
    "Jansen", "Kowalski", "Larsen", "Meyer", "Nakamura", "Okafor", "Patel", "Quinn", "Rossi",
    "Schmidt", "Tanaka", "Uddin", "Varga", "Weber", "Xu", "Yilmaz", "Zimmer", "Andersen", "Brooks",
    "Costa", "Dias", "Evans", "Fontaine", "Gupta", "Haas", "Ibrahim", "Jensen", "Kim", "Lopez",
    "Moreau", "Novak", "Olsen", "Park", "Reyes", "Silva", "Torres", "Ueda", "Vogel", "Wong",
    "Young", "Ziegler"
]
COMPANY_WORDS = [
    "Atlas", "Blue", "Cedar", "Delta", "Summit", "North", "Bright", "Iron", "Silver", "Pioneer",
    "Vertex", "Harbor", "Nova", "Crescent", "Granite", "Evergreen", "Falcon", "Lumen", "Orbit",
    "Prairie", "Quantum", "Redwood", "Sterling", "Tidal", "Union", "Vista", "Willow", "Apex",
    "Beacon", "Cobalt"
]
COMPANY_NOUNS = [
    "Logistics", "Systems", "Health", "Foods", "Robotics", "Energy", "Labs", "Media", "Capital",
    "Works", "Analytics", "Motors", "Pharma", "Textiles", "Retail", "Networks", "Foundry",
    "Partners", "Studios", "Materials"
]
COMPANY_FLAVOURS = ["", "", "", " Global", " Group", " Holdings", " International",
                    " Solutions", " & Co", " Industries"]
COMPANY_SUFFIX = {"US": "Inc", "CA": "Inc", "GB": "Ltd", "DE": "GmbH", "FR": "SA", "NL": "BV",
                  "SE": "AB", "AU": "Pty Ltd", "JP": "KK", "SG": "Pte Ltd", "IN": "Pvt Ltd",
                  "BR": "Ltda", "MX": "SA de CV"}

REPS_PER_TEAM = 8
DEALS_PER_REP_YEAR = 60
RAMP_DAYS = 120
PIPELINE_HORIZON_DAYS = 150
SKIPPED_STAGE_SHARE = 0.25
ACTIVITIES_PER_REP_WEEK = 25
LEADS_PER_REP_MONTH = 40


@dataclass(frozen=True)
class DemoSpec:
    reps: int = 60
    years: int = 2
    deals: int | None = None
    as_of: datetime.date = datetime.date(2026, 6, 30)
    fiscal_year_start_month: int = 1
    seed: int = 1

    @property
    def deal_count(self) -> int:
        return self.deals if self.deals is not None else self.reps * self.years * DEALS_PER_REP_YEAR

    @property
    def window_start(self) -> datetime.date:
        """The first day of the oldest fiscal year covered (the current one counts as one)."""
        current = fiscal_year_of(self.as_of, self.fiscal_year_start_month)
        return fiscal_year_start(current - self.years + 1, self.fiscal_year_start_month)

    @property
    def horizon(self) -> datetime.date:
        """The last expected close date of open pipeline."""
        return self.as_of + datetime.timedelta(days=PIPELINE_HORIZON_DAYS)


def rng_for(seed: int, part: str) -> np.random.Generator:
    """An independent stream per part, so adding a part never shifts another's numbers."""
    return np.random.default_rng([seed, zlib.crc32(part.encode())])


def _d64(day: datetime.date) -> np.datetime64:
    return np.datetime64(day, "D")


def _pick(rng: np.random.Generator, table: dict, n: int) -> np.ndarray:
    names = list(table)
    weights = np.array([v if isinstance(v, float) else v[0] for v in table.values()])
    return np.array(names, dtype=object)[rng.choice(len(names), size=n, p=weights / weights.sum())]


def _lookup(table: dict, keys: np.ndarray, position: int) -> np.ndarray:
    return pd.Series(keys).map({k: v[position] for k, v in table.items()}).to_numpy(dtype=float)


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
