"""Score intervals: published values, estimates inside, width, and the range interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sandbox.evaluation.binary import evaluate_binary
from sandbox.evaluation.intervals import (
    newcombe_difference,
    pair_level,
    pairs,
    range_interval,
    ratio_interval,
    wilson,
    z_value,
)


def test_wilson_matches_published_values_and_never_collapses() -> None:
    low, high = wilson([0, 5, 39], [10, 10, 39], 0.95)
    np.testing.assert_allclose(low, [0.0, 0.2366, 0.9103], atol=1e-4)
    np.testing.assert_allclose(high, [0.2775, 0.7634, 1.0], atol=1e-4)
    empty_low, empty_high = wilson([0], [0], 0.95)
    assert np.isnan(empty_low).all() and np.isnan(empty_high).all()


def test_newcombe_matches_newcombe_1998_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 - 48/80, method 10
    l1, u1 = wilson([56], [70], 0.95)
    l2, u2 = wilson([48], [80], 0.95)
    low, high = newcombe_difference(np.array([0.8]), l1, u1, np.array([0.6]), l2, u2)
    assert low[0] == pytest.approx(0.0524, abs=1e-4)
    assert high[0] == pytest.approx(0.3339, abs=1e-4)


def _root_ratio(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """MOVER-R limits by brute force: where the MOVER difference interval of p1 - R p2 has 0."""
    p1, p2 = x1 / n1, x2 / n2
    (l1,), (u1,) = wilson([x1], [n1], 0.95)
    (l2,), (u2,) = wilson([x2], [n2], 0.95)
    grid = np.linspace(1e-6, 5, 2_000_001)
    lower_gap = (p1 - grid * p2) - np.sqrt((p1 - l1) ** 2 + grid**2 * (u2 - p2) ** 2)
    upper_gap = (p1 - grid * p2) + np.sqrt((u1 - p1) ** 2 + grid**2 * (p2 - l2) ** 2)
    return float(grid[lower_gap > 0].max(initial=0.0)), float(grid[upper_gap >= 0].max())


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2"), [(13, 40, 70, 140), (3, 50, 4, 12), (0, 30, 9, 30)]
)
def test_mover_r_ratio_solves_its_defining_equations(x1: int, n1: int, x2: int, n2: int) -> None:
    (l1,), (u1,) = wilson([x1], [n1], 0.95)
    (l2,), (u2,) = wilson([x2], [n2], 0.95)
    args = [np.array([v]) for v in (x1 / n1, l1, u1, x2 / n2, l2, u2)]
    low, high = ratio_interval(*args)
    expected = _root_ratio(x1, n1, x2, n2)
    assert low[0] == pytest.approx(expected[0], abs=1e-5)
    assert high[0] == pytest.approx(expected[1], abs=1e-5)
    assert low[0] <= (x1 / n1) / (x2 / n2) <= high[0]


def test_pairs_put_the_higher_rate_first_and_skip_empty_groups() -> None:
    found = pairs([10, 30, 0], [50, 60, 0], confidence=0.95, measure="difference")
    assert len(found) == 1
    assert (found.high[0], found.low[0]) == (1, 0)
    assert found.value[0] == pytest.approx(0.5 - 0.2)
    ratios = pairs([0, 0, 5], [10, 10, 10], confidence=0.95, measure="ratio")
    assert len(ratios) == 2  # the pair of two zero rates has no ratio


def test_range_interval_contains_the_max_minus_min_and_widens_with_more_pairs() -> None:
    x, n = np.array([12, 20, 31, 25]), np.array([60, 61, 58, 60])
    p = x / n
    narrow = range_interval(pairs(x, n, confidence=0.95, measure="difference"))
    wide = range_interval(pairs(x, n, confidence=pair_level(0.95, 6), measure="difference"))
    assert wide[0] <= narrow[0] <= p.max() - p.min() <= narrow[1] <= wide[1]
    low, high = range_interval(pairs(x, n, confidence=0.95, measure="ratio"))
    assert low <= p.min() / p.max() <= high <= 1.0
    assert z_value(0.95) == pytest.approx(1.959964)


def test_a_group_with_no_false_positives_has_an_interval_with_width() -> None:
    # 39 negatives, none predicted positive: FPR 0 with a Wilson interval [0, 0.09]
    sensitive = pd.DataFrame({"g": ["a"] * 39 + ["b"] * 60})
    y_true = np.r_[np.zeros(39, dtype=int), np.tile([0, 1], 30)]
    y_pred = np.r_[np.zeros(39, dtype=int), np.tile([1, 1], 30)]
    evaluation = evaluate_binary(y_true=y_true, y_pred=y_pred, sensitive=sensitive)
    fpr = evaluation.attribute_set("g").groups[0].metrics["fpr"]
    assert fpr.value == 0.0 and fpr.ci_low == 0.0
    assert fpr.ci_high == pytest.approx(0.0898, abs=1e-3)
    assert (fpr.numerator, fpr.denominator, fpr.assessable) == (0, 39, True)
