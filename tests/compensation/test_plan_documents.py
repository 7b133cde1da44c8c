"""Plan documents: the documented examples load, round trips are exact, errors name their path."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings

from compensation.engine import RateTable, Spiff
from compensation.plan_documents import PlanDocumentError, dump_plan, load_plan

from .strategies import plans

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plans.md"


def documented_examples() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", DOCS.read_text(), flags=re.DOTALL)


def test_the_documentation_shows_an_example_of_every_component_kind():
    kinds = set()
    for example in documented_examples():
        kinds |= {c.kind for c in load_plan(example).components}
    assert kinds == {"rate_table", "payout_curve", "milestone_bonus", "mbo", "spiff", "draw"}


@pytest.mark.parametrize("example", documented_examples())
def test_every_documented_example_loads_and_round_trips(example):
    plan = load_plan(example)
    assert load_plan(dump_plan(plan)) == plan


@settings(max_examples=150, deadline=None)
@given(plans())
def test_any_valid_plan_round_trips_through_yaml_unchanged(drawn):
    for plan in drawn.values():
        assert load_plan(dump_plan(plan)) == plan


def test_percentages_and_money_are_read_exactly():
    plan = load_plan("""
plan: P
components:
  - code: c
    kind: rate_table
    tiers:
      - {from: 0%, to: 33.33%, rate: 0.1%}
      - {from: 33.33%, rate: 8.25%}
  - code: s
    kind: spiff
    per_deal: 0.10
""")
    table = plan.components[0].formula
    assert isinstance(table, RateTable)
    assert table.tiers[1].lower == Decimal("0.3333")
    assert table.tiers[0].rate == Decimal("0.001")
    spiff = plan.components[1].formula
    assert isinstance(spiff, Spiff)
    assert spiff.per_deal == Decimal("0.10")


def test_every_error_is_listed_with_its_path_and_nothing_is_returned():
    document = """
plan: P
components:
  - code: a
    kind: spiff
    per_deal: 10.00
  - code: b
    kind: milestone_bonus
    milestones:
      - {attainment: 100%, amount: 10.005}
  - code: c
    kind: rate_table
    tiers:
      - {from: 0%, to: 50%, rate: 5%}
      - {from: 50%, to: 90%, rate: -2%}
      - {from: 100%, rate: 8}
  - code: a
    kind: payout_curve
    colour: red
    points:
      - {attainment: 10%, payout: 5%}
"""
    with pytest.raises(PlanDocumentError) as caught:
        load_plan(document)
    assert caught.value.errors == [
        "components[2].tiers[2].rate: must be a percentage such as 8%",
        "components[3].colour: unknown field",
        "components[1].milestones[0].amount: must be a whole number of cents",
    ]


def test_rule_errors_are_listed_together_once_the_document_reads():
    document = """
plan: P
components:
  - code: c
    kind: rate_table
    tiers:
      - {from: 0%, to: 50%, rate: 5%}
      - {from: 40%, to: 90%, rate: -2%}
      - {from: 100%, to: 120%, rate: 8%}
    caps: [{per: period, amount: 100.00, target_multiple: 2}]
"""
    with pytest.raises(PlanDocumentError) as caught:
        load_plan(document)
    assert caught.value.errors == [
        "components[0].tiers[1].from: overlaps tiers[0], which ends at 50%",
        "components[0].tiers[1].rate: must be ≥ 0",
        "components[0].tiers[2].from: leaves a gap after tiers[1], which ends at 90%",
        "components[0].tiers[2].to: the last tier must be open-ended (no `to`) so every "
        "amount has a rate",
        "components[0].caps[0]: needs exactly one of `amount` or `target_multiple` (found "
        "amount, target_multiple)",
    ]


def test_a_repeated_key_or_broken_yaml_is_reported_with_its_line():
    with pytest.raises(PlanDocumentError) as caught:
        load_plan("plan: P\nplan: Q\ncomponents: []\n")
    assert caught.value.errors == ["line 2: the key 'plan' appears twice"]
    with pytest.raises(PlanDocumentError) as caught:
        load_plan("plan: [P\n")
    assert caught.value.errors[0].startswith("line 2:")


def test_a_document_that_is_not_a_mapping_is_refused():
    with pytest.raises(PlanDocumentError) as caught:
        load_plan("- just a list\n")
    assert caught.value.errors == ["document: must be a mapping of fields"]
