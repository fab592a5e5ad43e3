"""Evaluate a binary classifier: performance, and group fairness with confidence intervals.

:func:`evaluate_binary` assesses every sensitive attribute on its own, every pair (when there
are three or more), and the intersection of all of them, and returns the task-neutral
:class:`~sandbox.evaluation.result.Evaluation`. Callers go through the binary task
(:mod:`sandbox.tasks.binary`), which prepares its inputs.

Group numbers equal fairlearn's ``MetricFrame`` (see :mod:`sandbox.evaluation.fairness`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sandbox.errors import DataError
from sandbox.evaluation.fairness import (
    CELLS,
    FOUR_FIFTHS,
    METRICS,
    FloatArray,
    between_groups,
    bootstrap_counts,
    confusion_counts,
    group_metrics,
    partition,
    percentile_interval,
    undefined_mask,
)
from sandbox.evaluation.performance import binary_performance
from sandbox.evaluation.result import (
    AttributeSetResult,
    Disparity,
    Evaluation,
    FourFifths,
    GroupResult,
    attribute_sets,
    estimate,
    extreme_group,
    slug,
)

__all__ = ["BINARY", "evaluate_binary"]

BINARY = "binary_classification"

_MISSING_DENOMINATOR = {
    "tpr": "no positive cases",
    "fnr": "no positive cases",
    "fpr": "no negative cases",
    "precision": "no positive predictions",
}


def _assess_set(
    attributes: tuple[str, ...],
    sensitive: pd.DataFrame,
    y_true: Any,
    y_pred: Any,
    *,
    finest_codes: np.ndarray[Any, Any],
    finest_boot: np.ndarray[Any, Any] | None,
    min_group_size: int,
    confidence: float,
) -> AttributeSetResult:
    groups = partition(sensitive, attributes)
    counts = confusion_counts(y_true, y_pred, groups.codes, groups.n_groups)
    labels = [" & ".join(key) for key in groups.keys]
    point = group_metrics(counts)
    undefined = undefined_mask(counts)
    nan = np.full(groups.n_groups, np.nan)
    group_ci: dict[str, tuple[FloatArray, FloatArray]] = {m: (nan, nan) for m in METRICS}
    spread_ci: dict[str, tuple[FloatArray, ...]] = {m: (nan[:1],) * 4 for m in METRICS}
    if finest_boot is not None:
        # the finest groups nest inside this set's groups: sum their resampled counts
        mapping = np.empty(int(finest_codes.max()) + 1, dtype=np.intp)
        mapping[finest_codes] = groups.codes
        boot = np.stack(
            [finest_boot[:, mapping == g].sum(axis=1) for g in range(groups.n_groups)], axis=1
        )
        for name, samples in group_metrics(boot).items():
            group_ci[name] = percentile_interval(samples, confidence)
            difference, ratio = between_groups(samples)
            spread_ci[name] = (
                *percentile_interval(difference, confidence),
                *percentile_interval(ratio, confidence),
            )

    results = []
    for g, (key, label) in enumerate(zip(groups.keys, labels, strict=True)):
        size = int(counts[g].sum())
        metrics = {
            name: estimate(
                point[name][g],
                group_ci[name][0][g],
                group_ci[name][1][g],
                undefined=bool(undefined[name][g]),
            )
            for name in METRICS
        }
        results.append(
            GroupResult(
                label=label,
                values=dict(zip(attributes, key, strict=True)),
                count=size,
                small=size < min_group_size,
                confusion={c: int(v) for c, v in zip(CELLS, counts[g], strict=True)},
                metrics=metrics,
            )
        )

    disparities = {}
    for name in METRICS:
        difference, ratio = between_groups(point[name])
        d_low, d_high, r_low, r_high = (float(np.ravel(b)[0]) for b in spread_ci[name])
        disparities[name] = Disparity(
            metric=name,
            difference=estimate(difference, d_low, d_high),
            ratio=estimate(ratio, r_low, r_high),
            highest_group=extreme_group(point[name], labels, highest=True),
            lowest_group=extreme_group(point[name], labels, highest=False),
            includes_undefined=bool(undefined[name].any()),
        )
    rates = disparities["selection_rate"]
    four_fifths = FourFifths(
        ratio=rates.ratio.value,
        passed=None if rates.ratio.value is None else rates.ratio.value >= FOUR_FIFTHS,
        lowest_group=rates.lowest_group,
        highest_group=rates.highest_group,
    )
    name = " & ".join(attributes)
    return AttributeSetResult(
        name=name,
        key="__".join(slug(a) for a in attributes),
        attributes=attributes,
        groups=tuple(results),
        disparities=disparities,
        four_fifths=four_fifths,
        warnings=tuple(_warnings(name, results, min_group_size, four_fifths)),
    )


def _warnings(
    name: str, groups: list[GroupResult], min_group_size: int, four_fifths: FourFifths
) -> list[str]:
    out = []
    if len(groups) < 2:
        out.append(f"{name}: only one group is present, so no disparity can be assessed.")
    for group in groups:
        if group.small:
            out.append(
                f"{name} = {group.label}: {group.count} rows, fewer than {min_group_size}; "
                "its estimates are uncertain."
            )
        by_reason: dict[str, list[str]] = {}
        for metric, point in group.metrics.items():
            if point.undefined:
                by_reason.setdefault(_MISSING_DENOMINATOR.get(metric, "no rows"), []).append(metric)
        for reason, metrics in by_reason.items():
            out.append(
                f"{name} = {group.label}: {reason}; {', '.join(metrics)} reported as 0 by "
                "convention and not a measurement."
            )
    if four_fifths.passed is None and len(groups) >= 2:
        out.append(f"{name}: no group was selected, so the four-fifths rule cannot be assessed.")
    return out


def evaluate_binary(
    *,
    y_true: Any,
    y_pred: Any,
    y_score: Any = None,
    sensitive: pd.DataFrame,
    min_group_size: int = 30,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Evaluation:
    """Assess performance and group fairness of binary predictions, with bootstrap intervals.

    ``n_bootstrap=0`` skips the intervals. Rows whose sensitive value is missing form their
    own group, labelled ``(missing)``.
    """
    if not isinstance(sensitive, pd.DataFrame) or sensitive.shape[1] == 0:
        raise DataError("sensitive must be a DataFrame with at least one attribute column")
    rows = len(sensitive)
    if len(y_true) != rows or len(y_pred) != rows:
        raise DataError(
            f"lengths differ: y_true {len(y_true)}, y_pred {len(y_pred)}, sensitive {rows}"
        )
    if min_group_size < 1 or n_bootstrap < 0 or not 0.0 < confidence < 1.0:
        raise ValueError(
            "need min_group_size >= 1, n_bootstrap >= 0 and 0 < confidence < 1; got "
            f"{min_group_size}, {n_bootstrap}, {confidence}"
        )
    frame = sensitive.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    truth, pred = np.asarray(y_true), np.asarray(y_pred)
    performance = binary_performance(truth, pred, y_score=y_score)

    finest = partition(frame)
    finest_boot = None
    if n_bootstrap:
        cells = confusion_counts(truth, pred, finest.codes, finest.n_groups)
        rng = np.random.default_rng(seed)
        finest_boot = bootstrap_counts(cells, n_bootstrap=n_bootstrap, rng=rng)
    results = tuple(
        _assess_set(
            attributes,
            frame,
            truth,
            pred,
            finest_codes=finest.codes,
            finest_boot=finest_boot,
            min_group_size=min_group_size,
            confidence=confidence,
        )
        for attributes in attribute_sets(finest.attributes)
    )
    return Evaluation(
        task=BINARY,
        rows=rows,
        performance=performance.metrics,
        counts=performance.counts,
        attribute_sets=results,
        min_group_size=min_group_size,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        seed=seed,
        warnings=performance.notes,
    )
