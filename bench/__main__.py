"""Run every benchmark (or those named on the command line) and print their figures.

Each benchmark runs in a process of its own: Django is configured once per process, and each
benchmark works in its own database with its own settings.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    wanted = [n for n in names if not argv or any(a in n for a in argv)]
    if not wanted:
        print(f"No benchmark matches {argv}; have {names}", file=sys.stderr)
        return 2
    failed = []
    for name in wanted:
        print(f"== {name}", flush=True)
        code = subprocess.call([sys.executable, "-c",  # noqa: S603 - our own module names
                                f"import bench.{name} as b; b.main()"], cwd=here.parent)
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
