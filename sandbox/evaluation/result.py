"""The task-neutral evaluation result: performance, group metrics and disparities by name.

Every task type returns an :class:`Evaluation`. Its metric names come from the task's
vocabulary (:mod:`sandbox.evaluation.vocabulary`); fields only some task types can fill (the
confusion counts of a classifier, the four-fifths rule on selection rates) are optional.
:func:`flat_metrics` flattens a result into stable metric names for the experiment tracker.

A rate whose denominator is empty in a group (a TPR with no actual positives) is undefined:
its value is ``None`` with the reason in ``note``, never fairlearn's conventional 0.0. A rate
whose denominator is below the evaluation's minimum is shown but not ``assessable``: gates and
the min_group_size rule leave it out. Intervals are score intervals (``docs/statistics.md``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from itertools import combinations
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

from sandbox.evaluation.answers import AssistantDetails
from sandbox.evaluation.disparity import FOUR_FIFTHS, between_groups
from sandbox.evaluation.intervals import pair_level, pairs, range_interval
from sandbox.evaluation.topk import TopK

__all__ = [
    "AttributeSetResult",
    "ClassConfusion",
    "Disparity",
    "Estimate",
    "Evaluation",
    "FourFifths",
    "GroupResult",
    "attribute_sets",
    "estimate",
    "extreme_group",
    "flat_metrics",
    "rate_disparity",
    "set_pair_level",
    "slug",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Estimate(BaseModel):
    """A value with its confidence interval; ``None`` where not a number."""

    model_config = _FROZEN

    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    #: The denominator was empty: there is no value (fairlearn would report 0.0).
    undefined: bool = False
    #: A rate's numerator and denominator (e.g. true positives and actual positives).
    numerator: int | None = None
    denominator: int | None = None
    #: The denominator reaches the evaluation's minimum, so gates may rest on this value.
    assessable: bool = True
    #: Why the value is missing or not assessable, in words.
    note: str | None = None


class GroupResult(BaseModel):
    """One group of an attribute set: its size, metrics and (for classifiers) its counts."""

    model_config = _FROZEN

    label: str
    values: dict[str, str]
    count: int
    small: bool
    confusion: dict[str, int] | None = None
    metrics: dict[str, Estimate]
    #: Where a metric is a mean of per-row terms (a regression's MAE: of absolute errors), the
    #: terms' standard deviation (ddof=1), so gates can rebuild intervals at their own level.
    spread: dict[str, float | None] | None = None


class Disparity(BaseModel):
    """Between-group difference (max - min) and ratio (min / max) of one metric.

    Over every group whose rate is defined (as fairlearn's ``MetricFrame.difference()`` and
    ``.ratio()``, which equal these whenever no rate is undefined). The intervals hold for the
    true max - min and min / max: they come from simultaneous intervals over all ``comparisons``
    pairs of groups.
    """

    model_config = _FROZEN

    metric: str
    difference: Estimate
    ratio: Estimate
    highest_group: str | None
    lowest_group: str | None
    #: Some group's rate is undefined (empty denominator) and is left out.
    includes_undefined: bool = False
    #: Some compared group's denominator is below the evaluation's minimum.
    includes_unassessable: bool = False
    #: Pairs of groups the simultaneous intervals cover.
    comparisons: int = 0


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
    four_fifths: FourFifths | None = None
    warnings: tuple[str, ...] = ()


class ClassConfusion(BaseModel):
    """A multiclass confusion matrix: ``matrix[i][j]`` rows of class i predicted as class j."""

    model_config = _FROZEN

    #: The class values as written in the data, in matrix order.
    classes: tuple[str, ...]
    #: Each class's metric-name fragment (``recall.<key>``): tracker-safe and unique.
    keys: tuple[str, ...]
    matrix: tuple[tuple[int, ...], ...]


class Evaluation(BaseModel):
    """Performance and group fairness of a model's predictions on the evaluation rows."""

    model_config = _FROZEN

    task: str
    rows: int
    performance: dict[str, float]
    #: Overall counts (rows, positives, confusion cells) where the task type has them.
    counts: dict[str, int] | None = None
    #: Actual against predicted class, for multiclass task types.
    confusion_matrix: ClassConfusion | None = None
    #: The budget, the cut-off and the curve around it, for ranking task types.
    top_k: TopK | None = None
    #: Counts, disclosures and failed-answer samples, for assistant task types.
    assistant: AssistantDetails | None = None
    attribute_sets: tuple[AttributeSetResult, ...]
    #: The one small-group threshold: a rate whose denominator (rows, actual positives, ...)
    #: is below it is shown and flagged, and no gate rests on it.
    min_group_size: int
    n_bootstrap: int
    #: How the intervals were computed, in words.
    intervals: str = ""
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


