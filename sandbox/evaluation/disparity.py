"""The disparity between groups: the difference and the ratio of their highest and lowest value.

Apart from `fairness.py` (which needs pandas to code groups) so that the report's model, which
computes disparities as it is built, loads with numpy alone.
"""

from __future__ import annotations

import warnings

import numpy as np
import numpy.typing as npt

__all__ = ["FOUR_FIFTHS", "between_groups"]

FloatArray = npt.NDArray[np.float64]

#: Selection-rate ratio below which the four-fifths rule flags a disparity.
FOUR_FIFTHS = 0.8


def between_groups(values: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``(max - min, min / max)`` over the last axis, ignoring NaN (absent groups).

    Matches ``MetricFrame.difference()`` / ``.ratio()`` with ``method="between_groups"``:
    a ratio whose maximum is 0 is NaN.
    """
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices give NaN
        high = np.nanmax(values, axis=-1)
        low = np.nanmin(values, axis=-1)
        return np.asarray(high - low), np.asarray(low / high)
