"""The steps of `seed_demo`, in order. Each takes the DemoContext and writes one kind of data.

Later parts of the product (plans, territories, quotas, compensation) add their own step
functions to `STEPS`; a step reads what earlier ones left in the context (ids by key) and must
draw its random numbers from `ctx.rng("its name")`, so adding a step changes no other step.
Frames written with `ctx.write` may still be on their way to the database when the next step
starts; a step may read them back with the ORM unless it is marked `@frames_only`.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Sum

from compensation.demo import build_compensation
from compensation.demo_pay import build_adjustments, build_pay_cycles
from compensation.models import CreditBuild
from compensation.services.recompute import calculate_years, recompute_requests_muted
from planning.demo import build_sales_plans
from quotas.demo import build_quota_plan
from spm.crm.models import Account, Activity, Deal, DealStageHistory, Lead, Stage
from spm.org.models import Person, Team, TeamMembership
from spm.org.services import periods_generate_covering, team_create
from spm.tenancy.models import Membership, Role, Tenant
from spm.tenancy.rls import is_tenant_model
from territories.demo import build_territories

from . import generate
from .writer import FrameWriter, reserve_ids

DEMO_ROLES = (Role.ADMIN, Role.FINANCE, Role.MANAGER, Role.REP)


@dataclass
class DemoContext:
    """What the steps share: the spec, the tenant, generated frames and their database ids."""

    spec: generate.DemoSpec
    tenant: Tenant
    users: dict[str, Any] = field(default_factory=dict)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    ids: dict[str, np.ndarray] = field(default_factory=dict)  # frame name -> id per key
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    log: Callable[[str], None] = print
    writer: FrameWriter | None = None

    def write(self, model: type, frame: pd.DataFrame, **kinds: list[str]) -> int:
        """Write a frame through the shared writer (which may finish it in the background)."""
        if self.writer is None:
            self.writer = FrameWriter()
        return self.writer.write(model, frame, **kinds)

    def flush(self) -> None:
        if self.writer is not None:
            self.writer.flush()

    def rng(self, part: str) -> np.random.Generator:
        return generate.rng_for(self.spec.seed, part)

    def id_of(self, frame: str, keys: pd.Series | np.ndarray) -> pd.Series:
        """Database ids for keys of `frame`; a negative key (no link) becomes a missing value."""
        keys = np.asarray(keys)
        ids = self.ids[frame]
        found = np.where(keys >= 0, ids[np.clip(keys, 0, len(ids) - 1)], 0)
        return pd.Series(found, dtype="Int64").where(keys >= 0, pd.NA)


Step = Callable[[DemoContext], None]


def frames_only(step: Step) -> Step:
    """Mark a step that reads only frames and ids from the context, never rows back from the
    database, so it may run while earlier frames are still being written."""
    step.frames_only = True  # type: ignore[attr-defined]
    return step


def ensure_tenant(
    *, slug: str, name: str | None = None, fiscal_year_start_month: int | None = None
) -> Tenant:
    """The demo tenant, created on first use (Acme Corp, USD)."""
    default_name = "Acme Corp" if slug == "acme" else slug.replace("-", " ").title()
    tenant, created = Tenant.objects.get_or_create(
        slug=slug,
        defaults={"name": name or default_name, "currency": "USD",
                  "fiscal_year_start_month": fiscal_year_start_month or 1},
    )
    if not created and fiscal_year_start_month and (
        tenant.fiscal_year_start_month != fiscal_year_start_month
    ):
        tenant.fiscal_year_start_month = fiscal_year_start_month
        tenant.save(update_fields=["fiscal_year_start_month"])
    return tenant


def ensure_users(*, tenant: Tenant, password: str) -> dict[str, Any]:
    """One login per role, `<slug>-<role>`, each with exactly that membership in the tenant."""
    user_model = get_user_model()
    users = {}
    for role in DEMO_ROLES:
        user, _ = user_model.objects.get_or_create(username=f"{tenant.slug}-{role}")
        user.set_password(password)
        user.is_active = True
        user.save()
        Membership.objects.update_or_create(
            user=user, tenant=tenant, defaults={"role": role, "is_active": True}
        )
        users[role] = user
    return users


# -- steps --------------------------------------------------------------------------------------


def wipe_tenant_data(ctx: DemoContext) -> None:
    """Delete every tenant-owned row of the demo tenant (all apps, history included).

    Foreign keys are checked at commit, so the order of tables does not matter as long as every
    one is emptied inside the same transaction.
    """
    deleted = 0
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if not is_tenant_model(model) or model._meta.db_table not in existing:
                continue
            cursor.execute(
                f'DELETE FROM "{model._meta.db_table}" WHERE tenant_id = %s',  # noqa: S608
                [ctx.tenant.pk],
            )
            deleted += max(cursor.rowcount, 0)
    ctx.counts["rows wiped"] = deleted


def build_org(ctx: DemoContext) -> None:
    """Teams with managers, people (tiers, new hires, one leaver) and their team memberships."""
    teams, people = generate.org_frames(ctx.spec)
    ctx.frames["teams"], ctx.frames["people"] = teams, people
    persons = [
        Person(
            employee_id=row.employee_id, name=row.name, email=row.email, title=row.title,
            role=row.role, hire_date=row.hire_date.date(),
            termination_date=None if pd.isna(row.termination_date)
            else row.termination_date.date(),
        )
        for row in people.itertuples()
    ]
    Person.objects.bulk_create(persons)
    ctx.ids["people"] = np.array([p.pk for p in persons], dtype=np.int64)

    team_ids = np.zeros(len(teams), dtype=np.int64)
    team_objs: dict[int, Team] = {}
    for row in teams.itertuples():
        parent = team_objs.get(int(row.parent_key)) if not pd.isna(row.parent_key) else None
        team = team_create(name=row.name, parent=parent, manager=persons[row.manager_key])
        team_objs[row.key] = team
        team_ids[row.key] = team.pk
    ctx.ids["teams"] = team_ids

    TeamMembership.objects.bulk_create([
        TeamMembership(
            person=persons[row.key], team_id=int(team_ids[row.team_key]),
            valid_from=row.hire_date.date(),
            valid_to=None if pd.isna(row.termination_date) else row.termination_date.date(),
        )
        for row in people.itertuples()
        if row.key != 0  # the VP leads the root team and sits in none
    ])
    ctx.counts["teams"], ctx.counts["people"] = len(teams), len(people)


def link_demo_users(ctx: DemoContext) -> None:
    """The rep login is a steady middle performer; the manager login leads that rep's team."""
    people = ctx.frames["people"]
    teams = ctx.frames["teams"]
    window_start = np.datetime64(ctx.spec.window_start)
    steady = people[(people.role == "rep") & (people.tier == "middle")
                    & people.termination_date.isna() & (people.hire_date < window_start)]
    if steady.empty:
        steady = people[people.role == "rep"]
    links = {}
    if not steady.empty:
        rep = steady.iloc[0]
        links[Role.REP] = int(rep.key)
        links[Role.MANAGER] = int(teams.loc[teams.key == rep.team_key, "manager_key"].iloc[0])
    for role, key in links.items():
        user = ctx.users.get(role)
        if user is None:
            continue
        Person.objects.filter(user=user).update(user=None)
        person = Person.objects.get(pk=int(ctx.ids["people"][key]))
        person.user = user
        person.save(update_fields=["user"])
        first, _, last = person.name.partition(" ")
        user.first_name, user.last_name, user.email = first, last, person.email
        user.save(update_fields=["first_name", "last_name", "email"])


