"""Time the evaluation kernels of the multiclass, regression and ranking tasks.

Each kernel runs beside the direct method it replaces, on the same synthetic columns built in
memory (no files), repetitions interleaved, and its output is checked to be identical:

- classes: labels and predictions as NumPy text and ``np.unique`` over both, against
  :func:`sandbox.evaluation.classes.class_codes` (factorised values, text of the distinct ones);
- partition: ``pd.factorize`` of every attribute in each of an evaluation's partitions (the
  attribute list, each attribute, the intersection), against one
  :class:`sandbox.evaluation.groups.GroupCoder` serving them all;
- group errors: a row copy per group of the intersection and scikit-learn's functions on it,
  against :func:`sandbox.evaluation.group_errors.grouped_errors` (one sort, views);
- ranking: a stable sort of the scores for the k-th score and for each of the budgets k/2, k
  and 2k, against one sort (:func:`sandbox.evaluation.ranking.ranked`) reused for all.

    .venv/bin/python benchmarks/bench_kernels.py --rows 1000000 --repeat 3
    .venv/bin/python benchmarks/bench_kernels.py --rows 10000000 --repeat 1

Exits 1 if any kernel's output differs from its direct method's.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox.evaluation.classes import class_codes
from sandbox.evaluation.group_errors import group_errors, grouped_errors
from sandbox.evaluation.groups import MISSING, GroupCoder
from sandbox.evaluation.ranking import _chosen, ranked
from sandbox.evaluation.result import attribute_sets

CLASSES = np.array(["parks", "roads", "water", "waste", "noise", "other"], dtype=object)


def inputs(rows: int, seed: int = 7) -> dict[str, Any]:
    """Two text attributes (12 x 5 groups), 6 text classes, numeric labels, tied scores."""
    rng = np.random.default_rng(seed)
    districts = np.array([f"district {i:02d}" for i in range(12)], dtype=object)
    bands = np.array(["18-24", "25-34", "35-49", "50-64", "65+"], dtype=object)
    y_class = CLASSES[rng.integers(0, 6, rows)]
    y_true = rng.normal(50.0, 20.0, rows).round(1)
    positive = rng.random(rows) < 0.2
    return {
        "sensitive": pd.DataFrame(
            {
                "district": districts[rng.integers(0, 12, rows)],
                "age_band": bands[rng.integers(0, 5, rows)],
            }
        ),
        "y_class": y_class,
        "p_class": np.where(rng.random(rows) < 0.7, y_class, CLASSES[rng.integers(0, 6, rows)]),
        "y_true": y_true,
        "y_pred": y_true + rng.normal(0.0, 5.0, rows),
        "scores": (rng.random(rows) * 0.6 + positive * 0.4).round(3),
        "k": max(1, rows // 20),
    }


def direct_classes(data: dict[str, Any]) -> Any:
    truth = np.asarray(data["y_class"]).astype(str)
    pred = np.asarray(data["p_class"]).astype(str)
    classes = tuple(str(c) for c in np.unique(np.concatenate([truth, pred])))
    return classes, np.searchsorted(classes, truth), np.searchsorted(classes, pred)


def kernel_classes(data: dict[str, Any]) -> Any:
    return class_codes(data["y_class"], data["p_class"])


def _factorised(frame: pd.DataFrame, names: tuple[str, ...]) -> Any:
    per = []
    for name in names:
        codes, uniques = pd.factorize(frame[name], sort=True, use_na_sentinel=True)
        labels = [str(u) for u in uniques]
        codes = np.asarray(codes, dtype=np.intp)
        if (codes < 0).any():
            codes, labels = np.where(codes < 0, len(labels), codes), [*labels, MISSING]
        per.append((codes, labels))
    shape = tuple(len(labels) for _, labels in per)
    combined = np.ravel_multi_index(tuple(c for c, _ in per), shape)
    present = np.bincount(combined, minlength=int(np.prod(shape))) > 0
    return (np.cumsum(present) - 1)[combined], int(present.sum())


def direct_partition(data: dict[str, Any]) -> Any:
    frame = data["sensitive"]
    names = tuple(str(c) for c in frame.columns)
    _factorised(frame, names)  # the evaluations partitioned once just to list the attributes
    return [_factorised(frame, s) for s in attribute_sets(names)]


def kernel_partition(data: dict[str, Any]) -> Any:
    coder = GroupCoder(data["sensitive"])
    return [(p.codes, p.n_groups) for p in map(coder.partition, attribute_sets(coder.attributes))]


def _finest(data: dict[str, Any]) -> tuple[Any, Any]:
    if "finest" not in data:  # setup, not timed: both sides need the same codes
        codes = GroupCoder(data["sensitive"]).partition().codes
        data["finest"] = (codes, np.bincount(codes).astype(np.int64))
    return data["finest"]  # type: ignore[no-any-return]


def direct_errors(data: dict[str, Any]) -> Any:
    codes, counts = _finest(data)
    order = np.argsort(codes, kind="stable")
    starts = np.concatenate(([0], np.cumsum(counts)))
    truth, pred = data["y_true"], data["y_pred"]
    return [group_errors(truth[order[a:b]], pred[order[a:b]]) for a, b in pairwise(starts)]


def kernel_errors(data: dict[str, Any]) -> Any:
    codes, counts = _finest(data)
    return grouped_errors(data["y_true"], data["y_pred"], codes, counts)


def _budgets(k: int, rows: int) -> list[int]:
    return sorted({max(1, k // 2), k, min(rows, 2 * k)})


def direct_ranking(data: dict[str, Any]) -> Any:
    scores, k = data["scores"], data["k"]
    chosen = []
    for size in [k, *_budgets(k, len(scores))]:  # the selection, then one per budget
        selected = np.zeros(len(scores), dtype=np.bool_)
        selected[np.argsort(-scores, kind="stable")[:size]] = True
        chosen.append(selected)
    return chosen, scores[np.argsort(-scores, kind="stable")[k - 1]]


def kernel_ranking(data: dict[str, Any]) -> Any:
    scores, k = data["scores"], data["k"]
    order = ranked(scores)
    chosen = [_chosen(order, size) for size in [k, *_budgets(k, len(scores))]]
    return chosen, scores[order[k - 1]]


def same(a: Any, b: Any) -> bool:
    """Equal throughout: arrays element for element, floats bit for bit (NaN equals NaN)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        x, y = np.asarray(a), np.asarray(b)
        return x.shape == y.shape and x.tobytes() == y.astype(x.dtype).tobytes()
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[key], b[key]) for key in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return np.float64(a).tobytes() == np.float64(b).tobytes()
    return bool(a == b)


