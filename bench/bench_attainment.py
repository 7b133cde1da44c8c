"""Attainment speed: the attainment selector and the manager's team view over 200,000 won deals
and 60 sellers, on PostgreSQL as the application role under row-level security.

    make bench                                         # every benchmark
    DEBUG=1 .venv/bin/python -m bench attainment       # this one
    BENCH_ATTAINMENT_DEALS=50000 DEBUG=1 .venv/bin/python -m bench attainment

It uses its own database, `spm_bench_attainment` (override with DATABASE_URL; the name must
contain "bench", because every run empties it). The quota plan is made by the real services
(allocate by historical share, apply); deals are bulk-loaded over the last and current fiscal
year. It prints the median and 95th percentile of the selector and of the team view page
(server side, through the whole middleware stack), and the number of queries each takes.
"""

from __future__ import annotations

import csv
import datetime
import io
import logging
import os
import statistics
import time
from decimal import Decimal

from bench.database import analyze, prepare_database, setup_django

DEFAULT_URL = "postgres://spm_owner@127.0.0.1:5432/spm_bench_attainment"
DEALS = int(os.environ.get("BENCH_ATTAINMENT_DEALS", "200000"))
REPS = int(os.environ.get("BENCH_ATTAINMENT_REPS", "60"))
TEAMS = 6
FISCAL_YEAR = 2026
AS_OF = datetime.date(2026, 8, 14)
RUNS = 30
TARGET_MS = 150.0










def _load_deals(tenant, owners: list[int], account_id: int, stage_id: int) -> None:
    """COPY the deals into a temporary table and INSERT ... SELECT them (COPY FROM is refused
    on a table under row-level security; the INSERT still passes its WITH CHECK)."""
    import numpy as np
    from django.db import connection

    rng = np.random.default_rng(11)
    first = datetime.date(FISCAL_YEAR - 1, 1, 1)
    span = (AS_OF - first).days + 1
    days = rng.integers(0, span, DEALS)
    cents = np.maximum(100, rng.lognormal(np.log(1_500_000), 0.9, DEALS)).astype(np.int64)
    who = rng.integers(0, len(owners), DEALS)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for i in range(DEALS):
        close = first + datetime.timedelta(days=int(days[i]))
        writer.writerow([f"B{i}", owners[who[i]], int(cents[i]), close.isoformat()])
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE load_deal (external_id text, owner_id bigint, "
                       "cents bigint, close_date date)")
        cursor.cursor.copy_expert("COPY load_deal FROM STDIN WITH (FORMAT csv)", buffer)
        cursor.execute(
            "INSERT INTO crm_deal (tenant_id, external_id, name, account_id, owner_id, amount, "
            "currency, stage_id, forecast_category, status, created_date, close_date, "
            "product_line, deal_type, units, lost_reason, updated_at) "
            "SELECT %s, external_id, '', %s, owner_id, cents::numeric / 100, 'USD', %s, "
            "'closed', 'won', close_date - 30, close_date, 'Platform', 'new', 1, '', now() "
            "FROM load_deal",
            [tenant.pk, account_id, stage_id],
        )
        cursor.execute("DROP TABLE load_deal")


