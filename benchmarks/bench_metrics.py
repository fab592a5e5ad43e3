"""Time fairlearn's MetricFrame against the confusion-count kernel, and check they agree.

    python benchmarks/bench_metrics.py [--rows 1000000] [--groups 5]

Prints one table: MetricFrame (by_group + difference + ratio), the kernel doing the same,
the speed-up, the score intervals of every group metric and disparity, and whether the numbers are
identical (``==`` on every float).
"""

from __future__ import annotations

import argparse
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    count,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score, precision_score

from sandbox.evaluation.fairness import METRICS, group_table, rate_parts
from sandbox.evaluation.intervals import pair_level, pairs, range_interval, wilson

FAIRLEARN_METRICS = {
    "selection_rate": selection_rate,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "fnr": false_negative_rate,
    "precision": precision_score,
    "accuracy": accuracy_score,
    "count": count,
}


def _data(rows: int, groups: int, seed: int) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    weights = np.geomspace(1.0, 0.05, groups)
    labels = np.array([f"group_{i}" for i in range(groups)])
    sensitive = pd.DataFrame({"group": labels[rng.choice(groups, rows, p=weights / weights.sum())]})
    y_true = (rng.random(rows) < 0.3).astype(np.int64)
    y_pred = np.where(rng.random(rows) < 0.8, y_true, 1 - y_true)
    return y_true, y_pred, sensitive


def run(rows: int = 1_000_000, groups: int = 5, *, seed: int = 0) -> dict[str, Any]:
    """Time both ways on the same data; return the timings (seconds) and the agreement."""
    y_true, y_pred, sensitive = _data(rows, groups, seed)

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero-division warnings of tiny groups
        frame = MetricFrame(
            metrics=FAIRLEARN_METRICS,
            y_true=y_true,
            y_pred=y_pred,
            sensitive_features=sensitive["group"],
        )
        by_group, difference, ratio = frame.by_group, frame.difference(), frame.ratio()
    fairlearn_s = time.perf_counter() - start

    start = time.perf_counter()
    table = group_table(y_true, y_pred, sensitive, ["group"])
    metrics = table.metrics()
    disparities = table.disparities()
    kernel_s = time.perf_counter() - start

    start = time.perf_counter()
    level = pair_level(0.95, groups * (groups - 1) // 2)
    for numerator, denominator in rate_parts(table.counts).values():
        wilson(numerator, denominator, 0.95)
        for measure in ("difference", "ratio"):
            range_interval(pairs(numerator, denominator, confidence=level, measure=measure))
    intervals_s = time.perf_counter() - start

    identical = (
        list(table.counts.sum(axis=1)) == list(by_group["count"])
        and all(np.array_equal(metrics[m], by_group[m].to_numpy(dtype=np.float64)) for m in METRICS)
        and all(
            np.array_equal(disparities[m][0], difference[m], equal_nan=True)
            and np.array_equal(disparities[m][1], ratio[m], equal_nan=True)
            for m in METRICS
        )
    )
    return {
        "rows": rows,
        "groups": groups,
        "fairlearn_s": fairlearn_s,
        "kernel_s": kernel_s,
        "speedup": fairlearn_s / kernel_s,
        "intervals_s": intervals_s,
        "identical": identical,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--groups", type=int, default=5)
    args = parser.parse_args(argv)
    result = run(args.rows, args.groups)
    print(f"{result['rows']:,} rows x {result['groups']} groups, 6 metrics + count")
    print(f"{'step':<46}{'seconds':>10}")
    print(f"{'fairlearn MetricFrame + difference + ratio':<46}{result['fairlearn_s']:>10.3f}")
    print(f"{'kernel (bincount) + difference + ratio':<46}{result['kernel_s']:>10.3f}")
    print(f"{'speed-up':<46}{result['speedup']:>9.0f}x")
    print(f"{'score intervals, every metric and disparity':<46}{result['intervals_s']:>10.3f}")
    print(f"{'identical to MetricFrame':<46}{'yes' if result['identical'] else 'NO':>10}")
    if not result["identical"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
