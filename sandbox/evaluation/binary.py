"""Evaluate a binary classifier: performance, and group fairness with score intervals.

:func:`evaluate_binary` assesses every sensitive attribute on its own, every pair (when there
are three or more), and the intersection of all of them, and returns the task-neutral
:class:`~sandbox.evaluation.result.Evaluation`. Callers go through the binary task
(:mod:`sandbox.tasks.binary`), which prepares its inputs.

Group numbers equal fairlearn's ``MetricFrame`` (see :mod:`sandbox.evaluation.fairness`).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from sandbox.errors import DataError
from sandbox.evaluation.fairness import (
    CELLS,
    DENOMINATOR,
    EMPTY_DENOMINATOR,
    FOUR_FIFTHS,
    METRICS,
    confusion_counts,
    group_metrics,
    rate_parts,
)
from sandbox.evaluation.groups import GroupCoder
from sandbox.evaluation.intervals import wilson
from sandbox.evaluation.performance import binary_performance
from sandbox.evaluation.result import (
    AttributeSetResult,
    Estimate,
    Evaluation,
    FourFifths,
    GroupResult,
    estimate,
    rate_disparity,
    set_pair_level,
    slug,
)
from sandbox.evaluation.set_counts import set_counts

__all__ = ["BINARY", "INTERVALS", "evaluate_binary"]

BINARY = "binary_classification"

#: How the intervals are computed (shown in reports; the reasons are in docs/statistics.md).
INTERVALS = (
    "Wilson score intervals for each group's rate; for the difference (max - min) and ratio "
    "(min / max) between groups, Newcombe hybrid score and MOVER-R intervals for every pair "
    "of groups, simultaneous over the attribute set's pairs (Bonferroni)"
)


def _rate(
    numerator: int, denominator: int, low: float, high: float, *, metric: str, minimum: int
) -> Estimate:
    """One group's rate with its Wilson interval, undefined or flagged as not assessable."""
    if denominator == 0:
        return Estimate(
            value=None,
            undefined=True,
            numerator=0,
            denominator=0,
            assessable=False,
            note=f"{EMPTY_DENOMINATOR[metric]}: the rate is undefined",
        )
    small = denominator < minimum
    point = estimate(numerator / denominator, low, high)
    return point.model_copy(
        update={
            "numerator": numerator,
            "denominator": denominator,
            "assessable": not small,
            "note": (
                f"only {denominator} {DENOMINATOR[metric]} (fewer than {minimum}): shown, "
                "not assessed"
                if small
                else None
            ),
        }
    )


def _assess_set(
    attributes: tuple[str, ...],
    keys: tuple[tuple[str, ...], ...],
    counts: Any,
    *,
    min_group_size: int,
    confidence: float | None,
) -> AttributeSetResult:
    labels = [" & ".join(key) for key in keys]
    point = group_metrics(counts)
    parts = rate_parts(counts)
    nan = np.full(len(keys), np.nan)
    limits = {
        name: (nan, nan) if confidence is None else wilson(num, den, confidence)
        for name, (num, den) in parts.items()
    }
    results = []
    for g, (key, label) in enumerate(zip(keys, labels, strict=True)):
        size = int(counts[g].sum())
        metrics = {
            name: _rate(
                int(parts[name][0][g]),
                int(parts[name][1][g]),
                limits[name][0][g],
                limits[name][1][g],
                metric=name,
                minimum=min_group_size,
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
    disparities = {
        name: rate_disparity(
            name,
            point[name],
            parts[name],
            labels,
            assessable=parts[name][1] >= min_group_size,
            level=set_pair_level(parts[name][1], confidence),
        )
        for name in METRICS
    }
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
                "its rates are shown with their intervals but not assessed."
            )
        undefined: dict[str, list[str]] = {}
        thin: dict[str, list[str]] = {}
        for metric, point in group.metrics.items():
            if point.undefined:
                undefined.setdefault(EMPTY_DENOMINATOR[metric], []).append(metric)
            elif not point.assessable and not group.small:
                text = f"{point.denominator} {DENOMINATOR[metric]}"
                thin.setdefault(text, []).append(metric)
        for reason, metrics in undefined.items():
            out.append(
                f"{name} = {group.label}: {reason}; {', '.join(metrics)} undefined, "
                "left out of every comparison."
            )
        for text, metrics in thin.items():
            out.append(
                f"{name} = {group.label}: {', '.join(metrics)} rest on only {text}, fewer "
                f"than {min_group_size}; shown, not assessed."
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
    """Assess performance and group fairness of binary predictions, with score intervals.

    ``n_bootstrap=0`` skips the intervals; the intervals are closed-form (Wilson, Newcombe,
    MOVER-R), so no other value changes them. A rate whose denominator is below
    ``min_group_size`` is flagged as not assessable. Rows whose sensitive value is missing
    form their own group, labelled ``(missing)``.
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
    coder = GroupCoder(frame)  # each attribute factorised once for all its sets
    results = tuple(
        _assess_set(
            attributes,
            keys,
            counts,
            min_group_size=min_group_size,
            confidence=confidence if n_bootstrap else None,
        )
        for attributes, keys, counts in set_counts(coder, partial(confusion_counts, truth, pred))
    )
    return Evaluation(
        task=BINARY,
        rows=rows,
        performance=performance.metrics,
        counts=performance.counts,
        attribute_sets=results,
        min_group_size=min_group_size,
        n_bootstrap=n_bootstrap,
        intervals=INTERVALS if n_bootstrap else "",
        confidence=confidence,
        seed=seed,
        warnings=performance.notes,
    )
