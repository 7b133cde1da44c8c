"""Full recompute: 1,000,000 credits x 10,000 payees x 12 months through one calculation run.

    make bench                                     # every benchmark
    DEBUG=1 .venv/bin/python -m bench recompute    # this one

A 3-tier graduated plan (8% to quota, an accelerator at 12% to 150%, 15% above) with a monthly
cap. It uses its own database, `spm_bench_recompute` (override with DATABASE_URL; the name must
contain "bench", because every run empties it), created and migrated as the owner; the run then
works as the application role under row-level security, like a worker. It prints the run's time
(read credits by COPY, compute, write line items and results by COPY), and the floor: the bare
binary COPY out of the same credit rows plus the bare COPY into an unindexed table of the same
line rows, and their ratio. BENCH_RECOMPUTE_CREDITS and _PAYEES make it smaller.
"""

from __future__ import annotations

import datetime
import os
import time
from decimal import Decimal

from bench.database import prepare_database, setup_django

DEFAULT_URL = "postgres://spm_owner@127.0.0.1:5432/spm_bench_recompute"
CREDITS = int(os.environ.get("BENCH_RECOMPUTE_CREDITS", "1000000"))
PAYEES = int(os.environ.get("BENCH_RECOMPUTE_PAYEES", "10000"))
FISCAL_YEAR = 2026
TARGET_SECONDS = 15.0
TARGET_RATIO = 3.0
PLAN = """
plan: BENCH-AE
version: 1
name: Graduated with an accelerator and a cap
components:
  - code: commission
    kind: rate_table
    method: graduated
    tiers:
      - {from: 0%, to: 100%, rate: 8%}
      - {from: 100%, to: 150%, rate: 12%}
      - {from: 150%, rate: 15%}
    caps:
      - {per: period, amount: 25000.00}
"""






def _data(tenant):  # bench setup, not timed
    """People, one account, deals and credits for the fiscal year; quotas and assignments."""
    import numpy as np
    import pandas as pd

    from compensation import bulk
    from compensation.models import Credit, CreditBuild, PlanAssignment
    from compensation.plan_documents import load_plan
    from compensation.services.assignments import assignment_periods_refresh
    from compensation.services.plans import plan_version_import, plan_version_publish
    from quotas.models import Quota, QuotaPlan
    from spm.crm.models import Account, Deal, Stage
    from spm.demo.writer import reserve_ids
    from spm.org.models import Person
    from spm.org.services import periods_generate

    rng = np.random.default_rng(7)
    periods = periods_generate(fiscal_years=[FISCAL_YEAR])
    months = sorted((p for p in periods if p.kind == "month"), key=lambda p: p.start_date)
    year = next(p for p in periods if p.kind == "year")
    Person.objects.bulk_create([Person(employee_id=f"E{i:06d}", name=f"Seller {i}",
                                       email=f"e{i}@bench.example") for i in range(PAYEES)],
                               batch_size=5000)
    people = np.array(Person.objects.order_by("pk").values_list("pk", flat=True))
    version = plan_version_publish(version=plan_version_import(
        document=load_plan(PLAN), valid_from=year.start_date))
    PlanAssignment.objects.bulk_create([
        PlanAssignment(person_id=int(p), plan=version.plan, valid_from=year.start_date,
                       target_incentive=Decimal("120000.00")) for p in people],
        batch_size=5000)
    assignment_periods_refresh(plans=[version.plan])
    quota_plan = QuotaPlan.objects.create(fiscal_year=FISCAL_YEAR, name="Bench quotas",
                                          target=Decimal("1200000000.00"))
    # Dated from the year's first day, as applying a quota plan dates them: a version dated
    # from its own month would not count for months that have not begun (quotas.selectors).
    Quota.objects.bulk_create([
        Quota(plan=quota_plan, person_id=int(p), period=m, amount=Decimal("100000.00"),
              valid_from=year.start_date) for p in people for m in months], batch_size=10000)

    account = Account.objects.create(external_id="BENCH", name="Bench account")
    stage = Stage.objects.create(name="Closed Won", order=1, default_probability=100,
                                 forecast_category="closed", is_won=True)
    n = CREDITS
    month_index = rng.integers(0, 12, n)
    starts = np.array([np.datetime64(m.start_date) for m in months])
    lengths = np.array([(m.end_date - m.start_date).days for m in months])
    close = starts[month_index] + (rng.random(n) * lengths[month_index]).astype(
        "timedelta64[D]")
    # About 8 credits per payee and month around 12,000 each: attainment spreads over every
    # tier, and the cap binds for the top sellers.
    cents = np.maximum(100, rng.lognormal(np.log(1_000_000), 0.8, n)).astype(np.int64)
    owner = people[rng.integers(0, len(people), n)]
    deal_ids = reserve_ids(Deal, n)
    deals = pd.DataFrame({"id": deal_ids, "external_id": [f"D{i}" for i in range(n)],
                          "owner_id": owner, "amount": cents, "created_date": close,
                          "close_date": close})
    bulk.write_frame(Deal, deals, [
        bulk.Column("id", bulk.INT), bulk.Column("owner_id", bulk.INT),
        bulk.Column("amount", bulk.CENTS), bulk.Column("created_date", bulk.DATE),
        bulk.Column("close_date", bulk.DATE), bulk.Column("external_id", bulk.TEXT)],
        constants={"tenant_id": tenant.pk, "name": "", "account_id": account.pk,
                   "currency": "USD", "stage_id": stage.pk, "forecast_category": "closed",
                   "status": "won", "product_line": "platform", "deal_type": "new",
                   "units": 1, "lost_reason": "", "updated_at": datetime.datetime(
                       2026, 12, 31, tzinfo=datetime.UTC)})
    builds = {m.pk: CreditBuild.objects.create(period=m, built_at=datetime.datetime(
        2026, 12, 31, tzinfo=datetime.UTC)).pk for m in months}
    month_ids = np.array([m.pk for m in months])
    credits = pd.DataFrame({
        "build_id": [builds[int(i)] for i in month_ids[month_index]],
        "period_id": month_ids[month_index], "payee_id": owner, "deal_id": deal_ids,
        "amount": cents, "credit_date": close})
    bulk.write_frame(Credit, credits, [
        bulk.Column("build_id", bulk.INT), bulk.Column("period_id", bulk.INT),
        bulk.Column("payee_id", bulk.INT), bulk.Column("deal_id", bulk.INT),
        bulk.Column("amount", bulk.CENTS), bulk.Column("credit_date", bulk.DATE)],
        constants={"tenant_id": tenant.pk, "kind": "credit", "role": "owner", "units": 0,
                   "split_percent": 100, "currency": "USD", "rule_ref": "deal owner"})
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("compensation_credit", "crm_deal", "compensation_assignmentperiod"):
            cursor.execute(f"ANALYZE {table}")
    return year, [m.pk for m in months]


