"""A regression's error metrics as scikit-learn computes them, without importing it.

`mean_absolute_error`, `mean_squared_error` and `r2_score` take scikit-learn's own numpy steps
for one output (the values as an n x 1 column, its mean over the rows, R²'s finite
convention), so they return its floats bit for bit (a property test compares them), while
importing `sklearn.metrics` costs a command about two seconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["mean_absolute_error", "mean_squared_error", "r2_score"]


def mean_absolute_error(truth: npt.ArrayLike, pred: npt.ArrayLike) -> float:
    """scikit-learn's `mean_absolute_error` of one output."""
    import numpy as np

    t, p = _columns(truth, pred)
    return float(np.mean(np.mean(np.abs(p - t), axis=0)))


def mean_squared_error(truth: npt.ArrayLike, pred: npt.ArrayLike) -> float:
    """scikit-learn's `mean_squared_error` of one output."""
    import numpy as np

    t, p = _columns(truth, pred)
    return float(np.mean(np.mean((t - p) ** 2, axis=0)))


def r2_score(truth: npt.ArrayLike, pred: npt.ArrayLike) -> float:
    """scikit-learn's `r2_score` of one output (`force_finite`: 1.0 for perfect predictions,
    0.0 for imperfect ones of a constant label; NaN below two rows)."""
    import numpy as np

    t, p = _columns(truth, pred)
    if len(t) < 2:
        return float("nan")
    numerator = float(np.sum((t - p) ** 2, axis=0)[0])
    denominator = float(np.sum((t - np.mean(t, axis=0)) ** 2, axis=0)[0])
    if numerator == 0:
        return 1.0
    if denominator == 0:
        return 0.0
    return float(1 - numerator / denominator)


def _columns(
    truth: npt.ArrayLike, pred: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Both as float64 columns of one output, as scikit-learn's target checks shape them."""
    import numpy as np

    t = np.asarray(truth, dtype=np.float64).reshape(-1, 1)
    p = np.asarray(pred, dtype=np.float64).reshape(-1, 1)
    if t.shape != p.shape:
        raise ValueError(f"truth and pred differ in length: {len(t)} and {len(p)}")
    return t, p
