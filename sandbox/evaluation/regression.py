"""Evaluate a regression model: overall errors, and group errors with t-intervals.

:func:`evaluate_regression` assesses every sensitive attribute on its own, every pair (with
three or more), and the intersection of all of them. Per group: the count, the mean label, the
mean prediction, the mean error (prediction - label: above 0 the group is over-predicted), the
mean absolute error (MAE) and the root mean squared error (RMSE). Each group value is computed
by scikit-learn's own function on the group's rows in their original order, so it equals
fairlearn's ``MetricFrame`` float for float (the unit tests prove it).

Every group metric is a mean of per-row terms (|error| for MAE, error for mean error, squared
error for the MSE under the RMSE), so its interval is the Student t-interval of that mean
(``docs/statistics.md`` says why, and ``tests/statistics`` measures the coverage). Disparities
between groups (max - min and min / max) get simultaneous intervals from every pair of groups,
each pair's interval built by MOVER (Zou and Donner 2008) from the two groups' t-limits at a
Bonferroni-adjusted level, exactly as the binary task does with Wilson limits.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from sandbox.errors import DataError
from sandbox.evaluation.disparity import between_groups
from sandbox.evaluation.error_metrics import mean_absolute_error, mean_squared_error, r2_score
from sandbox.evaluation.group_errors import group_errors, grouped_errors
from sandbox.evaluation.groups import GroupCoder
from sandbox.evaluation.intervals import (
    Pairs,
    newcombe_difference,
    pair_level,
    range_interval,
    ratio_interval,
)
from sandbox.evaluation.result import (
    AttributeSetResult,
    Disparity,
    Estimate,
    Evaluation,
    GroupResult,
    attribute_sets,
    estimate,
    extreme_group,
    slug,
)

__all__ = [
    "GROUP_METRICS",
    "INTERVALS",
    "REGRESSION",
    "evaluate_regression",
    "group_errors",
    "mover_pairs",
    "t_interval",
]

REGRESSION: Final = "regression"
#: Per-group metrics, in report order.
GROUP_METRICS: Final = ("mae", "mean_error", "rmse", "mean_label", "mean_prediction")
#: Metrics whose ratio (min / max) means something: positive by nature.
_RATIO_METRICS: Final = frozenset({"mae", "rmse", "mean_label", "mean_prediction"})

INTERVALS: Final = (
    "Student t-intervals for each group's mean label, mean prediction, mean error and MAE, and "
    "for its mean squared error (square-rooted for the RMSE); for the difference (max - min) "
    "and ratio (min / max) between groups, MOVER intervals from the groups' t-limits for every "
    "pair of groups, simultaneous over the attribute set's pairs (Bonferroni)"
)

FloatArray = npt.NDArray[np.float64]


def t_interval(
    mean: npt.ArrayLike, sd: npt.ArrayLike, n: npt.ArrayLike, confidence: float
) -> tuple[FloatArray, FloatArray]:
    """Student t-interval of a mean from its sample sd (ddof=1); NaN where n < 2."""
    from scipy.stats import t as student_t  # scipy.stats loads only when used

    m = np.asarray(mean, dtype=np.float64)
    s = np.asarray(sd, dtype=np.float64)
    size = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        quantile = student_t.ppf(0.5 + confidence / 2.0, np.maximum(size - 1.0, 1.0))
        half = quantile * s / np.sqrt(size)
    half = np.where(size >= 2, half, np.nan)
    return m - half, m + half


def _limits(metric: str, value: float, sd: float, n: int, confidence: float) -> tuple[float, float]:
    """A group metric's t-limits; for the RMSE, the MSE's limits square-rooted."""
    if metric != "rmse":
        low, high = t_interval(value, sd, n, confidence)
        return float(low), float(high)
    low, high = t_interval(value**2, sd, n, confidence)
    # the MSE is never negative; the root keeps the estimate inside its own interval
    return float(np.sqrt(max(float(low), 0.0))), float(np.sqrt(max(float(high), value**2)))


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def mover_pairs(values: FloatArray, lows: FloatArray, highs: FloatArray, *, measure: str) -> Pairs:
    """Every pair of groups, higher value first, with its MOVER interval from group limits.

    A difference uses MOVER-D (the form of Newcombe's interval), a ratio MOVER-R; both need
    only each group's own limits, so any interval of a group mean plugs in. Groups without
    limits are left out.
    """
    keep = np.flatnonzero(np.isfinite(lows) & np.isfinite(highs))
    first, second = np.triu_indices(len(keep), k=1)
    i, j = keep[first], keep[second]
    swap = values[j] > values[i]
    high, low = np.where(swap, j, i), np.where(swap, i, j)
    if measure == "difference":
        args = (values[high], lows[high], highs[high], values[low], lows[low], highs[low])
        ci_low, ci_high = newcombe_difference(*args)
        value = values[high] - values[low]
        return Pairs("difference", high, low, value, ci_low, ci_high)
    defined = values[high] > 0
    high, low = high[defined], low[defined]
    ci_low, ci_high = ratio_interval(
        values[low], np.maximum(lows[low], 0.0), highs[low],
        values[high], np.maximum(lows[high], 0.0), highs[high],
    )  # fmt: skip
    with np.errstate(invalid="ignore", divide="ignore"):
        value = values[low] / values[high]
    return Pairs("ratio", high, low, value, ci_low, ci_high)


def _disparity(
    metric: str,
    table: dict[str, tuple[FloatArray, FloatArray]],
    *,
    labels: list[str],
    counts: npt.NDArray[np.int64],
    minimum: int,
    confidence: float | None,
) -> Disparity:
    """Max - min and min / max of one metric over the groups, with simultaneous intervals."""
    values, sds = table[metric]
    difference, ratio = between_groups(values)
    positive = metric in _RATIO_METRICS and bool((values >= 0).all())
    comparisons = len(labels) * (len(labels) - 1) // 2
    bounds = {"difference": (np.nan, np.nan), "ratio": (np.nan, np.nan)}
    if confidence is not None and comparisons and bool((counts >= 2).all()):
        level = pair_level(confidence, comparisons)
        limits = np.array(
            [
                _limits(metric, v, s, int(n), level)
                for v, s, n in zip(values, sds, counts, strict=True)
            ]
        )
        for measure in ("difference", "ratio") if positive else ("difference",):
            found = mover_pairs(values, limits[:, 0], limits[:, 1], measure=measure)
            bounds[measure] = range_interval(found)
    return Disparity(
        metric=metric,
        difference=estimate(difference, *bounds["difference"]),
        ratio=(
            estimate(ratio, *bounds["ratio"])
            if positive
            else Estimate(value=None, note="a signed quantity has no meaningful ratio")
        ),
        highest_group=extreme_group(values, labels, highest=True),
        lowest_group=extreme_group(values, labels, highest=False),
        includes_unassessable=bool((counts < minimum).any()),
        comparisons=comparisons,
    )


def _assess_set(
    attributes: tuple[str, ...],
    coder: GroupCoder,
    truth: FloatArray,
    pred: FloatArray,
    *,
    min_group_size: int,
    confidence: float | None,
) -> AttributeSetResult:
    groups = coder.partition(attributes)
    labels = [" & ".join(key) for key in groups.keys]
    counts = np.bincount(groups.codes, minlength=groups.n_groups).astype(np.int64)
    per_group = grouped_errors(truth, pred, groups.codes, counts)
    table = {
        m: (
            np.array([g[m][0] for g in per_group], dtype=np.float64),
            np.array([g[m][1] for g in per_group], dtype=np.float64),
        )
        for m in GROUP_METRICS
    }
    results = []
    for g, (key, label) in enumerate(zip(groups.keys, labels, strict=True)):
        size = int(counts[g])
        small = size < min_group_size
        metrics = {}
        for m in GROUP_METRICS:
            value, sd = per_group[g][m]
            low, high = (
                (np.nan, np.nan) if confidence is None else _limits(m, value, sd, size, confidence)
            )
            note = f"only {size} rows (fewer than {min_group_size}): shown, not assessed"
            metrics[m] = estimate(value, low, high).model_copy(
                update={"assessable": not small, "note": note if small else None}
            )
        results.append(
            GroupResult(
                label=label,
                values=dict(zip(attributes, key, strict=True)),
                count=size,
                small=small,
                metrics=metrics,
                # a one-row group has no sample sd: None, as JSON and the rules expect
                spread={m: _finite(per_group[g][m][1]) for m in GROUP_METRICS},
            )
        )
    disparities = {
        m: _disparity(
            m, table, labels=labels, counts=counts, minimum=min_group_size, confidence=confidence
        )
        for m in GROUP_METRICS
    }
    name = " & ".join(attributes)
    warnings = [
        f"{name} = {r.label}: {r.count} rows, fewer than {min_group_size}; its errors are shown "
        "with their intervals but not assessed."
        for r in results
        if r.small
    ]
    if len(results) < 2:
        warnings.insert(0, f"{name}: only one group is present, so no disparity can be assessed.")
    return AttributeSetResult(
        name=name,
        key="__".join(slug(a) for a in attributes),
        attributes=attributes,
        groups=tuple(results),
        disparities=disparities,
        warnings=tuple(warnings),
    )


def _numbers(values: Any, name: str, rows: int) -> FloatArray:
    array = np.asarray(values)
    if array.ndim != 1 or len(array) != rows:
        raise DataError(f"{name} must hold {rows} values, got shape {array.shape}")
    try:
        numbers = array.astype(np.float64, copy=False)  # no second copy of 10M rows
    except (TypeError, ValueError):
        raise DataError(f"{name} must hold numbers") from None
    if not np.isfinite(numbers).all():
        raise DataError(f"{name} must hold finite numbers (no missing values or infinities)")
    return numbers


def evaluate_regression(
    *,
    y_true: Any,
    y_pred: Any,
    sensitive: pd.DataFrame,
    min_group_size: int = 30,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Evaluation:
    """Assess overall and group errors of numeric predictions, with t-intervals.

    ``n_bootstrap=0`` skips the intervals (they are closed-form, so no other value changes
    them). Rows whose sensitive value is missing form their own group, ``(missing)``.
    """
    if min_group_size < 1 or n_bootstrap < 0 or not 0.0 < confidence < 1.0:
        raise ValueError(
            "need min_group_size >= 1, n_bootstrap >= 0 and 0 < confidence < 1; got "
            f"{min_group_size}, {n_bootstrap}, {confidence}"
        )
    if not isinstance(sensitive, pd.DataFrame) or sensitive.shape[1] == 0:
        raise DataError("sensitive must be a DataFrame with at least one attribute column")
    rows = len(sensitive)
    if rows == 0:
        raise DataError("no evaluation rows: errors cannot be assessed on empty data")
    truth = _numbers(y_true, "y_true", rows)
    pred = _numbers(y_pred, "y_pred", rows)
    frame = sensitive.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    performance = {
        "mae": float(mean_absolute_error(truth, pred)),
        "rmse": float(np.sqrt(mean_squared_error(truth, pred))),
        "mean_error": float(np.mean(pred - truth)),
        "mean_label": float(np.mean(truth)),
    }
    notes: list[str] = []
    if np.ptp(truth) > 0:
        performance["r2"] = float(r2_score(truth, pred))
    else:
        notes.append("R² not computed: every evaluation row has the same label.")
    level = confidence if n_bootstrap else None  # no intervals when switched off
    coder = GroupCoder(frame)  # each attribute factorised once for all its sets
    results = tuple(
        _assess_set(names, coder, truth, pred, min_group_size=min_group_size, confidence=level)
        for names in attribute_sets(coder.attributes)
    )
    return Evaluation(
        task=REGRESSION,
        rows=rows,
        performance=performance,
        attribute_sets=results,
        min_group_size=min_group_size,
        n_bootstrap=n_bootstrap,
        intervals=INTERVALS if n_bootstrap else "",
        confidence=confidence,
        seed=seed,
        warnings=tuple(notes),
    )
