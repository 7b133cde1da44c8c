"""Territory balancing speed and quality: 10,000 accounts over 100 territories in at most 30 s.

    make bench                                        # every benchmark
    DEBUG=1 .venv/bin/python -m bench balancing       # this one
    BENCH_BALANCE_ACCOUNTS=20000 BENCH_BALANCE_TERRITORIES=200 .venv/bin/python -m bench balancing

A book of lognormal potentials dealt unevenly over the territories (as after years of ad-hoc
assignment) is balanced to potential within 10% of the mean, and account counts within 20%.
Prints the time, balance before and after (coefficient of variation, max / min), the moves and
the lower bound on moves. Then, on a book small enough for CP-SAT to prove the minimum, the
heuristic used for large books is measured against that minimum. The engine is pure, so no
database is needed.
"""

from __future__ import annotations

import os
import time
from fractions import Fraction

import numpy as np
import pandas as pd

ACCOUNTS = int(os.environ.get("BENCH_BALANCE_ACCOUNTS", "10000"))
TERRITORIES = int(os.environ.get("BENCH_BALANCE_TERRITORIES", "100"))
TIME_LIMIT = float(os.environ.get("BENCH_BALANCE_TIME_LIMIT", "20"))
TARGET_SECONDS = 30.0


def uneven_book(accounts: int, territories: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    potential_cents = np.round(rng.lognormal(11, 1.0, accounts) * 100).astype(np.int64)
    weights = rng.lognormal(0, 0.4, territories)
    homes = rng.choice(territories, size=accounts, p=weights / weights.sum())
    return pd.DataFrame({
        "account_id": np.arange(1, accounts + 1),
        "territory_id": homes + 1,
        "potential_cents": potential_cents,
    })


def _line(label: str, figures) -> str:
    ratio = f"{figures.max_min_potential:.2f}" if figures.max_min_potential else "inf"
    count_ratio = f"{figures.max_min_count:.2f}" if figures.max_min_count else "inf"
    return (
        f"  {label:<7} potential CV {figures.cv_potential:6.3f}  max/min {ratio:>6}  |  "
        f"accounts CV {figures.cv_count:6.3f}  max/min {count_ratio:>6}  |  "
        f"{figures.outside} territories outside"
    )


def main() -> None:
    from territories.balancing import BalanceSpec, balance

    spec = BalanceSpec(
        tolerance=Fraction(1, 10), count_tolerance=Fraction(1, 5), time_limit_s=TIME_LIMIT
    )
    accounts = uneven_book(ACCOUNTS, TERRITORIES)
    started = time.perf_counter()
    result = balance(accounts, list(range(1, TERRITORIES + 1)), spec)
    elapsed = time.perf_counter() - started
    verdict = "OK" if elapsed <= TARGET_SECONDS and result.after.within else "MISSED"
    print(f"{ACCOUNTS:,} accounts x {TERRITORIES} territories, potential +-10%, counts +-20%")
    print(f"  time    {elapsed:.1f} s (target <= {TARGET_SECONDS:.0f} s) {verdict}")
    print(_line("before", result.before))
    print(_line("after", result.after))
    gap = result.move_count - result.lower_bound
    print(
        f"  moves   {result.move_count:,} of {ACCOUNTS:,} accounts; lower bound "
        f"{result.lower_bound:,} (at most {gap} above the minimum); status {result.status}"
    )
    print(f"  method  {result.method}")

    # The large-book heuristic against CP-SAT's proven minimum on a book it can prove.
    small = uneven_book(300, 10, seed=7)
    exact = balance(small, list(range(1, 11)), BalanceSpec(
        count_tolerance=Fraction(1, 5), time_limit_s=30
    ))
    heuristic = balance(small, list(range(1, 11)), BalanceSpec(
        count_tolerance=Fraction(1, 5), time_limit_s=5, exact_pairs=0
    ))
    print(
        f"300 x 10: CP-SAT minimum {exact.move_count} moves ({exact.status}, "
        f"{exact.elapsed_s:.1f} s); large-book heuristic {heuristic.move_count} moves "
        f"({heuristic.elapsed_s:.1f} s); lower bound {exact.lower_bound}"
    )


if __name__ == "__main__":
    main()
