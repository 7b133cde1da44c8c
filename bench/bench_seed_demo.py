"""Demo-data speed: `seed_demo` writing 200,000 deals with their stage history, leads and
activities on PostgreSQL, as the application role under row-level security.

    make bench                                        # every benchmark
    DEBUG=1 .venv/bin/python -m bench seed_demo       # this one
    BENCH_SEED_DEALS=50000 DEBUG=1 .venv/bin/python -m bench seed_demo

It uses its own database, `spm_bench_seed` on the local server (override with DATABASE_URL; the
name must contain "bench", because every run empties its tables).
"""

from __future__ import annotations

import datetime
import io
import os
import time

from bench.database import prepare_database, setup_django

DEFAULT_URL = "postgres://spm_owner@127.0.0.1:5432/spm_bench_seed"
DEALS = int(os.environ.get("BENCH_SEED_DEALS", "200000"))
REPS = int(os.environ.get("BENCH_SEED_REPS", "60"))
TARGET_SECONDS = 60.0
# The target is for the sales data (people, periods, accounts, deals, history, leads,
# activities); BENCH_SEED_UNTIL="" runs every step, territories to calculations included.
UNTIL = os.environ.get("BENCH_SEED_UNTIL", "build_activities")






def main() -> None:
    setup_django(DEFAULT_URL)
    prepare_database()

    from django.core.management import call_command
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    out = io.StringIO()
    started, cpu_started, db_started = time.perf_counter(), time.process_time(), _cpu(backend)
    call_command(
        "seed_demo", tenant="bench", reps=REPS, deals=DEALS, seed=1,
        as_of=datetime.date(2026, 6, 30), until=UNTIL or None, stdout=out,
    )
    seconds = time.perf_counter() - started
    python_cpu, db_cpu = time.process_time() - cpu_started, _cpu(backend) - db_started
    report = out.getvalue()
    counts = _counts(report)
    rows = sum(counts.values())
    for line in report.splitlines():
        if line.startswith("  ") and line.endswith(" s"):
            print(line)
    print(f"steps: {'through ' + UNTIL if UNTIL else 'all'}")
    print(f"seed_demo: {DEALS:,} deals, {REPS} reps, {rows:,} rows in all "
          f"({', '.join(f'{n:,} {what}' for what, n in counts.items())})")
    print(f"time: {seconds:.1f} s, {DEALS / seconds:,.0f} deals/s, {rows / seconds:,.0f} rows/s")
    if db_started >= 0:
        # On a shared machine the wall time depends on the neighbours; CPU time much less.
        print(f"cpu: {python_cpu:.1f} s in Python, {db_cpu:.1f} s in the PostgreSQL backend, "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    verdict = "within" if seconds <= TARGET_SECONDS else "OVER"
    print(f"target: {TARGET_SECONDS:.0f} s for {DEALS:,} deals -> {verdict}")


def _cpu(pid: int) -> float:
    """CPU seconds used so far by a local process (the database backend), or -1 if unknown."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return -1.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _counts(report: str) -> dict[str, int]:
    """The row counts from seed_demo's closing line ("Done in ...: 12 teams, 72 people, ...")."""
    done = next(line for line in report.splitlines() if line.startswith("Done in"))
    counts = {}
    for part in done.split(": ", 1)[1].rstrip(".").split(", "):
        number, what = part.split(" ", 1)
        counts[what] = int(number)
    return counts