KERNELS: dict[str, tuple[Callable[[dict[str, Any]], Any], Callable[[dict[str, Any]], Any]]] = {
    "classes": (direct_classes, kernel_classes),
    "partition": (direct_partition, kernel_partition),
    "group errors": (direct_errors, kernel_errors),
    "ranking": (direct_ranking, kernel_ranking),
}


def run(rows: int, repeat: int) -> dict[str, dict[str, Any]]:
    """Per kernel: median seconds of the direct method and the kernel, and their equality."""
    import sklearn.metrics  # noqa: F401  (loaded before the clock: a fixed cost of both)

    data = inputs(rows)
    out: dict[str, dict[str, Any]] = {}
    for name, (direct, kernel) in KERNELS.items():
        times: dict[str, list[float]] = {"direct": [], "kernel": []}
        results: dict[str, Any] = {}
        for _ in range(repeat):  # interleaved, so load on the machine hits both alike
            for label, fn in (("direct", direct), ("kernel", kernel)):
                start = time.perf_counter()
                results[label] = fn(data)
                times[label].append(time.perf_counter() - start)
        d, k = float(np.median(times["direct"])), float(np.median(times["kernel"]))
        out[name] = {
            "direct_s": d,
            "kernel_s": k,
            "ratio": d / k,
            "identical": same(results["direct"], results["kernel"]),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    figures = run(args.rows, args.repeat)
    print(f"{args.rows:,} rows, median of {args.repeat}")
    print(f"{'kernel':<14}{'direct (s)':>12}{'kernel (s)':>12}{'ratio':>9}  identical")
    for name, f in figures.items():
        print(
            f"{name:<14}{f['direct_s']:>12.3f}{f['kernel_s']:>12.3f}"
            f"{f['ratio']:>8.1f}x  {'yes' if f['identical'] else 'NO'}"
        )
    return 0 if all(f["identical"] for f in figures.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