def build_periods(ctx: DemoContext) -> None:
    """Fiscal periods from the oldest deal's year to the year after today (for planning)."""
    last = max(ctx.spec.horizon, ctx.spec.as_of + datetime.timedelta(days=366))
    first = ctx.spec.window_start - datetime.timedelta(days=366)
    ctx.counts["periods"] = len(periods_generate_covering(first=first, last=last))


def build_stages(ctx: DemoContext) -> None:
    """The default sales process; saved one by one so each stage starts its audit trail."""
    by_order = {}
    for name, order, probability, category, is_won, is_lost in generate.STAGES:
        stage = Stage.objects.create(
            name=name, order=order, default_probability=probability,
            forecast_category=category, is_won=is_won, is_lost=is_lost,
        )
        by_order[order] = stage
    ctx.frames["stages"] = pd.DataFrame(
        [{"order": o, "id": s.pk, "forecast_category": s.forecast_category}
         for o, s in by_order.items()]
    )


@frames_only
def build_accounts(ctx: DemoContext) -> None:
    regions = [r for r in generate.REGIONS if (ctx.frames["people"].region == r).any()]
    accounts = generate.accounts_frame(ctx.spec, regions)
    ctx.frames["accounts"] = accounts
    ctx.ids["accounts"] = reserve_ids(Account, len(accounts))
    frame = pd.DataFrame({
        "id": ctx.ids["accounts"],
        "external_id": accounts["external_id"],
        "name": accounts["name"],
        "industry": accounts["industry"],
        "segment": accounts["segment"],
        "country": accounts["country"],
        "region": accounts["region"],
        "postal_code": accounts["postal_code"],
        "employees": accounts["employees"],
        "annual_revenue": accounts["annual_revenue_cents"],
        "potential": accounts["potential_cents"],
    })
    ctx.counts["accounts"] = ctx.write(Account, frame, money=["annual_revenue", "potential"])


