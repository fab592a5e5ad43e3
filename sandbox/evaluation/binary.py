"""Evaluate a binary classifier: performance, and group fairness with confidence intervals.

:func:`evaluate_binary` is the one entry point. It assesses every sensitive attribute on its
own, every pair (when there are three or more), and the intersection of all of them, and
returns a frozen, JSON-serialisable :class:`BinaryEvaluation`. :func:`flat_metrics` flattens
it into stable metric names for the experiment tracker.

Group numbers equal fairlearn's ``MetricFrame`` (see :mod:`sandbox.evaluation.fairness`). A rate
whose denominator is empty in a group (a TPR with no positive cases) follows fairlearn's
convention of 0.0 and is marked ``undefined``; values that are not numbers at all (a ratio
whose largest value is 0) are ``None``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

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

__all__ = [
    "AttributeSetResult",
    "BinaryEvaluation",
    "Disparity",
    "Estimate",
    "FourFifths",
    "GroupResult",
    "attribute_sets",
    "evaluate_binary",
    "flat_metrics",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")
_MISSING_DENOMINATOR = {
    "tpr": "no positive cases",
    "fnr": "no positive cases",
    "fpr": "no negative cases",
    "precision": "no positive predictions",
}


class Estimate(BaseModel):
    """A value with its bootstrap percentile interval; ``None`` where not a number."""

    model_config = _FROZEN

    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    #: The denominator was empty: ``value`` is fairlearn's conventional 0.0, not a measurement.
    undefined: bool = False


class GroupResult(BaseModel):
    """One group of an attribute set: its size, confusion counts and metrics."""

    model_config = _FROZEN

    label: str
    values: dict[str, str]
    count: int
    small: bool
    confusion: dict[str, int]
    metrics: dict[str, Estimate]


class Disparity(BaseModel):
    """Between-group difference (max - min) and ratio (min / max) of one metric."""

    model_config = _FROZEN

    metric: str
    difference: Estimate
    ratio: Estimate
    highest_group: str | None
    lowest_group: str | None
    #: Some group's value is a conventional 0.0 (empty denominator) and enters the comparison.
    includes_undefined: bool = False


class FourFifths(BaseModel):
    """The four-fifths rule on selection rate: lowest / highest group rate >= threshold."""

    model_config = _FROZEN

    ratio: float | None
    threshold: float = FOUR_FIFTHS
    passed: bool | None
    lowest_group: str | None
    highest_group: str | None


class AttributeSetResult(BaseModel):
    """Fairness assessment of one attribute or intersection of attributes."""

    model_config = _FROZEN

    name: str
    key: str
    attributes: tuple[str, ...]
    groups: tuple[GroupResult, ...]
    disparities: dict[str, Disparity]
    four_fifths: FourFifths
    warnings: tuple[str, ...] = ()


class BinaryEvaluation(BaseModel):
    """Performance and group fairness of a binary classifier on the evaluation rows."""

    model_config = _FROZEN

    rows: int
    performance: dict[str, float]
    counts: dict[str, int]
    attribute_sets: tuple[AttributeSetResult, ...]
    min_group_size: int
    n_bootstrap: int
    confidence: float
    seed: int
    warnings: tuple[str, ...] = ()

    def attribute_set(self, name: str) -> AttributeSetResult:
        """The result for one attribute set, by name (``"sex & race"``) or key."""
        for result in self.attribute_sets:
            if name in (result.name, result.key):
                return result
        raise KeyError(name)


def attribute_sets(attributes: Sequence[str]) -> list[tuple[str, ...]]:
    """Each attribute, each pair (with three or more attributes), and the full intersection."""
    names = tuple(attributes)
    sets: list[tuple[str, ...]] = [(a,) for a in names]
    if len(names) >= 3:
        sets.extend(combinations(names, 2))
    if len(names) >= 2:
        sets.append(names)
    return sets


def _number(value: Any) -> float | None:
    """A finite float, or None."""
    number = float(value)
    return number if math.isfinite(number) else None


def _estimate(value: Any, low: Any, high: Any, *, undefined: bool = False) -> Estimate:
    return Estimate(
        value=_number(value), ci_low=_number(low), ci_high=_number(high), undefined=undefined
    )


def _extreme_group(values: FloatArray, labels: Sequence[str], *, highest: bool) -> str | None:
    if np.isnan(values).all():
        return None
    index = int(np.nanargmax(values) if highest else np.nanargmin(values))
    return labels[index]


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
            name: _estimate(
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
            difference=_estimate(difference, d_low, d_high),
            ratio=_estimate(ratio, r_low, r_high),
            highest_group=_extreme_group(point[name], labels, highest=True),
            lowest_group=_extreme_group(point[name], labels, highest=False),
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
        key="__".join(_slug(a) for a in attributes),
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
        for metric, estimate in group.metrics.items():
            if estimate.undefined:
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
) -> BinaryEvaluation:
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
    return BinaryEvaluation(
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


def _slug(text: str) -> str:
    """A metric-name-safe fragment: letters, digits, '_' and '-' only."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_") or "_"


def flat_metrics(evaluation: BinaryEvaluation) -> dict[str, float]:
    """Stable, tracker-safe metric names to finite values.

    ``perf.roc_auc``, ``fairness.sex.selection_rate.difference``,
    ``fairness.sex.four_fifths.passed``, ``fairness.sex.group.female.tpr``,
    ``fairness.sex__race.tpr.ratio.ci_low``. Conventional zeros (undefined) are left out.
    """
    out: dict[str, float | None] = {f"perf.{k}": v for k, v in evaluation.performance.items()}
    for result in evaluation.attribute_sets:
        prefix = f"fairness.{result.key}"
        for metric, disparity in result.disparities.items():
            for kind in ("difference", "ratio"):
                estimate: Estimate = getattr(disparity, kind)
                out[f"{prefix}.{metric}.{kind}"] = estimate.value
                out[f"{prefix}.{metric}.{kind}.ci_low"] = estimate.ci_low
                out[f"{prefix}.{metric}.{kind}.ci_high"] = estimate.ci_high
        if result.four_fifths.passed is not None:
            out[f"{prefix}.four_fifths.passed"] = float(result.four_fifths.passed)
        seen: dict[str, int] = {}
        for group in result.groups:
            slug = "__".join(_slug(v) for v in group.values.values())
            seen[slug] = seen.get(slug, 0) + 1
            if seen[slug] > 1:  # two labels that differ only in punctuation
                slug = f"{slug}-{seen[slug]}"
            out[f"{prefix}.group.{slug}.count"] = float(group.count)
            for metric, estimate in group.metrics.items():
                if not estimate.undefined:
                    out[f"{prefix}.group.{slug}.{metric}"] = estimate.value
    return {k: float(v) for k, v in out.items() if v is not None and math.isfinite(v)}