def _data(tenant):  # bench setup, not timed
    from django.contrib.auth import get_user_model

    from quotas.services import quota_allocate, quota_plan_apply, quota_plan_create
    from spm.crm.models import Account, Stage
    from spm.org.models import Person, TeamMembership
    from spm.org.services import periods_generate, team_create
    from spm.tenancy.models import Membership, Role

    periods_generate(fiscal_years=[FISCAL_YEAR - 1, FISCAL_YEAR])
    hired = datetime.date(2020, 1, 1)
    vp = Person.objects.create(employee_id="VP", name="Vera VP", email="vp@bench.example",
                               role="manager", hire_date=hired)
    root = team_create(name="Sales", manager=vp)
    reps: list[Person] = []
    memberships = []
    per_team = REPS // TEAMS
    for t in range(TEAMS):
        manager = Person.objects.create(employee_id=f"M{t}", name=f"Manager {t}",
                                        email=f"m{t}@bench.example", role="manager",
                                        hire_date=hired)
        team = team_create(name=f"Team {t}", parent=root, manager=manager)
        memberships.append(TeamMembership(person=manager, team=team, valid_from=hired))
        for r in range(per_team if t < TEAMS - 1 else REPS - per_team * (TEAMS - 1)):
            # A few sellers joined this year and still ramp.
            start = datetime.date(FISCAL_YEAR, 3, 1) if r == 0 else hired
            rep = Person.objects.create(employee_id=f"R{t}-{r}", name=f"Seller {t}-{r}",
                                        email=f"r{t}{r}@bench.example", hire_date=start)
            reps.append(rep)
            memberships.append(TeamMembership(person=rep, team=team, valid_from=start))
    TeamMembership.objects.bulk_create(memberships)
    user, _ = get_user_model().objects.get_or_create(username="bench-vp")
    Membership.objects.create(user=user, tenant=tenant, role=Role.MANAGER)
    vp.user = user
    vp.save(update_fields=["user"])

    account = Account.objects.create(external_id="BENCH", name="Bench account")
    stage = Stage.objects.create(name="Closed Won", order=1, default_probability=100,
                                 forecast_category="closed", is_won=True)
    _load_deals(tenant, [r.pk for r in reps], account.pk, stage.pk)
    plan = quota_plan_create(fiscal_year=FISCAL_YEAR, name="Bench quotas",
                             target=Decimal("150000000.00"),
                             over_assignment_percent=Decimal("110"))
    result = quota_allocate(plan=plan, method="historical")
    if result.problems:
        raise SystemExit(f"allocation does not add up: {result.problems[0].message}")
    quota_plan_apply(plan=plan)
    return user


def _time(fn, runs: int = RUNS) -> tuple[float, float, int]:
    """Median and 95th percentile in ms, and the queries of one call."""
    from django.db import connection

    for _ in range(3):
        fn()
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    # Counted by a wrapper, not the query log: each request resets the log when it starts.
    with connection.execute_wrapper(count):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1], len(queries)


def main() -> None:
    setup_django(DEFAULT_URL)
    prepare_database()
    logging.disable(logging.WARNING)  # one access line per request would drown the figures

    from django.test import Client

    from quotas.selectors import attainment_by_person
    from spm.org.models import Period
    from spm.tenancy.context import tenant_context
    from spm.tenancy.models import Tenant
    from spm.tenancy.urls import tenant_reverse

    tenant = Tenant.objects.create(slug="bench", name="Bench Inc", currency="USD")
    started = time.perf_counter()
    with tenant_context(tenant):
        user = _data(tenant)
    analyze()
    setup_s = time.perf_counter() - started

    with tenant_context(tenant):
        quarter = Period.objects.get(kind="quarter", start_date__lte=AS_OF, end_date__gt=AS_OF)

        def selector():
            return attainment_by_person(period=quarter, as_of=AS_OF)

        rows = selector()
        selector_ms, selector_p95, selector_queries = _time(selector)

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    url = tenant_reverse(tenant, "quotas:team") + f"?kind=quarter&on={AS_OF.isoformat()}"

    def page():
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"the team view answered {response.status_code}")
        return response

    shown = page().content.decode().count('<tr data-person="')
    page_ms, page_p95, page_queries = _time(page)

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPU(s)")
    print(f"setup (not timed): {DEALS:,} won deals, {REPS} sellers in {TEAMS} teams, quota plan "
          f"allocated and applied, in {setup_s:.1f} s")
    print(f"attainment selector, {quarter.label} + YTD as of {AS_OF}, {len(rows)} people: "
          f"median {selector_ms:.1f} ms, p95 {selector_p95:.1f} ms, {selector_queries} queries")
    print(f"team view page (whole request, {shown} rows): median {page_ms:.1f} ms, "
          f"p95 {page_p95:.1f} ms, {page_queries} queries")
    worst = max(selector_ms, page_ms)
    verdict = "within" if worst <= TARGET_MS else "OVER"
    print(f"target: {TARGET_MS:.0f} ms server time -> {verdict}")
