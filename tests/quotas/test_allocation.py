"""Allocation over a tree: sums add up at every level, over-assignment, overrides, problems."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quotas.allocation import Node, allocate, check

pytestmark = pytest.mark.smoke

FACTOR_110 = Decimal("1.1")


def person(key: str, weight: int | str = 1, capacity: int | str = 1, pinned=None) -> Node:
    return Node(key=key, label=key, kind="person", weight=Decimal(weight),
                capacity=Decimal(capacity), pinned_cents=pinned)


def team(key: str, *children: Node, pinned=None) -> Node:
    return Node(key=key, label=key, kind="team", children=list(children), pinned_cents=pinned)


def company(*children: Node) -> Node:
    return Node(key="root", label="Company", kind="root", children=list(children))


def amounts(root: Node) -> dict[str, int]:
    return {node.key: node.amount_cents for node, _ in root.walk()}


def test_teams_split_by_weight_and_reps_carry_the_over_assignment():
    root = company(
        team("west", person("ann", 3), person("bob", 1)),
        team("east", person("cy", 4)),
    )

    allocate(root, total_cents=800_000, factor=FACTOR_110)

    got = amounts(root)
    assert got["west"] == got["east"] == 400_000
    assert (got["ann"], got["bob"]) == (330_000, 110_000)
    assert got["cy"] == 440_000
    assert check(root, total_cents=800_000, factor=FACTOR_110) == []


def test_a_team_with_sub_teams_and_its_own_people_splits_between_them():
    root = company(team("sales", person("vp-rep", 1), team("west", person("ann", 1))))

    allocate(root, total_cents=1_000, factor=Decimal(1))

    assert amounts(root) == {"root": 1_000, "sales": 1_000, "vp-rep": 500, "west": 500,
                             "ann": 500}


def test_an_override_is_kept_and_its_siblings_share_the_rest():
    root = company(team("a", person("p1")), team("b", person("p2")),
                   team("c", person("p3"), pinned=600))

    allocate(root, total_cents=1_000, factor=Decimal(1))

    assert [t.amount_cents for t in root.teams] == [200, 200, 600]
    assert check(root, total_cents=1_000, factor=Decimal(1)) == []


def test_a_pinned_rep_quota_counts_net_of_over_assignment():
    root = company(team("t", person("pinned", pinned=55_000), person("free")))

    allocate(root, total_cents=100_000, factor=FACTOR_110)

    assert amounts(root)["free"] == 55_000
    assert check(root, total_cents=100_000, factor=FACTOR_110) == []


def test_without_any_weight_the_split_falls_back_to_capacity():
    root = company(team("a", person("new", weight=0, capacity="0.5")),
                   team("b", person("old", weight=0, capacity=1)))

    allocate(root, total_cents=3_000, factor=Decimal(1))

    assert amounts(root)["a"] == 1_000
    assert "capacity" in root.note


def test_children_that_do_not_add_up_are_named_with_their_sums():
    root = company(team("West", person("ann"), person("bob")))
    allocate(root, total_cents=100_000, factor=FACTOR_110)
    root.teams[0].people[0].amount_cents += 1

    problems = check(root, total_cents=100_000, factor=FACTOR_110, currency="USD")

    assert len(problems) == 1
    assert problems[0].key == "West"
    assert problems[0].message == (
        "The people in West add up to USD 1,100.01; they must add up to USD 1,100.00 "
        "(West's USD 1,000.00 x 110.00% over-assignment).")


def test_overrides_that_exceed_the_parent_are_reported():
    root = company(team("a", person("p1"), pinned=900), team("b", person("p2"), pinned=900))

    allocate(root, total_cents=1_000, factor=Decimal(1))

    messages = [p.message for p in check(root, total_cents=1_000, factor=Decimal(1))]
    assert messages == ["The sub-teams of Company add up to 18.00; they must add up to "
                        "Company's quota of 10.00."]


def test_a_team_with_a_quota_and_nobody_to_carry_it_is_reported():
    root = company(team("empty", pinned=500), team("full", person("p")))

    allocate(root, total_cents=1_000, factor=Decimal(1))

    assert [p.key for p in check(root, total_cents=1_000, factor=Decimal(1))] == ["empty"]


@st.composite
def trees(draw, depth: int = 0) -> Node:
    children = []
    for i in range(draw(st.integers(min_value=0, max_value=4))):
        if depth < 3 and draw(st.booleans()):
            children.append(draw(trees(depth + 1)))
        else:
            children.append(person(
                f"p{depth}-{i}-{draw(st.integers(0, 10**6))}",
                weight=draw(st.integers(min_value=0, max_value=10**6)),
                capacity=draw(st.sampled_from(["0", "0.25", "0.5", "1"])),
            ))
    node = team(f"t{depth}-{draw(st.integers(0, 10**9))}", *children)
    return node if depth else company(*node.children)


@settings(max_examples=300, deadline=None)
@given(trees(), st.integers(min_value=0, max_value=10**10),
       st.integers(min_value=100, max_value=150).map(lambda p: Decimal(p) / 100))
def test_allocation_always_adds_up_when_someone_can_carry_it(root, total, factor):
    allocate(root, total_cents=total, factor=factor)

    problems = check(root, total_cents=total, factor=factor)
    if root.total("capacity") > 0 or total == 0:
        assert problems == []
    people = [n.amount_cents for n, _ in root.walk() if n.kind == "person"]
    teams = sum(1 for n, _ in root.walk() if n.kind != "person")
    if not problems and people:
        # Over-assignment is applied once per team, so people sum to the target x factor
        # within half a cent per team.
        assert abs(sum(people) - total * factor) <= Decimal(teams) / 2
