"""Every benchmark in one run, printed as ratios: `python benchmarks/run.py [--baseline TREE]`.

`--baseline TREE` (a checkout of older code, its runner image built) adds that code's governed
runs of the blueprint and of its 1M-row scaling, interleaved, so "before" and "after" come from
the same sitting.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_audit
import bench_concurrency
import bench_fixed_costs
import bench_gvisor
import bench_hosted_workers
import bench_kernels
import bench_metrics
import bench_overhead
import bench_tasks
import bench_trail


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, default=None, help="a checkout of older code")
    args = parser.parse_args(argv)
    baseline = ["--baseline", str(args.baseline)] if args.baseline else []
    print("== sandbox overhead (blueprint, governed run vs bare host fit + score)")
    bench_overhead.main(["--repeat", "5", "--served", *baseline])
    print()
    print("== sandbox overhead, the blueprint scaled to 1,000,000 rows")
    bench_overhead.main(["--rows", "1000000", "--repeat", "3", "--served", *baseline])
    print()
    print("== sandbox overhead, the blueprint scaled to 5,000,000 rows")
    bench_overhead.main(["--rows", "5000000", "--served"])
    print()
    print("== group-metric kernel vs fairlearn MetricFrame (1M rows, 5 groups)")
    bench_metrics.main([])
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
    print("== predictions-only audit at 50M rows (memory), CSV and Parquet, with the score")
    bench_audit.main(["--rows", "50000000", "--no-peers", "--score"])
    print()
    print(
        "== predictions-only audit of multiclass, regression, ranking (1M and 10M rows) and "
        "assistant answers (100,000) vs polars, DuckDB, fairlearn"
    )
    bench_tasks.main([])
    print()
    print("== evaluation kernels of the other task types, old method vs new (1M rows)")
    bench_kernels.main([])
    print()
    print("== gVisor (runsc) vs runc: a hardened container importing scikit-learn, a governed run")
    bench_gvisor.main(["--repeat", "3"])
    print()
    print("== concurrency (4 governed runs started at once vs one after the other)")
    bench_concurrency.main([])
    print()
    print("== hosted workers (12 small jobs through the API: 1 worker vs 2)")
    bench_hosted_workers.main([])


if __name__ == "__main__":
    main()
