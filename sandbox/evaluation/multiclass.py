"""Evaluate a multiclass classifier: performance, the confusion matrix, and group fairness.

Every number comes from one count kernel: per group, the ``K x K`` matrix of actual against
predicted class (:func:`class_counts`, one ``np.bincount``). From it:

* overall accuracy, balanced accuracy (the mean recall of the classes present in the labels)
  and macro-F1 (the mean F1 of every class among the labels or the predictions), each equal to
  scikit-learn's ``accuracy_score``, ``balanced_accuracy_score`` and ``f1_score(average="macro")``;
* per group: accuracy, and for each class the share predicted as that class (one-vs-rest
  selection rate, denominator: the group's rows) and that class's recall (one-vs-rest true
  positive rate, denominator: the group's rows of that class), each equal to fairlearn's
  ``MetricFrame`` with the same metric function (the unit tests prove it).

Group metric names are ``accuracy``, ``selection_rate.<key>`` and ``recall.<key>``, the key a
tracker-safe fragment of the class value (:func:`class_keys`). Intervals: Wilson for a group's
rate; for a class's difference and ratio across the groups of an attribute set, Newcombe and
MOVER-R pair intervals made simultaneous over the whole family of that metric, every class in
every attribute set (Bonferroni), as the class gates decide (``docs/statistics.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from sandbox.errors import DataError
from sandbox.evaluation.classes import class_codes
from sandbox.evaluation.groups import GroupCoder
from sandbox.evaluation.intervals import pair_level, wilson
from sandbox.evaluation.result import (
    AttributeSetResult,
    ClassConfusion,
    Estimate,
    Evaluation,
    GroupResult,
    estimate,
    rate_disparity,
    slug,
)
from sandbox.evaluation.set_counts import set_counts

__all__ = [
    "CLASS_METRICS",
    "MULTICLASS",
    "class_counts",
    "class_keys",
    "evaluate_multiclass",
    "multiclass_performance",
]

MULTICLASS = "multiclass_classification"
#: The per-class group metrics, each a family whose intervals hold together across classes
#: and attribute sets.
CLASS_METRICS = ("selection_rate", "recall")

INTERVALS = (
    "Wilson score intervals for each group's rate; for the difference (max - min) and ratio "
    "(min / max) between groups, Newcombe hybrid score and MOVER-R intervals for every pair of "
    "groups, simultaneous over the attribute set's pairs for accuracy and over every class and "
    "attribute set for the per-class rates (Bonferroni)"
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def class_keys(classes: tuple[str, ...]) -> tuple[str, ...]:
    """A tracker-safe, unique metric-name fragment for each class value."""
    keys: list[str] = []
    for value in classes:
        key = base = slug(value)
        n = 1
        while key in keys:  # 'a b' and 'a_b' slug alike
            n += 1
            key = f"{base}-{n}"
        keys.append(key)
    return tuple(keys)


def class_counts(
    truth: npt.NDArray[np.intp], pred: npt.NDArray[np.intp], codes: Any, n_groups: int, k: int
) -> IntArray:
    """Per-group confusion matrices, shape ``(n_groups, k, k)``: ``[g, actual, predicted]``."""
    cells = (np.asarray(codes, dtype=np.intp) * k + truth) * k + pred
    return np.bincount(cells, minlength=n_groups * k * k).astype(np.int64).reshape(n_groups, k, k)


def _counts(
    truth: npt.NDArray[np.intp], pred: npt.NDArray[np.intp], k: int, codes: Any, n: int
) -> IntArray:
    """`class_counts` with the classes bound first, as `set_counts` calls it."""
    return class_counts(truth, pred, codes, n, k)


def _share(numerator: Any, denominator: Any) -> FloatArray:
    """``numerator / denominator``, 0.0 where the denominator is empty (scikit-learn's way)."""
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    out = np.zeros(np.broadcast(num, den).shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def multiclass_performance(matrix: IntArray, keys: tuple[str, ...]) -> dict[str, float]:
    """Accuracy, balanced accuracy, macro-F1 and each class's precision, recall and F1."""
    tp = np.diag(matrix).astype(np.float64)
    actual, predicted = matrix.sum(axis=1), matrix.sum(axis=0)
    recall, precision = _share(tp, actual), _share(tp, predicted)
    f1 = _share(2.0 * tp, actual + predicted)
    # scikit-learn: balanced accuracy over classes in the labels, macro-F1 over every class
    # seen in the labels or the predictions (all of `keys`: classes come from those two)
    metrics = {
        "accuracy": float(tp.sum() / matrix.sum()),
        "balanced_accuracy": float(np.mean(recall[actual > 0])),
        "macro_f1": float(np.mean(f1)),
    }
    for i, key in enumerate(keys):
        metrics |= {
            f"precision.{key}": float(precision[i]),
            f"recall.{key}": float(recall[i]),
            f"f1.{key}": float(f1[i]),
        }
    return metrics


@dataclass(frozen=True)
class _Rate:
    """One group metric across the groups of a set: counts, and what its denominator counts."""

    name: str
    successes: IntArray
    trials: IntArray
    counted: str  # what the denominator counts, e.g. "rows of class 'water'"
    family: str | None  # the class family whose intervals hold together, or None


def _rates(counts: IntArray, classes: tuple[str, ...], keys: tuple[str, ...]) -> list[_Rate]:
    rows = counts.sum(axis=(1, 2))
    out = [_Rate("accuracy", np.trace(counts, axis1=1, axis2=2), rows, "rows", None)]
    for c, (value, key) in enumerate(zip(classes, keys, strict=True)):
        out.append(
            _Rate(
                f"selection_rate.{key}", counts[:, :, c].sum(axis=1), rows, "rows", "selection_rate"
            )
        )
        out.append(
            _Rate(
                f"recall.{key}",
                counts[:, c, c],
                counts[:, c, :].sum(axis=1),
                f"rows of class {value!r}",
                "recall",
            )
        )
    return out


def _group_estimate(
    rate: _Rate, g: int, limits: tuple[FloatArray, FloatArray], minimum: int
) -> Estimate:
    x, n = int(rate.successes[g]), int(rate.trials[g])
    if n == 0:
        return Estimate(
            value=None,
            undefined=True,
            numerator=0,
            denominator=0,
            assessable=False,
            note=f"no {rate.counted}: the rate is undefined",
        )
    note = None if n >= minimum else f"only {n} {rate.counted} (fewer than {minimum}): not assessed"
    return estimate(x / n, limits[0][g], limits[1][g]).model_copy(
        update={"numerator": x, "denominator": n, "assessable": n >= minimum, "note": note}
    )


def _pairs_of(rate: _Rate) -> int:
    defined = int(np.count_nonzero(rate.trials))
    return defined * (defined - 1) // 2


def _set_warnings(name: str, groups: list[GroupResult], minimum: int) -> list[str]:
    out = [f"{name}: only one group is present, so no disparity can be assessed."] * (
        len(groups) < 2
    )
    for group in groups:
        where = f"{name} = {group.label}"
        if group.small:
            out.append(
                f"{where}: {group.count} rows, fewer than {minimum}; its rates are shown "
                "with their intervals but not assessed."
            )
            continue
        empty = [m for m, e in group.metrics.items() if e.undefined]
        thin = [m for m, e in group.metrics.items() if not e.undefined and not e.assessable]
        if empty:
            out.append(
                f"{where}: no rows of some classes; {', '.join(empty)} undefined, left "
                "out of every comparison."
            )
        if thin:
            out.append(
                f"{where}: {', '.join(thin)} rest on fewer than {minimum} rows of their "
                "class; shown, not assessed."
            )
    return out


def _assess(
    attributes: tuple[str, ...],
    keys: tuple[tuple[str, ...], ...],
    rates: list[_Rate],
    *,
    minimum: int,
    confidence: float | None,
    family_pairs: dict[str, int],
) -> AttributeSetResult:
    labels = [" & ".join(key) for key in keys]
    nan = np.full(len(keys), np.nan)
    limits = {
        r.name: (nan, nan) if confidence is None else wilson(r.successes, r.trials, confidence)
        for r in rates
    }
    results = []
    for g, key in enumerate(keys):
        size = int(rates[0].trials[g])
        results.append(
            GroupResult(
                label=labels[g],
                values=dict(zip(attributes, key, strict=True)),
                count=size,
                small=size < minimum,
                metrics={r.name: _group_estimate(r, g, limits[r.name], minimum) for r in rates},
            )
        )
    disparities = {}
    for rate in rates:
        m = family_pairs[rate.family] if rate.family else _pairs_of(rate)
        level = None if confidence is None or not m else pair_level(confidence, m)
        disparities[rate.name] = rate_disparity(
            rate.name,
            np.where(rate.trials > 0, _share(rate.successes, rate.trials), np.nan),
            (rate.successes, rate.trials),
            labels,
            assessable=rate.trials >= minimum,
            level=level,
            comparisons=m,
        )
    name = " & ".join(attributes)
    return AttributeSetResult(
        name=name,
        key="__".join(slug(a) for a in attributes),
        attributes=attributes,
        groups=tuple(results),
        disparities=disparities,
        warnings=tuple(_set_warnings(name, results, minimum)),
    )


def _checked(y_true: Any, y_pred: Any, sensitive: Any, confidence: float, minimum: int) -> int:
    if not isinstance(sensitive, pd.DataFrame) or sensitive.shape[1] == 0:
        raise DataError("sensitive must be a DataFrame with at least one attribute column")
    rows = len(sensitive)
    if len(y_true) != rows or len(y_pred) != rows or rows == 0:
        raise DataError(
            f"need as many labels, predictions and sensitive rows, at least one: y_true "
            f"{len(y_true)}, y_pred {len(y_pred)}, sensitive {rows}"
        )
    if minimum < 1 or not 0.0 < confidence < 1.0:
        raise ValueError(
            f"need min_group_size >= 1 and 0 < confidence < 1; got {minimum}, {confidence}"
        )
    return rows


def evaluate_multiclass(
    *,
    y_true: Any,
    y_pred: Any,
    sensitive: pd.DataFrame,
    min_group_size: int = 30,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Evaluation:
    """Assess performance and group fairness of class predictions, with score intervals.

    Labels and predictions are class values (compared as text). Classes are every value among
    the labels or the predictions, sorted. ``n_bootstrap=0`` skips the intervals (closed-form,
    so no other value changes them). Rows whose sensitive value is missing form their own group.
    """
    rows = _checked(y_true, y_pred, sensitive, confidence, min_group_size)
    classes, truth, pred = class_codes(y_true, y_pred)
    keys = class_keys(classes)
    k = len(classes)
    frame = sensitive.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    overall = class_counts(truth, pred, np.zeros(rows, dtype=np.intp), 1, k)[0]

    coder = GroupCoder(frame)  # each attribute factorised once for all its sets
    count = partial(_counts, truth, pred, k)
    sets = [
        (attributes, groups, _rates(counts, classes, keys))
        for attributes, groups, counts in set_counts(coder, count)
    ]
    family_pairs = {
        family: sum(_pairs_of(r) for _, _, rates in sets for r in rates if r.family == family)
        for family in CLASS_METRICS
    }
    use = confidence if n_bootstrap else None
    results = tuple(
        _assess(a, g, r, minimum=min_group_size, confidence=use, family_pairs=family_pairs)
        for a, g, r in sets
    )
    return Evaluation(
        task=MULTICLASS,
        rows=rows,
        performance=multiclass_performance(overall, keys),
        confusion_matrix=ClassConfusion(
            classes=classes, keys=keys, matrix=tuple(tuple(int(v) for v in r) for r in overall)
        ),
        attribute_sets=results,
        min_group_size=min_group_size,
        n_bootstrap=n_bootstrap,
        intervals=INTERVALS if n_bootstrap else "",
        confidence=confidence,
        seed=seed,
        warnings=tuple(_overall_warnings(overall, classes, min_group_size)),
    )


def _overall_warnings(matrix: IntArray, classes: tuple[str, ...], minimum: int) -> list[str]:
    actual = matrix.sum(axis=1)
    out = []
    never = [c for c, n in zip(classes, actual, strict=True) if n == 0]
    if never:
        out.append(
            f"The model predicted {', '.join(map(repr, never))}, which no evaluation "
            "row has as its label; those classes have no recall."
        )
    thin = [f"{c!r} ({n})" for c, n in zip(classes, actual, strict=True) if 0 < n < minimum]
    if thin:
        out.append(
            f"Classes with fewer than {minimum} evaluation rows: {', '.join(thin)}; "
            "their recall is not assessed in any group."
        )
    return out
