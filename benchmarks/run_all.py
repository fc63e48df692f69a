"""`make bench`: every benchmark on this machine, a table on stdout, the same appended to RESULTS.md."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_cohort_filter
import bench_dist
import bench_import
import bench_kpi
import bench_locality_report
import bench_return_import
import bench_scaling
import bench_startup
import bench_sync
import bench_system_report
from common import record, table

MODULES = [
    bench_import,
    bench_cohort_filter,
    bench_kpi,
    bench_return_import,
    bench_locality_report,
    bench_system_report,
    bench_startup,
    bench_scaling,
    bench_sync,
    bench_dist,
]


def main() -> int:
    results = []
    for module in MODULES:
        print(f"running {module.__name__} ...", flush=True)
        results += module.run()
    print(table(results))
    record(results, "make bench")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