def estimate(value: Any, low: Any, high: Any, *, undefined: bool = False) -> Estimate:
    """An Estimate from possibly non-finite numbers (those become None)."""
    return Estimate(
        value=None if undefined else _number(value),
        ci_low=_number(low),
        ci_high=_number(high),
        undefined=undefined,
    )


def set_pair_level(trials: Any, confidence: float | None) -> float | None:
    """Each pair's level when every pair of a set's defined groups is compared at once
    (Bonferroni); None without intervals or with fewer than two defined groups."""
    defined = int((np.asarray(trials) > 0).sum())
    if confidence is None or defined < 2:
        return None
    return pair_level(confidence, defined * (defined - 1) // 2)


def rate_disparity(
    metric: str,
    values: npt.NDArray[np.float64],
    counts: tuple[Any, Any],
    labels: Sequence[str],
    *,
    assessable: Any,
    level: float | None,
    comparisons: int | None = None,
) -> Disparity:
    """Max - min and min / max of a rate over the groups where it is defined.

    `values` are the groups' rates, `counts` their numerators and denominators (a group with
    no denominator is undefined and left out), `assessable` marks the groups whose
    denominator reaches the evaluation's minimum. The intervals come from every pair of
    defined groups at the per-pair `level` (the caller's Bonferroni share); None: no intervals.
    """
    successes, trials = counts
    defined = trials > 0
    shown = np.where(defined, values, np.nan)
    difference, ratio = between_groups(shown)
    paired = int(defined.sum() * (defined.sum() - 1) // 2)
    bounds = {"difference": (np.nan, np.nan), "ratio": (np.nan, np.nan)}
    if level is not None and paired:
        for measure in ("difference", "ratio"):
            found = pairs(successes, trials, confidence=level, measure=measure)
            bounds[measure] = range_interval(found)
    return Disparity(
        metric=metric,
        difference=estimate(difference, *bounds["difference"]),
        ratio=estimate(ratio, *bounds["ratio"]),
        highest_group=extreme_group(shown, labels, highest=True),
        lowest_group=extreme_group(shown, labels, highest=False),
        includes_undefined=bool((~defined).any()),
        includes_unassessable=bool((defined & ~np.asarray(assessable, dtype=bool)).any()),
        comparisons=paired if comparisons is None else comparisons,
    )


def extreme_group(
    values: npt.NDArray[np.float64], labels: Sequence[str], *, highest: bool
) -> str | None:
    """The label of the group with the highest (or lowest) value, ignoring NaN."""
    if np.isnan(values).all():
        return None
    index = int(np.nanargmax(values) if highest else np.nanargmin(values))
    return labels[index]


def slug(text: str) -> str:
    """A metric-name-safe fragment: letters, digits, '_' and '-' only."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_") or "_"


def flat_metrics(evaluation: Evaluation) -> dict[str, float]:
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
                value: Estimate = getattr(disparity, kind)
                out[f"{prefix}.{metric}.{kind}"] = value.value
                out[f"{prefix}.{metric}.{kind}.ci_low"] = value.ci_low
                out[f"{prefix}.{metric}.{kind}.ci_high"] = value.ci_high
        if result.four_fifths is not None and result.four_fifths.passed is not None:
            out[f"{prefix}.four_fifths.passed"] = float(result.four_fifths.passed)
        seen: dict[str, int] = {}
        for group in result.groups:
            name = "__".join(slug(v) for v in group.values.values())
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:  # two labels that differ only in punctuation
                name = f"{name}-{seen[name]}"
            out[f"{prefix}.group.{name}.count"] = float(group.count)
            for metric, point in group.metrics.items():
                if not point.undefined:
                    out[f"{prefix}.group.{name}.{metric}"] = point.value
    return {k: float(v) for k, v in out.items() if v is not None and math.isfinite(v)}
