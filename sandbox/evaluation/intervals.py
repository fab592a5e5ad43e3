"""Score confidence intervals for group rates and for disparities between groups.

Every group metric of a binary classifier is a proportion ``x / n`` (selected rows over rows,
true positives over actual positives, ...), so its uncertainty has closed forms that behave
well for the small counts intersectional groups have:

* a group rate: the **Wilson score interval** (Wilson 1927; recommended by Brown, Cai and
  DasGupta 2001 and Agresti and Coull 1998 over the Wald interval, which collapses to zero width
  at 0 or n successes);
* a difference of two groups' rates: **Newcombe's hybrid score interval** (Newcombe 1998,
  method 10), built from the two Wilson intervals;
* a ratio of two groups' rates: **MOVER-R** (Donner and Zou 2012) with Wilson limits, the same
  construction for a ratio.

Each interval contains its own point estimate by construction and is never of zero width for a
group with rows. Intervals that must hold *together* (every pair of groups of an attribute set,
or of a whole run) use a Bonferroni-adjusted level, see :func:`pair_level`. The simulation tests
in ``tests/statistics/`` measure the coverage of each (``docs/statistics.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from statistics import NormalDist
from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "Pairs",
    "newcombe_difference",
    "pair_level",
    "pairs",
    "range_interval",
    "ratio_interval",
    "wilson",
    "z_value",
]

FloatArray = npt.NDArray[np.float64]
Measure = Literal["difference", "ratio"]


def z_value(confidence: float) -> float:
    """The two-sided standard-normal quantile for ``confidence`` (1.96 for 0.95)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    return _normal_quantile(0.5 + confidence / 2.0)


@cache
def _normal_quantile(probability: float) -> float:
    """The standard-normal quantile: Wichura's AS 241 as the standard library implements it.

    It agrees with ``scipy.stats.norm.ppf`` to within 2e-15 (a few units in the last place),
    and costs no import: ``scipy.special`` alone takes a quarter of a second to load, longer
    than a whole small audit spends computing.
    """
    return NormalDist().inv_cdf(probability)


def pair_level(confidence: float, comparisons: int) -> float:
    """Per-comparison confidence so that ``comparisons`` intervals hold together (Bonferroni)."""
    return 1.0 - (1.0 - confidence) / max(comparisons, 1)


