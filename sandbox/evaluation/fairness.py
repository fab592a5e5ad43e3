"""Group fairness metrics computed from per-group confusion counts.

Every standard group metric of a binary classifier is a function of four counts per group
(true/false positives/negatives). One ``np.bincount`` over ``(group, y_true, y_pred)`` gives
all of them, so a million rows take milliseconds instead of the tens of seconds that
fairlearn's ``MetricFrame`` needs to call a metric function per group.

The numbers are *the same* as fairlearn's, float for float (the unit tests prove it against
``MetricFrame``): the same divisions of the same integers, and the same zero-division
convention (scikit-learn's: a rate whose denominator is empty is reported as ``0.0``). Such
conventional zeros are flagged by :func:`undefined_mask`; the evaluation reports them as
undefined (no value), never as a measured 0.

:func:`partition` (from :mod:`sandbox.evaluation.groups`) gives the group codes.
:func:`rate_parts` gives each rate's numerator and denominator, from which
:mod:`sandbox.evaluation.intervals` computes score intervals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from sandbox.errors import DataError
from sandbox.evaluation.disparity import FOUR_FIFTHS, between_groups
from sandbox.evaluation.groups import MISSING, Partition, partition

__all__ = [
    "CELLS",
    "DENOMINATOR",
    "EMPTY_DENOMINATOR",
    "FOUR_FIFTHS",
    "METRICS",
    "MISSING",
    "GroupTable",
    "Partition",
    "between_groups",
    "confusion_counts",
    "group_metrics",
    "group_table",
    "partition",
    "rate_parts",
    "undefined_mask",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Order of the four cells of a group: index ``2 * y_true + y_pred``.
CELLS = ("tn", "fp", "fn", "tp")
#: The rate metrics, each matching a fairlearn / scikit-learn function in ``MetricFrame``.
METRICS = ("selection_rate", "tpr", "fpr", "fnr", "precision", "accuracy")


@dataclass(frozen=True)
class GroupTable:
    """Confusion counts of each group of one attribute set: the ``MetricFrame`` equivalent."""

    attributes: tuple[str, ...]
    keys: tuple[tuple[str, ...], ...]
    counts: IntArray

    def metrics(self) -> dict[str, FloatArray]:
        """Per-group value of every metric in :data:`METRICS` (as ``MetricFrame.by_group``)."""
        return group_metrics(self.counts)

    def disparities(self) -> dict[str, tuple[float, float]]:
        """Per metric, ``(difference, ratio)`` between groups (``method="between_groups"``)."""
        out: dict[str, tuple[float, float]] = {}
        for name, values in self.metrics().items():
            difference, ratio = between_groups(values)
            out[name] = (float(difference), float(ratio))
        return out


def _binary(values: Any, name: str) -> npt.NDArray[np.int8]:
    """Labels as 0/1 integers (a byte a row); anything else is a data error."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise DataError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.dtype == np.bool_:
        return array.astype(np.int8)
    if array.dtype.kind in "iu":  # the same test as isin's, without its passes
        valid = not len(array) or (int(array.min()) >= 0 and int(array.max()) <= 1)
    else:
        valid = array.dtype.kind == "f" and bool(np.isin(array, (0, 1)).all())
    if not valid:
        found = sorted({str(v) for v in pd.unique(array)[:5]})
        raise DataError(f"{name} must hold binary labels 0/1; found values such as {found}")
    return array.astype(np.int8, copy=False)


def confusion_counts(
    y_true: Any, y_pred: Any, codes: npt.NDArray[np.intp], n_groups: int
) -> IntArray:
    """Per-group ``(tn, fp, fn, tp)`` counts, shape ``(n_groups, 4)``, from one bincount."""
    truth = _binary(y_true, "y_true")
    pred = _binary(y_pred, "y_pred")
    if not len(truth) == len(pred) == len(codes):
        raise DataError(
            f"lengths differ: y_true {len(truth)}, y_pred {len(pred)}, groups {len(codes)}"
        )
    cells = codes * 4 + truth * 2 + pred
    counts = np.bincount(cells, minlength=n_groups * 4).astype(np.int64)
    return counts.reshape(n_groups, 4)


def _rate(numerator: IntArray, denominator: IntArray, present: BoolArray) -> FloatArray:
    """``numerator / denominator``; 0.0 on an empty denominator, NaN for an absent group."""
    out = np.zeros(np.shape(numerator), dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    out[~present] = np.nan
    return out


def rate_parts(counts: IntArray) -> dict[str, tuple[IntArray, IntArray]]:
    """Per metric in :data:`METRICS`, the ``(numerator, denominator)`` counts of each group."""
    tn, fp, fn, tp = (counts[..., i] for i in range(4))
    n = tn + fp + fn + tp
    return {
        "selection_rate": (tp + fp, n),
        "tpr": (tp, tp + fn),
        "fpr": (fp, fp + tn),
        "fnr": (fn, tp + fn),
        "precision": (tp, tp + fp),
        "accuracy": (tp + tn, n),
    }


#: What an empty denominator means for each metric, in words.
EMPTY_DENOMINATOR = {
    "selection_rate": "no rows",
    "tpr": "no actual positives",
    "fpr": "no actual negatives",
    "fnr": "no actual positives",
    "precision": "no predicted positives",
    "accuracy": "no rows",
}
#: What each metric's denominator counts, in words.
DENOMINATOR = {
    "selection_rate": "rows",
    "tpr": "actual positives",
    "fpr": "actual negatives",
    "fnr": "actual positives",
    "precision": "predicted positives",
    "accuracy": "rows",
}


def group_metrics(counts: IntArray) -> dict[str, FloatArray]:
    """Every metric in :data:`METRICS` from counts of shape ``(..., groups, 4)``.

    A group with no rows gets NaN; a non-empty group with an empty denominator gets 0.0, as
    fairlearn and scikit-learn report it (:func:`undefined_mask` marks those).
    """
    present = counts.sum(axis=-1) > 0
    return {name: _rate(num, den, present) for name, (num, den) in rate_parts(counts).items()}


def undefined_mask(counts: IntArray) -> dict[str, BoolArray]:
    """Per metric, which groups' values are conventional zeros (empty denominator)."""
    return {name: den == 0 for name, (_, den) in rate_parts(counts).items()}


def group_table(
    y_true: Any, y_pred: Any, sensitive: pd.DataFrame, attributes: Sequence[str] | None = None
) -> GroupTable:
    """Group counts of one attribute set, straight from labels and sensitive columns."""
    groups = partition(sensitive, attributes)
    counts = confusion_counts(y_true, y_pred, groups.codes, groups.n_groups)
    return GroupTable(attributes=groups.attributes, keys=groups.keys, counts=counts)
