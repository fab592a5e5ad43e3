"""Every benchmark in one run, printed as ratios: `python benchmarks/run.py`."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_audit
import bench_concurrency
import bench_fixed_costs
import bench_metrics
import bench_overhead
import bench_trail


def main() -> None:
    print("== sandbox overhead (blueprint, governed run vs bare host fit + score)")
    bench_overhead.main([])
    print()
    print("== group-metric kernel vs fairlearn MetricFrame (1M rows, 5 groups)")
    bench_metrics.main()
    print()
    print("== audit trail cost per run (100 vs 100,000 prior records)")
    bench_trail.main([])
    print()
    print("== fixed costs (whole processes: sandbox --help, 1,000-row audit, governed run - bare)")
    bench_fixed_costs.main([])
    print()
    print("== predictions-only audit vs polars, DuckDB, aequitas, fairlearn (1M and 10M rows)")
    bench_audit.main([])
    print()
    print("== concurrency (4 governed runs started at once vs one after the other)")
    bench_concurrency.main([])


if __name__ == "__main__":
    main()