def wilson(
    successes: npt.ArrayLike, trials: npt.ArrayLike, confidence: float
) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval of ``successes / trials``; NaN where ``trials`` is 0."""
    x = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    z2 = z_value(confidence) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
        scale = 1.0 + z2 / n
        centre = (p + z2 / (2.0 * n)) / scale
        half = np.sqrt(z2 * p * (1.0 - p) / n + z2 * z2 / (4.0 * n * n)) / scale
    # rounding must never push the estimate outside its own interval
    low = np.clip(centre - half, 0.0, p)
    high = np.clip(centre + half, p, 1.0)
    empty = n <= 0
    low[empty] = np.nan
    high[empty] = np.nan
    return low, high


def newcombe_difference(
    p1: FloatArray, low1: FloatArray, high1: FloatArray,
    p2: FloatArray, low2: FloatArray, high2: FloatArray,
) -> tuple[FloatArray, FloatArray]:  # fmt: skip
    """Newcombe's hybrid score interval of ``p1 - p2`` from each rate's Wilson limits."""
    d = p1 - p2
    low = d - np.sqrt((p1 - low1) ** 2 + (high2 - p2) ** 2)
    high = d + np.sqrt((high1 - p1) ** 2 + (p2 - low2) ** 2)
    return np.minimum(low, d), np.maximum(high, d)


def ratio_interval(
    p1: FloatArray, low1: FloatArray, high1: FloatArray,
    p2: FloatArray, low2: FloatArray, high2: FloatArray,
) -> tuple[FloatArray, FloatArray]:  # fmt: skip
    """MOVER-R interval of ``p1 / p2`` from each rate's Wilson limits; NaN where ``p2`` is 0.

    The limits are the roots of ``(p1 - R p2)^2 = (p1 - l1)^2 + R^2 (u2 - p2)^2`` (lower) and
    ``(p1 - R p2)^2 = (u1 - p1)^2 + R^2 (p2 - l2)^2`` (upper), written in the forms that stay
    stable when ``u2 > 2 p2`` or ``p1 = 0``.
    """
    b = p1 * p2
    a_low = high2 * (2.0 * p2 - high2)
    c_low = low1 * (2.0 * p1 - low1)
    a_high = low2 * (2.0 * p2 - low2)
    c_high = high1 * (2.0 * p1 - high1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = p1 / p2
        low = np.where(p1 > 0, c_low / (b + np.sqrt(np.maximum(b * b - a_low * c_low, 0.0))), 0.0)
        high = (b + np.sqrt(np.maximum(b * b - a_high * c_high, 0.0))) / a_high
    undefined = ~(p2 > 0)
    low = np.where(undefined, np.nan, np.minimum(low, ratio))
    high = np.where(undefined, np.nan, np.maximum(high, ratio))
    return low, high


@dataclass(frozen=True)
class Pairs:
    """Every pair of groups, higher rate first: estimates and intervals of one measure.

    ``high[k]`` and ``low[k]`` index the groups of pair ``k``; ``value`` is their difference
    (higher minus lower) or ratio (lower over higher).
    """

    measure: Measure
    high: npt.NDArray[np.intp]
    low: npt.NDArray[np.intp]
    value: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray

    def __len__(self) -> int:
        return len(self.value)


def pairs(
    successes: npt.ArrayLike, trials: npt.ArrayLike, *, confidence: float, measure: Measure
) -> Pairs:
    """Each pair's difference or ratio with its interval at ``confidence`` (per pair).

    Groups with no trials are left out. A ratio pair whose higher rate is 0 is left out too
    (0 / 0 is not a number).
    """
    x = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    keep = np.flatnonzero(n > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
    lo, hi = wilson(x, n, confidence)
    first, second = np.triu_indices(len(keep), k=1)
    i, j = keep[first], keep[second]
    swap = p[j] > p[i]
    high, low = np.where(swap, j, i), np.where(swap, i, j)
    if measure == "difference":
        args = (p[high], lo[high], hi[high], p[low], lo[low], hi[low])
        value = p[high] - p[low]
        ci_low, ci_high = newcombe_difference(*args)
    else:
        defined = p[high] > 0
        high, low = high[defined], low[defined]
        with np.errstate(invalid="ignore", divide="ignore"):
            value = p[low] / p[high]
        ci_low, ci_high = ratio_interval(p[low], lo[low], hi[low], p[high], lo[high], hi[high])
    return Pairs(measure, high.astype(np.intp), low.astype(np.intp), value, ci_low, ci_high)


def range_interval(found: Pairs) -> tuple[float, float]:
    """Interval of the largest disparity (max - min, or min / max) from simultaneous pairs.

    When every pair's interval holds, the true max - min lies in
    ``[max of the lower limits, max of the upper limits]`` over both orders of each pair (and
    min / max likewise), so this interval holds at least as often as the pairs' together, and
    it contains the estimate because every pair's interval contains its own.
    """
    if not len(found):
        return float("nan"), float("nan")
    low, high = found.ci_low, found.ci_high
    with np.errstate(divide="ignore"):
        if found.measure == "difference":
            # the reversed pair's interval is [-high, -low]; a range is never negative
            lower = max(float(np.max(np.maximum(low, -high))), 0.0)
            upper = float(np.max(np.maximum(high, -low)))
        else:
            # the reversed pair's interval is [1 / high, 1 / low]; min / max is never above 1
            lower = float(np.min(np.minimum(low, 1.0 / high)))
            upper = min(float(np.min(np.minimum(high, 1.0 / low))), 1.0)
    return lower, upper