@frames_only
def build_deals(ctx: DemoContext) -> None:
    deals = generate.deals_frame(ctx.spec, ctx.frames["people"], ctx.frames["accounts"])
    ctx.frames["deals"] = deals
    ctx.ids["deals"] = reserve_ids(Deal, len(deals))
    stages = ctx.frames["stages"].set_index("order")
    now = np.datetime64(datetime.datetime.combine(ctx.spec.as_of, datetime.time()), "s")
    frame = pd.DataFrame({
        "id": ctx.ids["deals"],
        "external_id": deals["external_id"],
        "name": deals["name"],
        "account_id": ctx.id_of("accounts", deals["account_key"]),
        "owner_id": ctx.id_of("people", deals["owner_key"]),
        "amount": deals["amount_cents"],
        "currency": ctx.tenant.currency,
        "stage_id": deals["stage_order"].map(stages["id"]),
        "forecast_category": deals["stage_order"].map(stages["forecast_category"]),
        "status": deals["status"],
        "created_date": deals["created_date"],
        "close_date": deals["close_date"],
        "product_line": deals["product_line"],
        "deal_type": deals["deal_type"],
        "units": deals["units"],
        "lost_reason": deals["lost_reason"],
        "margin": deals["margin_cents"],
        "updated_at": now,
    })
    ctx.counts["deals"] = ctx.write(
        Deal, frame, money=["amount", "margin"], dates=["created_date", "close_date"],
        moments=["updated_at"],
    )


@frames_only
def build_stage_history(ctx: DemoContext) -> None:
    history = generate.stage_history_frame(ctx.spec, ctx.frames["deals"])
    stage_ids = ctx.frames["stages"].set_index("order")["id"]
    frame = pd.DataFrame({
        "deal_id": ctx.id_of("deals", history["deal_key"]),
        "from_stage_id": history["from_stage"].map(stage_ids).astype("Int64"),
        "to_stage_id": history["to_stage"].map(stage_ids),
        "changed_at": history["changed_at"],
    })
    ctx.counts["stage changes"] = ctx.write(DealStageHistory, frame, moments=["changed_at"])


@frames_only
def build_leads(ctx: DemoContext) -> None:
    leads = generate.leads_frame(ctx.spec, ctx.frames["people"], ctx.frames["deals"])
    ctx.frames["leads"] = leads
    ctx.ids["leads"] = reserve_ids(Lead, len(leads))
    frame = pd.DataFrame({
        "id": ctx.ids["leads"],
        "external_id": leads["external_id"],
        "source": leads["source"],
        "status": leads["status"],
        "owner_id": ctx.id_of("people", leads["owner_key"]),
        "account_id": ctx.id_of("accounts", leads["account_key"]),
        "converted_deal_id": ctx.id_of("deals", leads["deal_key"]),
        "created_at": leads["created_at"],
        "first_response_at": leads["first_response_at"],
        "converted_at": leads["converted_at"],
    })
    ctx.counts["leads"] = ctx.write(
        Lead, frame, moments=["created_at", "first_response_at", "converted_at"]
    )


@frames_only
def build_activities(ctx: DemoContext) -> None:
    activities = generate.activities_frame(
        ctx.spec, ctx.frames["people"], ctx.frames["deals"], ctx.frames["leads"]
    )
    frame = pd.DataFrame({
        "external_id": activities["external_id"],
        "kind": activities["kind"],
        "person_id": ctx.id_of("people", activities["person_key"]),
        "deal_id": ctx.id_of("deals", activities["deal_key"]),
        "lead_id": ctx.id_of("leads", activities["lead_key"]),
        "at": activities["at"],
    })
    ctx.counts["activities"] = ctx.write(Activity, frame, moments=["at"])


def run_calculations(ctx: DemoContext) -> None:
    """Statements for every seller: one calculation run per fiscal year up to the as-of date."""
    ctx.flush()
    runs = calculate_years(tenant=ctx.tenant, through=ctx.spec.as_of, actor=ctx.users.get("admin"))
    builds = CreditBuild.objects.aggregate(credits=Sum("credit_count"), issues=Sum("issue_count"))
    ctx.counts["credits"] = builds["credits"] or 0
    if builds["issues"]:
        ctx.counts["crediting issues"] = builds["issues"]
    ctx.counts["calculation runs"] = len(runs)
    ctx.counts["statement lines"] = sum(run.line_count or 0 for run in runs)


#: The order seed_demo runs in. Append steps for new kinds of data; keep each one idempotent
#: given a wiped tenant.
STEPS: list[Step] = [
    wipe_tenant_data,
    build_org,
    link_demo_users,
    build_periods,
    build_stages,
    build_accounts,
    build_deals,
    build_stage_history,
    build_leads,
    build_activities,
    build_territories,
    build_sales_plans,
    build_quota_plan,
    build_compensation,
    build_adjustments,
    run_calculations,
    build_pay_cycles,
]


def run_steps(ctx: DemoContext, steps: list[Step] | None = None) -> DemoContext:
    """Run the steps inside the active tenant, timing each (a step's time includes waiting for
    earlier writes it depends on). The steps record no recompute requests: the last one
    calculates everything they wrote."""
    try:
        with recompute_requests_muted():
            for step in steps if steps is not None else STEPS:
                started = time.perf_counter()
                if not getattr(step, "frames_only", False):
                    ctx.flush()
                step(ctx)
                ctx.timings[step.__name__] = time.perf_counter() - started
                ctx.log(f"  {step.__name__:<22} {ctx.timings[step.__name__]:6.2f} s")
            started = time.perf_counter()
            ctx.flush()
            ctx.log(f"  {'(writes finishing)':<22} {time.perf_counter() - started:6.2f} s")
    finally:
        if ctx.writer is not None:
            ctx.writer.close()
            ctx.writer = None
    return ctx
