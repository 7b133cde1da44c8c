"""Crediting speed: one month of 50,000 won deals into credits on PostgreSQL.

    make bench                                      # every benchmark
    DEBUG=1 .venv/bin/python -m bench crediting     # this one

It uses its own database, `spm_bench_crediting` on the local server (override with DATABASE_URL;
the name must contain "bench", because every run empties its tables), migrated as the owner and
then used as the application role, under row-level security. 1,000 reps in 100 teams under 10
managers and a VP; 5% of deals split three ways, 10% in euros, an overlay rule on one product
line. Each deal gets an owner or split credit and one credit per manager above (three in all),
so the month has about 200,000 credits. The build runs twice: the second replaces the first.
"""

from __future__ import annotations

import datetime
import os
import time

from bench.database import prepare_database, setup_django

DEFAULT_URL = "postgres://spm_owner@127.0.0.1:5432/spm_bench_crediting"
DEALS = int(os.environ.get("BENCH_CREDITING_DEALS", "50000"))
REPS = 1000
TARGET_SECONDS = 30.0






def _data() -> tuple[object, object]:
    """The tenant and its March 2026, with people, teams, deals, splits and rates (untimed)."""
    from decimal import Decimal

    import numpy as np

    from compensation.models import CreditRule, DealSplit, DealSplitSet, ExchangeRate
    from spm.crm.models import Account, Deal, Stage
    from spm.org.models import Period, Person, TeamMembership
    from spm.org.services import periods_generate, team_create
    from spm.tenancy.models import Tenant

    rng = np.random.default_rng(7)
    tenant = Tenant.objects.create(slug="bench", name="Bench")
    from spm.tenancy.context import tenant_context

    with tenant_context(tenant):
        periods_generate(fiscal_years=[2026])
        people = Person.objects.bulk_create([
            Person(employee_id=f"E{i:05d}", name=f"Person {i}", email=f"p{i}@bench.example")
            for i in range(REPS + 111)])
        vp, managers, leads, reps = people[0], people[1:11], people[11:111], people[111:]
        root = team_create(name="Sales", manager=vp)
        regions = [team_create(name=f"Region {i}", parent=root, manager=m)
                   for i, m in enumerate(managers)]
        teams = [team_create(name=f"Team {i}", parent=regions[i % 10], manager=lead)
                 for i, lead in enumerate(leads)]
        start = datetime.date(2025, 1, 1)
        TeamMembership.objects.bulk_create([
            TeamMembership(person=rep, team=teams[i % len(teams)], valid_from=start)
            for i, rep in enumerate(reps)])
        stage = Stage.objects.create(name="Won", order=1, default_probability=100,
                                     is_won=True, forecast_category="closed")
        accounts = Account.objects.bulk_create([
            Account(external_id=f"A{i}", name=f"Account {i}") for i in range(5000)])
        days = rng.integers(0, 31, DEALS)
        cents = rng.integers(10_000, 10_000_000, DEALS)
        euro = rng.random(DEALS) < 0.10
        deals = Deal.objects.bulk_create([
            Deal(external_id=f"D{i}", account=accounts[i % len(accounts)],
                 owner=reps[int(rng.integers(0, len(reps)))], stage=stage,
                 amount=Decimal(int(cents[i])).scaleb(-2), currency="EUR" if euro[i] else "USD",
                 forecast_category="closed", status="won",
                 created_date=datetime.date(2026, 1, 5),
                 close_date=datetime.date(2026, 3, 1) + datetime.timedelta(int(days[i])),
                 product_line=["Platform", "Services", "Security"][i % 3], units=1)
            for i in range(DEALS)], batch_size=5000)
        split = [d for i, d in enumerate(deals) if i % 20 == 0]
        sets = DealSplitSet.objects.bulk_create([DealSplitSet(deal=d) for d in split])
        DealSplit.objects.bulk_create([
            DealSplit(split_set=s, deal_id=s.deal_id, person=reps[(k * 7 + j) % len(reps)],
                      percent=Decimal(p))
            for k, s in enumerate(sets) for j, p in enumerate(("33.33", "33.33", "33.34"))])
        ExchangeRate.objects.create(currency="EUR", valid_from=datetime.date(2026, 1, 1),
                                    rate=Decimal("1.08"))
        CreditRule.objects.create(name="Security overlay", person=managers[0],
                                  product_line="Security", valid_from=start)
        month = Period.objects.get(kind="month", start_date=datetime.date(2026, 3, 1))
    return tenant, month


def main() -> None:
    setup_django(DEFAULT_URL)
    prepare_database()

    from compensation.services import credits_build
    from spm.tenancy.context import tenant_context

    tenant, month = _data()
    timings = []
    for _ in range(2):
        started = time.perf_counter()
        with tenant_context(tenant):
            build = credits_build(period=month)
        timings.append(time.perf_counter() - started)
    first, again = timings
    print(f"deals credited:       {build.deal_count:>10,}")
    print(f"credits written:      {build.credit_count:>10,}")
    print(f"issues:               {build.issue_count:>10,}")
    print(f"first build:          {first:>10.2f} s  ({build.credit_count / first:,.0f} credits/s)")
    print(f"rebuild (replaces):   {again:>10.2f} s")
    verdict = "OK" if again <= TARGET_SECONDS else "SLOW"
    print(f"target:               {TARGET_SECONDS:>10.2f} s  {verdict}")
