"""The demo's fixed tables (stages, regions, segments, products, names), its spec, and the
seeded-draw helpers every step of `spm.demo.generate` shares. Pure numpy/pandas."""

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
