"""The compensation step of `seed_demo`: a plan per seller role, assignments for everyone who
sells or manages, SDRs who sourced the converted leads, and the credits of every month so far.

The engine's SPIFFs pay per credited deal, not per activity, so the SDR plan pays per deal an
SDR sourced (a lead they owned that became a won deal) rather than per meeting.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import pandas as pd

from compensation.engine.plans import (
    Cap,
    Clawback,
    Component,
    CreditFilter,
    PlanVersion,
    RateTable,
    Spiff,
    Tier,
)
from spm.crm.models import Lead
from spm.org.calendar import fiscal_year_of, fiscal_year_start
from spm.org.models import Person, SellerRole, TeamMembership

from .models import CompPlan, CreditRule, CreditTarget, PlanAssignment
from .services import (
    assignment_periods_refresh,
    plan_version_import,
    plan_version_publish,
)

if TYPE_CHECKING:
    from spm.demo.steps import DemoContext

D = Decimal


def _commission(top_rate: str) -> Component:
    """Graduated on monthly bookings, the top tier an accelerator, capped at twice target."""
    return Component(
        code="ae-commission", name="Commission on bookings",
        formula=RateTable(tiers=(Tier(D(0), D("40000.00"), rate=D("0.05")),
                                 Tier(D("40000.00"), D("80000.00"), rate=D("0.08")),
                                 Tier(D("80000.00"), None, rate=D(top_rate))),
                          basis="amount", method="graduated"),
        caps=(Cap(per="year", target_multiple=D(2)),),
        clawback=Clawback(within_days=90, method="full"),
    )


NEW_LOGO = Component(code="ae-new-logo", name="New logo SPIFF",
                     formula=Spiff(per_deal=D("250.00")),
                     filter=CreditFilter(deal_types=("new",)))
SOURCED = Component(code="sdr-sourced", name="Sourced deal SPIFF",
                    formula=Spiff(per_deal=D("150.00")))
ROLL_UP = Component(
    code="mgr-override", name="Override on the team's bookings",
    formula=RateTable(tiers=(Tier(D(0), None, rate=D("0.01")),), basis="amount"),
    caps=(Cap(per="year", target_multiple=D("1.5")),),
)
TARGETS = {"AE": D("60000.00"), "SDR": D("18000.00"), "MGR": D("40000.00")}


def _date(value: object) -> datetime.date | None:
    return None if pd.isna(value) else pd.Timestamp(value).date()


def _publish(document: PlanVersion, valid_from: datetime.date) -> None:
    plan_version_publish(version=plan_version_import(document=document, valid_from=valid_from))


def _add_sdrs(ctx: DemoContext) -> dict[int, int]:
    """One SDR per region, owning the converted leads of that region's deals. Returns the SDR
    person id per region team key."""
    people, teams, leads = ctx.frames["people"], ctx.frames["teams"], ctx.frames["leads"]
    regions = teams[teams["parent_key"] == 0]
    hired = ctx.spec.window_start - datetime.timedelta(days=365)
    sdr_of_region: dict[int, int] = {}
    for number, region in enumerate(regions.itertuples(), start=1):
        sdr = Person.objects.create(
            employee_id=f"SDR{number:03d}", name=f"{region.name} SDR",
            email=f"sdr{number:03d}@acme.example", title="Sales Development Rep",
            role=SellerRole.SDR, hire_date=hired)
        TeamMembership.objects.create(person=sdr, team_id=int(ctx.ids["teams"][region.key]),
                                      valid_from=hired)
        sdr_of_region[int(region.key)] = sdr.pk
    # The region of a converted lead is the region of the rep who won its deal.
    team_region = dict(zip(teams["key"], teams["parent_key"], strict=True))
    converted = leads[leads["deal_key"] >= 0]
    owner_team = people.set_index("key")["team_key"]
    region_of_lead = converted["owner_key"].map(owner_team).map(team_region)
    for region_key, sdr_id in sdr_of_region.items():
        keys = converted.index[region_of_lead == region_key].to_numpy()
        lead_ids = ctx.ids["leads"][keys].tolist()
        Lead.objects.filter(pk__in=lead_ids).update(owner_id=sdr_id)
    ctx.counts["SDRs"] = len(sdr_of_region)
    return sdr_of_region


def build_compensation(ctx: DemoContext) -> None:
    """Plans, assignments, a sourcing rule and the credits of every month up to today."""
    spec = ctx.spec
    month_start = spec.fiscal_year_start_month
    first_day = spec.window_start
    current_year_start = fiscal_year_start(fiscal_year_of(spec.as_of, month_start), month_start)

    _publish(PlanVersion("AE", 1, "Account executives", (_commission("0.12"), NEW_LOGO)),
             first_day)
    if current_year_start > first_day:
        # This year's version raises the accelerator: the previous one stays as it was paid.
        _publish(PlanVersion("AE", 2, "Account executives, higher accelerator",
                             (_commission("0.14"), NEW_LOGO)), current_year_start)
    _publish(PlanVersion("SDR", 1, "Sales development", (SOURCED,)), first_day)
    _publish(PlanVersion("MGR", 1, "Sales managers", (ROLL_UP,)), first_day)

    sdrs = _add_sdrs(ctx)
    CreditRule.objects.create(name="SDR sourcing credit", target=CreditTarget.LEAD_OWNER,
                              valid_from=first_day, priority=10)

    plans = {p.code: p for p in CompPlan.objects.all()}
    people = ctx.frames["people"]
    rows = []
    for person in people.itertuples():
        code = "AE" if person.role == "rep" else "MGR"
        start = max(first_day, _date(person.hire_date) or first_day)
        end = _date(person.termination_date)
        if end is not None and end <= start:
            continue
        rows.append(PlanAssignment(person_id=int(ctx.ids["people"][person.key]),
                                   plan=plans[code], valid_from=start, valid_to=end,
                                   target_incentive=TARGETS[code]))
    rows += [PlanAssignment(person_id=sdr_id, plan=plans["SDR"], valid_from=first_day,
                            target_incentive=TARGETS["SDR"]) for sdr_id in sdrs.values()]
    PlanAssignment.objects.bulk_create(rows)
    assignment_periods_refresh()

    # Credits are built by the calculation step, the one road from deals to statements.
    ctx.counts["comp plans"] = len(plans)
    ctx.counts["plan assignments"] = len(rows)
