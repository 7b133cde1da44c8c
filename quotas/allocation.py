"""Top-down quota allocation over a tree (company, teams, people) and the check that its sums add
up. Pure Python on integer cents; the services load the tree and store the result.

The over-assignment factor applies once, where money passes from a team to the people directly
in it: a team's people carry (the team's quota minus what its sub-teams carry) x the factor,
and sub-teams carry exactly their parent's share. So with 110% the quotas of all people add up
to 110% of the company target, while every manager's quota is the plain sum below it.

Every node adds up to the cent: a team's people carry exactly round((team - sub-teams) x factor)
and sub-teams exactly the rest. The company-wide sum of people's quotas is therefore 110% of the
target to within half a cent per team, because each team's people share is rounded once, where
it is checked; forcing the grand total too would leave some team off by a cent instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from planning.capacity import ZERO, from_cents, split_cents

NodeKind = Literal["root", "team", "person"]


@dataclass
class Node:
    key: str
    label: str
    kind: NodeKind
    #: People only: their weight under the plan's method (already times their capacity).
    weight: Decimal = ZERO
    #: People only: the share of a full, fully ramped year they carry (the fallback weight).
    capacity: Decimal = ZERO
    #: A manual amount that allocation keeps (people: their quota; teams: the team's quota).
    pinned_cents: int | None = None
    children: list[Node] = field(default_factory=list)
    amount_cents: int = 0
    note: str = ""

    @property
    def teams(self) -> list[Node]:
        return [c for c in self.children if c.kind == "team"]

    @property
    def people(self) -> list[Node]:
        return [c for c in self.children if c.kind == "person"]

    def walk(self, depth: int = 0) -> Iterator[tuple[Node, int]]:
        yield self, depth
        for child in self.children:
            yield from child.walk(depth + 1)

    def total(self, attribute: str) -> Decimal:
        if self.kind == "person":
            return Decimal(getattr(self, attribute))
        return sum((c.total(attribute) for c in self.children), ZERO)


@dataclass(frozen=True)
class Problem:
    key: str
    message: str


def _round_cents(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def people_share(*, team_cents: int, sub_team_cents: int, factor: Decimal) -> int:
    """What the people directly in a team must carry: the rest of its quota x over-assignment."""
    return _round_cents((Decimal(team_cents) - sub_team_cents) * factor)


def allocate(root: Node, *, total_cents: int, factor: Decimal) -> None:
    """Set `amount_cents` on every node, top-down. Pinned amounts are kept as they are."""
    root.amount_cents = root.pinned_cents if root.pinned_cents is not None else total_cents
    _split(root, factor)


def _split(node: Node, factor: Decimal) -> None:
    if not node.children:
        return
    attribute = "weight"
    unpinned = [c for c in node.children if c.pinned_cents is None]
    if unpinned and not any(c.total("weight") > 0 for c in unpinned):
        attribute = "capacity"
        if any(c.total("capacity") > 0 for c in unpinned):
            node.note = "Nothing to weigh by below this team, so it was split by capacity."
    teams, people = node.teams, node.people
    pinned_teams = sum(c.pinned_cents or 0 for c in teams)
    pinned_people = sum(c.pinned_cents or 0 for c in people)
    # The people's pinned quotas include the over-assignment; in team money they count less.
    pool = max(Decimal(node.amount_cents - pinned_teams) - Decimal(pinned_people) / factor, ZERO)

    free_teams = [c for c in teams if c.pinned_cents is None]
    free_people = [c for c in people if c.pinned_cents is None]
    team_weights = [c.total(attribute) for c in free_teams]
    people_weights = [c.total(attribute) for c in free_people]
    weight_sum = sum(team_weights, ZERO) + sum(people_weights, ZERO)
    if not free_people:
        to_teams = _round_cents(pool)
    elif weight_sum == 0:
        to_teams = 0
    else:
        to_teams = _round_cents(pool * sum(team_weights, ZERO) / weight_sum)
    if free_teams:
        for child, cents in zip(free_teams, split_cents(to_teams, team_weights), strict=True):
            child.amount_cents = cents
    for child in teams:
        if child.pinned_cents is not None:
            child.amount_cents = child.pinned_cents

    sub_teams = sum(c.amount_cents for c in teams)
    owed = people_share(team_cents=node.amount_cents, sub_team_cents=sub_teams, factor=factor)
    to_people = max(owed - pinned_people, 0)
    if any(w > 0 for w in people_weights):
        for child, cents in zip(free_people, split_cents(to_people, people_weights), strict=True):
            child.amount_cents = cents
    else:
        # Nobody here can carry a quota (no weight, no capacity): the check reports the rest.
        for child in free_people:
            child.amount_cents = 0
    for child in people:
        if child.pinned_cents is not None:
            child.amount_cents = child.pinned_cents
    for child in teams:
        _split(child, factor)


def check(root: Node, *, total_cents: int, factor: Decimal, currency: str = "") -> list[Problem]:
    """Every place where the tree does not add up, in words that name the node and the sums."""

    def money(cents: int) -> str:
        return f"{currency} {from_cents(cents):,.2f}".strip()

    problems: list[Problem] = []
    if root.amount_cents != total_cents:
        problems.append(Problem(root.key, (
            f"The company quota is {money(root.amount_cents)} but the plan's target is "
            f"{money(total_cents)}.")))
    for node, _ in root.walk():
        if node.amount_cents < 0:
            problems.append(Problem(node.key, f"{node.label} has a negative quota."))
        if node.kind == "person":
            continue
        teams, people = node.teams, node.people
        sub_teams = sum(c.amount_cents for c in teams)
        carried = sum(c.amount_cents for c in people)
        if people:
            owed = people_share(team_cents=node.amount_cents, sub_team_cents=sub_teams,
                                factor=factor)
            if carried != owed:
                base = (f"{node.label}'s {money(node.amount_cents)}" if not teams else
                        f"what is left of {node.label}'s {money(node.amount_cents)} after its "
                        f"sub-teams' {money(sub_teams)}")
                problems.append(Problem(node.key, (
                    f"The people in {node.label} add up to {money(carried)}; they must add up to "
                    f"{money(owed)} ({base} x {factor * 100:.2f}% over-assignment).")))
        elif teams:
            if sub_teams != node.amount_cents:
                problems.append(Problem(node.key, (
                    f"The sub-teams of {node.label} add up to {money(sub_teams)}; they must add "
                    f"up to {node.label}'s quota of {money(node.amount_cents)}.")))
        elif node.amount_cents:
            problems.append(Problem(node.key, (
                f"{node.label} has a quota of {money(node.amount_cents)} but no one in it to "
                "carry it.")))
    return problems