def _floor(month_ids: list[int]) -> tuple[float, float, int]:
    """Bare binary COPY out of the credits the run reads, and into an unindexed table of the
    line rows the run wrote: what moving the same bytes costs with no other work. The table is
    an ordinary one (made by the owner, since the app role may not create tables), so its rows
    are written durably, through the write-ahead log, like the run's."""
    from django.db import connection

    from bench.database import owner_connection
    from compensation import bulk
    from compensation.models import Credit, LineItem

    read_sql = Credit.objects.filter(period_id__in=month_ids, kind="credit").order_by().values(
        "id", "payee_id", "deal_id", "period_id", "credit_date", "amount").query
    sql, params = read_sql.sql_with_params()
    sink = bulk._CopyBuffer()
    out = bulk._CopyBuffer()
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.cursor.copy_expert(cursor.cursor.mogrify(
            f"COPY ({sql}) TO STDOUT (FORMAT binary)", params), sink)
        read_s = time.perf_counter() - started
        cursor.cursor.copy_expert(
            f"COPY (SELECT * FROM {LineItem._meta.db_table}) TO STDOUT (FORMAT binary)", out)
    data = out.getvalue()
    owner = owner_connection()
    try:
        with owner.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_floor_lines")
            cursor.execute("CREATE TABLE bench_floor_lines (LIKE compensation_lineitem)")
            started = time.perf_counter()
            cursor.copy_expert("COPY bench_floor_lines FROM STDIN (FORMAT binary)",
                               bulk._Reader(data), size=1 << 20)
            write_s = time.perf_counter() - started
            cursor.execute("DROP TABLE bench_floor_lines")
    finally:
        owner.close()
    return read_s, write_s, len(data)


def main() -> None:
    setup_django(DEFAULT_URL)
    prepare_database()

    from compensation.models import LineItem, PayeePeriodResult, RunStatus
    from compensation.services.runs import calculation_run
    from spm.tenancy.context import tenant_context
    from spm.tenancy.models import Tenant

    tenant = Tenant.objects.create(slug="bench", name="Bench Inc", currency="USD")
    started = time.perf_counter()
    with tenant_context(tenant):
        year, month_ids = _data(tenant)
    setup_s = time.perf_counter() - started

    cpu = time.process_time()
    started = time.perf_counter()
    with tenant_context(tenant):
        run = calculation_run(tenant=tenant, period=year, actor=None)
    total_s = time.perf_counter() - started
    cpu_s = time.process_time() - cpu
    if run.status != RunStatus.SUCCEEDED:
        # The bench's data is clean: errors would mean credits were left out of the timing.
        raise SystemExit(f"the run did not succeed cleanly ({run.get_status_display()}, "
                         f"{run.error_count} error(s)): {run.error}")
    with tenant_context(tenant):
        lines = LineItem.objects.count()
        results = PayeePeriodResult.objects.count()
        read_s, write_s, line_bytes = _floor(month_ids)
    floor_s = read_s + write_s
    timings = run.inputs.get("timings", {})
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPU(s)")
    print(f"setup (not timed): {CREDITS:,} credits, {PAYEES:,} payees, 12 months in "
          f"{setup_s:.1f} s")
    print(f"full recompute of FY{FISCAL_YEAR}: {total_s:.2f} s wall, {cpu_s:.2f} s CPU of this "
          f"process; {lines:,} line items, {results:,} payee-period results, total "
          f"{run.total_amount:,.2f}")
    print("  read {read:.2f} s, delete the old results {delete:.2f} s, write {write:.2f} s; "
          "the engine's {compute:.2f} s run on a worker thread beside them".format(
              read=timings.get("read", 0), compute=timings.get("compute", 0),
              delete=timings.get("delete", 0), write=timings.get("write", 0)))
    print(f"COPY floor: read {read_s:.2f} s + write {write_s:.2f} s ({line_bytes / 1e6:.0f} MB "
          f"of line rows) = {floor_s:.2f} s")
    ratio = total_s / floor_s if floor_s else float("inf")
    print(f"ratio to the floor: {ratio:.2f}x (aim <= {TARGET_RATIO:.0f}x)")
    verdict = "within" if total_s <= TARGET_SECONDS else "OVER"
    print(f"target: {TARGET_SECONDS:.0f} s for the full recompute -> {verdict}")
