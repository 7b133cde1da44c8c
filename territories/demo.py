"""The territory step of `seed_demo`: a region -> area -> territory tree mirroring the sales
teams, owners, postal-prefix rules applied from the start of the demo window, a handful of later
hand moves, and an open balancing proposal for the admin to accept or reject."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from spm.crm.models import Account
from spm.org.models import Person

from .models import (
    AssignmentRule,
    ChangeKind,
    OwnerRole,
    Territory,
    TerritoryLevel,
    TerritoryOwner,
)
from .proposals import proposal_create
from .services import assignments_write, rules_apply, territory_create

if TYPE_CHECKING:
    from spm.demo.steps import DemoContext

#: Left without a rule on purpose, so the coverage page has unassigned accounts to show.
UNCOVERED_COUNTRIES = {"SE"}


def _date(value) -> datetime.date | None:
    return None if pd.isna(value) else pd.Timestamp(value).date()


def _buckets(groups: pd.DataFrame, k: int) -> list[pd.DataFrame]:
    """Split (country, prefix) groups, in order, into `k` runs of about equal account counts.

    Equal counts, not equal potential: the book starts as uneven as real books are, which
    gives the balancer something to do.
    """
    if k <= 0 or groups.empty:
        return []
    share = groups["accounts"].cumsum() / groups["accounts"].sum()
    cut = np.minimum((share.to_numpy() * k - 1e-9).astype(int), k - 1)
    return [groups[cut == i] for i in range(k)]


def build_territories(ctx: DemoContext) -> None:
    """Territories per rep under their team's area and region, with rules, owners and history."""
    people, teams, accounts = ctx.frames["people"], ctx.frames["teams"], ctx.frames["accounts"]
    start, as_of = ctx.spec.window_start, ctx.spec.as_of
    actor = ctx.users.get("admin")
    person_ids = ctx.ids["people"]
    rng = ctx.rng("territories")

    accounts = accounts.assign(prefix=accounts["postal_code"].str[:2].str.upper())
    rule_count = territory_count = 0
    priority = 10
    for region_team in teams[teams["parent_key"] == 0].itertuples():
        region = territory_create(name=region_team.name, level=TerritoryLevel.REGION, actor=actor)
        territory_count += 1
        _own(region, person_ids[region_team.manager_key], start, None, actor)
        areas = teams[teams["parent_key"] == region_team.key]
        reps = people[(people["role"] == "rep") & people["team_key"].isin(areas["key"])]
        groups = (
            accounts[(accounts["sales_region"] == region_team.region)
                     & ~accounts["country"].isin(UNCOVERED_COUNTRIES)]
            .groupby(["country", "prefix"]).size().rename("accounts").reset_index()
        )
        buckets = iter(_buckets(groups, len(reps)))
        for area_team in areas.itertuples():
            area = territory_create(
                name=area_team.name, level=TerritoryLevel.AREA, parent=region, actor=actor
            )
            territory_count += 1
            _own(area, person_ids[area_team.manager_key], start, None, actor)
            for number, rep in enumerate(
                reps[reps["team_key"] == area_team.key].itertuples(), start=1
            ):
                leaf = territory_create(
                    name=f"{area_team.name}.{number}", parent=area, actor=actor
                )
                territory_count += 1
                hired = _date(rep.hire_date)
                _own(leaf, person_ids[rep.key], max(start, hired), _date(rep.termination_date),
                     actor)
                bucket = next(buckets, pd.DataFrame(columns=["country", "prefix"]))
                for country, part in bucket.groupby("country", sort=True):
                    prefixes = ", ".join(sorted(part["prefix"]))
                    AssignmentRule.objects.create(
                        name=f"{leaf.name}: {country} {prefixes}", priority=priority,
                        territory=leaf, countries=country, postal_prefixes=prefixes,
                    )
                    priority += 10
                    rule_count += 1
    change = rules_apply(effective_date=start, actor=actor)
    moved = _hand_moves(rng, start, as_of, actor)
    proposal = proposal_create(
        effective_date=as_of, tolerance_pct=Decimal("10"), count_tolerance_pct=Decimal("25"),
        time_limit_s=3.0, actor=actor,
    )
    ctx.counts["territories"] = territory_count
    ctx.counts["assignment rules"] = rule_count
    ctx.counts["accounts placed"] = change.moved_count
    ctx.counts["hand moves"] = moved
    ctx.counts["balancing moves proposed"] = proposal.moves.count()


def _own(
    territory: Territory, person_id: int, valid_from: datetime.date,
    valid_to: datetime.date | None, actor,
) -> None:
    if valid_to is not None and valid_to <= valid_from:
        return
    owner = TerritoryOwner(
        territory=territory, person=Person.objects.get(pk=int(person_id)),
        role=OwnerRole.PRIMARY, valid_from=valid_from, valid_to=valid_to,
    )
    owner._history_user = actor
    owner.save()


def _hand_moves(rng: np.random.Generator, start: datetime.date, as_of: datetime.date,
                actor) -> int:
    """A few accounts handed to a neighbouring territory halfway through the window, so
    account histories have more than one line."""
    leaves = list(
        Territory.objects.filter(level=TerritoryLevel.TERRITORY).order_by("path")
        .values_list("pk", flat=True)
    )
    account_ids = list(Account.objects.order_by("pk").values_list("pk", flat=True))
    if len(leaves) < 2 or not account_ids:
        return 0
    picked = rng.choice(account_ids, size=min(8, len(account_ids)), replace=False)
    targets = {int(a): int(leaves[int(rng.integers(len(leaves)))]) for a in picked}
    midway = start + (as_of - start) / 2
    change = assignments_write(
        targets=targets, effective_date=midway, kind=ChangeKind.MANUAL, actor=actor,
        note="Handed over after the mid-year account review",
    )
    return change.moved_count
