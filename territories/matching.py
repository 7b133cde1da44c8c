"""Assignment-rule criteria and first-match-wins evaluation over a frame of accounts.

Pure: no Django. Values within one criterion are alternatives (country US or CA); criteria of one
rule must all hold (country US and segment SMB). Rules are tried in order; the first match wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Letters, digits, spaces and hyphens: what postal codes are made of in every country we know.
POSTAL_PREFIX_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 \-]{0,9}$")
COUNTRY_RE = re.compile(r"^[A-Za-z]{2}$")

ACCOUNT_COLUMNS = ["account_id", "country", "region", "postal_code", "industry", "segment",
                   "employees"]


def split_values(raw: str | None) -> list[str]:
    """'US, ca;  ,DE' -> ['US', 'ca', 'DE']: comma or semicolon separated, blanks dropped."""
    if not raw:
        return []
    return [part.strip() for part in re.split(r"[,;\n]", raw) if part.strip()]


def normalise_postal(value: str) -> str:
    # "SW1A 1AA" and "sw1a1aa" are the same code; a prefix compares without spaces and case.
    return re.sub(r"[\s\-]", "", value).upper()


@dataclass(frozen=True)
class RuleCriteria:
    """One rule's conditions. An empty tuple (or None bound) means "any"."""

    rule_id: int
    territory_id: int
    countries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    postal_prefixes: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    min_employees: int | None = None
    max_employees: int | None = None

    @property
    def is_empty(self) -> bool:
        return not (
            self.countries or self.regions or self.postal_prefixes or self.industries
            or self.segments or self.min_employees is not None or self.max_employees is not None
        )

    def mask(self, accounts: pd.DataFrame) -> np.ndarray:
        """Which rows of `accounts` (ACCOUNT_COLUMNS) meet every criterion of this rule."""
        match = np.ones(len(accounts), dtype=bool)
        if self.countries:
            wanted = {c.upper() for c in self.countries}
            match &= accounts["country"].fillna("").str.upper().isin(wanted).to_numpy()
        if self.regions:
            wanted = {r.casefold() for r in self.regions}
            match &= accounts["region"].fillna("").str.casefold().isin(wanted).to_numpy()
        if self.industries:
            wanted = {i.casefold() for i in self.industries}
            match &= accounts["industry"].fillna("").str.casefold().isin(wanted).to_numpy()
        if self.segments:
            match &= accounts["segment"].fillna("").isin(set(self.segments)).to_numpy()
        if self.postal_prefixes:
            codes = accounts["postal_code"].fillna("").map(normalise_postal)
            prefixes = tuple(normalise_postal(p) for p in self.postal_prefixes)
            match &= codes.str.startswith(prefixes).to_numpy(dtype=bool)
        if self.min_employees is not None or self.max_employees is not None:
            employees = pd.to_numeric(accounts["employees"], errors="coerce")
            # An account of unknown size meets no size criterion.
            in_range = employees.notna()
            if self.min_employees is not None:
                in_range &= employees >= self.min_employees
            if self.max_employees is not None:
                in_range &= employees <= self.max_employees
            match &= in_range.to_numpy(dtype=bool)
        return match


@dataclass(frozen=True)
class RuleOutcome:
    """How one rule fared: accounts meeting its criteria, and those it actually decides."""

    rule_id: int
    matched: int
    won: int


def first_match(
    accounts: pd.DataFrame, rules: Sequence[RuleCriteria]
) -> tuple[pd.DataFrame, list[RuleOutcome]]:
    """The territory each account gets from the first rule it meets (ordered as given).

    Returns a frame with `account_id`, `rule_id` and `territory_id` (both <NA> when no rule
    matches) and each rule's outcome. A rule with no criteria would match everything; callers
    refuse such rules before they get here, and this function refuses them too.
    """
    empty = [r.rule_id for r in rules if r.is_empty]
    if empty:
        raise ValueError(f"Rules without criteria would match every account: {empty}")
    n = len(accounts)
    rule_of = np.full(n, -1, dtype=np.int64)
    territory_of = np.full(n, -1, dtype=np.int64)
    outcomes = []
    for rule in rules:
        mask = rule.mask(accounts)
        wins = mask & (rule_of < 0)
        rule_of[wins] = rule.rule_id
        territory_of[wins] = rule.territory_id
        outcomes.append(RuleOutcome(rule.rule_id, int(mask.sum()), int(wins.sum())))
    result = pd.DataFrame({
        "account_id": accounts["account_id"].to_numpy(),
        "rule_id": pd.array(np.where(rule_of >= 0, rule_of, 0), dtype="Int64"),
        "territory_id": pd.array(np.where(territory_of >= 0, territory_of, 0), dtype="Int64"),
    })
    unmatched = rule_of < 0
    result.loc[unmatched, ["rule_id", "territory_id"]] = pd.NA
    return result, outcomes


def invalid_postal_prefixes(prefixes: Iterable[str]) -> list[str]:
    return [p for p in prefixes if not POSTAL_PREFIX_RE.match(p)]


def invalid_countries(codes: Iterable[str]) -> list[str]:
    return [c for c in codes if not COUNTRY_RE.match(c)]
