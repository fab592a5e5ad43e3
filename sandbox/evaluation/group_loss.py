"""A group's mean absolute error relative to the overall one, with an interval.

In the spirit of bounded group loss (Agarwal, Dudík and Wu 2019: no group's loss above a
bound), the regression gate compares each group's MAE with the MAE over all rows:
``R = MAE_group / MAE_all``. The group's rows are part of all rows, so the two means are not
independent; the group and *the rest* are. With ``w`` the group's share of rows and
``Q = MAE_group / MAE_rest``, ``MAE_all = w MAE_group + (1 - w) MAE_rest``, hence
``R = Q / (w Q + 1 - w)``, which increases with ``Q``. A MOVER-R interval for ``Q`` from the
two independent t-intervals (Donner and Zou 2012) therefore maps limit by limit onto an
interval for ``R`` with the same coverage. The rest's mean and spread come from the other
groups of the same attribute set (every attribute set partitions the rows), so the gate needs
only each group's count, MAE and the standard deviation of its absolute errors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sandbox.evaluation.intervals import ratio_interval
from sandbox.evaluation.regression import t_interval

__all__ = ["RelativeError", "relative_errors"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class RelativeError:
    """Each group's MAE over the overall MAE, with its interval at the level asked."""

    value: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray


def relative_errors(
    counts: npt.ArrayLike, means: npt.ArrayLike, sds: npt.ArrayLike, *, confidence: float
) -> RelativeError:
    """``MAE_g / MAE_all`` for every group of one attribute set, each with its interval.

    `counts`, `means` and `sds` describe every group of the set (together: all rows); `sds` is
    the standard deviation (ddof=1) of each group's absolute errors, NaN for a single row.
    The interval is NaN where the group or the rest has fewer than two rows.
    """
    n = np.asarray(counts, dtype=np.float64)
    m = np.asarray(means, dtype=np.float64)
    s = np.nan_to_num(np.asarray(sds, dtype=np.float64), nan=0.0)
    total = n.sum()
    sums = n * m
    squares = np.where(n >= 2, (n - 1.0) * s**2, 0.0) + n * m**2  # each group's sum of a^2
    with np.errstate(invalid="ignore", divide="ignore"):
        m_all = sums.sum() / total
        n_rest = total - n
        m_rest = (sums.sum() - sums) / n_rest
        var_rest = (squares.sum() - squares - n_rest * m_rest**2) / (n_rest - 1.0)
        s_rest = np.sqrt(np.maximum(var_rest, 0.0))
        value = m / m_all
    g_low, g_high = t_interval(m, s, n, confidence)
    r_low, r_high = t_interval(m_rest, s_rest, n_rest, confidence)
    q_low, q_high = ratio_interval(
        m, np.maximum(g_low, 0.0), g_high, m_rest, np.maximum(r_low, 0.0), r_high
    )
    w = n / total

    def to_overall(q: FloatArray) -> FloatArray:
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            # an unbounded Q (the rest's MAE may be 0) means the group holds all the error
            mapped: FloatArray = np.where(np.isposinf(q), 1.0 / w, q / (w * q + 1.0 - w))
        return mapped

    undefined = (n < 2) | (n_rest < 2)
    low = np.where(undefined, np.nan, np.minimum(to_overall(q_low), value))
    high = np.where(undefined, np.nan, np.maximum(to_overall(q_high), value))
    return RelativeError(value=value, ci_low=low, ci_high=high)
