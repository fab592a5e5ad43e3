"""The error metrics of every group of a regression evaluation, float for float MetricFrame's.

``MetricFrame`` calls scikit-learn's ``mean_absolute_error`` and ``mean_squared_error`` on
each group's rows in their original order, and those sum pairwise. A per-group sum with
``np.bincount(weights=...)`` adds the rows one by one, so its result differs in the last bits
(on 1M rows and 50 groups, 49 of the 50 MAEs differed). The exact steps therefore stay
(`error_metrics.py` takes scikit-learn's own); what is saved is the copying.
:func:`grouped_errors` sorts the rows by group once (stably, so each group keeps its rows in
their original order) and hands each group contiguous views of the sorted labels and
predictions: the same numbers in the same order, so the same floats.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import numpy.typing as npt

from sandbox.evaluation.error_metrics import mean_absolute_error, mean_squared_error

__all__ = ["GroupErrors", "group_errors", "grouped_errors"]

FloatArray = npt.NDArray[np.float64]
#: Per metric, (value, sd of the per-row terms it averages).
GroupErrors = dict[str, tuple[float, float]]


def _stable_order(codes: npt.NDArray[np.intp], n_groups: int) -> npt.NDArray[np.intp]:
    """Row order by group, rows of a group in input order.

    Narrow integer keys sort by radix in NumPy; any stable sort of the same keys gives the
    same order.
    """
    narrow = np.int16 if n_groups <= np.iinfo(np.int16).max else np.int64
    return np.argsort(codes.astype(narrow, copy=False), kind="stable")


def group_errors(truth: FloatArray, pred: FloatArray) -> GroupErrors:
    """Each group metric of one group's rows: (value, sd of the per-row terms it averages).

    The values are scikit-learn's functions on the rows as given (as ``MetricFrame`` calls
    them); the RMSE's sd is that of the squared errors, whose mean is the MSE.
    """
    n = len(truth)
    # per group, not for all rows at once: the peak stays one group's worth of terms
    error = pred - truth

    def sd(terms: FloatArray) -> float:
        return float(np.std(terms, ddof=1)) if n >= 2 else float("nan")

    mse = float(mean_squared_error(truth, pred))
    return {
        "mae": (float(mean_absolute_error(truth, pred)), sd(np.abs(error))),
        "mean_error": (float(np.mean(error)), sd(error)),
        "rmse": (float(np.sqrt(mse)), sd(error**2)),
        "mean_label": (float(np.mean(truth)), sd(truth)),
        "mean_prediction": (float(np.mean(pred)), sd(pred)),
    }


def grouped_errors(
    truth: FloatArray, pred: FloatArray, codes: npt.NDArray[np.intp], counts: npt.NDArray[np.int64]
) -> list[GroupErrors]:
    """:func:`group_errors` of every group (``counts[g]`` rows coded ``g``), from one sort."""
    order = _stable_order(codes, len(counts))
    truth, pred = truth[order], pred[order]
    del order  # the sorted copies are all that is needed from here
    starts = np.concatenate(([0], np.cumsum(counts)))
    return [group_errors(truth[a:b], pred[a:b]) for a, b in pairwise(int(v) for v in starts)]
