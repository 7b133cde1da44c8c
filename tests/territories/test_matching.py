"""Rule criteria and first-match-wins over accounts, without a database."""

from __future__ import annotations

import pandas as pd
import pytest

from territories.matching import (
    RuleCriteria,
    first_match,
    invalid_countries,
    invalid_postal_prefixes,
    split_values,
)

ACCOUNTS = pd.DataFrame(
    [
        (1, "US", "CA", "94105", "Software", "smb", 40),
        (2, "US", "NY", "10001", "Banking", "enterprise", 12000),
        (3, "GB", "London", "SW1A 1AA", "software", "mid_market", 800),
        (4, "DE", "", "", "", "smb", None),
        (5, "us", "ca", "95014-2083", "Retail", "mid_market", 300),
    ],
    columns=["account_id", "country", "region", "postal_code", "industry", "segment",
             "employees"],
)


def matches(**criteria) -> list[int]:
    rule = RuleCriteria(rule_id=1, territory_id=10, **criteria)
    return ACCOUNTS.loc[rule.mask(ACCOUNTS), "account_id"].tolist()


def test_values_of_one_criterion_are_alternatives_and_case_does_not_matter():
    assert matches(countries=("US",)) == [1, 2, 5]
    assert matches(countries=("gb", "DE")) == [3, 4]
    assert matches(industries=("SOFTWARE",)) == [1, 3]


def test_criteria_of_one_rule_must_all_hold():
    assert matches(countries=("US",), regions=("CA",)) == [1, 5]
    assert matches(countries=("US",), segments=("mid_market",)) == [5]


def test_postal_prefixes_ignore_spaces_hyphens_and_case():
    assert matches(postal_prefixes=("94", "950")) == [1, 5]
    assert matches(postal_prefixes=("sw1a1",)) == [3]
    assert matches(postal_prefixes=("SW1A 1",)) == [3]


def test_an_employee_range_is_inclusive_and_skips_accounts_of_unknown_size():
    assert matches(min_employees=300, max_employees=800) == [3, 5]
    assert matches(max_employees=100) == [1]
    assert matches(min_employees=10_000) == [2]


def test_the_first_matching_rule_wins_and_each_rule_reports_matched_and_won():
    rules = [
        RuleCriteria(rule_id=1, territory_id=100, countries=("US",), regions=("CA",)),
        RuleCriteria(rule_id=2, territory_id=200, countries=("US",)),
        RuleCriteria(rule_id=3, territory_id=300, industries=("software",)),
        RuleCriteria(rule_id=4, territory_id=400, countries=("FR",)),
    ]
    decided, outcomes = first_match(ACCOUNTS, rules)
    assert decided["territory_id"].tolist() == [100, 200, 300, pd.NA, 100]
    assert decided["rule_id"].tolist() == [1, 2, 3, pd.NA, 1]
    assert [(o.rule_id, o.matched, o.won) for o in outcomes] == [
        (1, 2, 2), (2, 3, 1), (3, 2, 1), (4, 0, 0)
    ]


def test_a_rule_without_criteria_is_refused():
    with pytest.raises(ValueError, match="match every account"):
        first_match(ACCOUNTS, [RuleCriteria(rule_id=7, territory_id=1)])


def test_lists_split_on_commas_and_semicolons_and_drop_blanks():
    assert split_values(" US, ca;; ,DE ") == ["US", "ca", "DE"]
    assert split_values("") == []


def test_junk_postal_prefixes_and_country_codes_are_named():
    assert invalid_postal_prefixes(["94", "SW1A 1", "9$", "<script>", "12345678901"]) == [
        "9$", "<script>", "12345678901"
    ]
    assert invalid_countries(["US", "USA", "1A", "de"]) == ["USA", "1A"]
