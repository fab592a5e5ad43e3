"""Coverage of the group-rate and disparity intervals, over hundreds of simulated datasets.

Each test draws counts with known true rates, computes the intervals the evaluation reports,
and checks that they cover the truth at least at the nominal level less three Monte Carlo
standard errors; every interval also contains its own estimate and has width.
"""

from __future__ import annotations

import numpy as np

from sandbox.evaluation.intervals import pair_level, pairs, range_interval, wilson
from tests.statistics.simulate import tolerance

CONFIDENCE = 0.95
DATASETS = 400
#: Group sizes (or rate denominators) of a simulated dataset, from a thin intersection cell
#: to a whole attribute value.
SIZES = np.array([10, 20, 30, 45, 60, 90, 150, 300])


def _counts(seed: int, low: float = 0.05, high: float = 0.95):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    truth = rng.uniform(low, high, size=(DATASETS, len(SIZES)))
    return truth, rng.binomial(SIZES, truth)


def test_wilson_intervals_of_group_rates_cover_at_the_nominal_level() -> None:
    truth, x = _counts(1)
    n = np.broadcast_to(SIZES, x.shape)
    low, high = wilson(x, n, CONFIDENCE)
    covered = (low <= truth) & (truth <= high)
    coverage = float(covered.mean())
    print(f"wilson coverage {coverage:.4f} over {covered.size} intervals")
    assert coverage >= CONFIDENCE - tolerance(CONFIDENCE, covered.size)
    p = x / n
    assert ((low <= p) & (p <= high) & (high > low)).all()
    # thin groups are where a Wald interval collapses; the score interval keeps its width
    for size in (10, 20, 30):
        column = SIZES.tolist().index(size)
        assert covered[:, column].mean() >= CONFIDENCE - tolerance(CONFIDENCE, DATASETS)


def _pairwise(seed: int, measure: str, low: float, high: float) -> tuple[float, int]:
    truth, x = _counts(seed, low, high)
    covered = []
    for run in range(DATASETS):
        found = pairs(x[run], SIZES, confidence=CONFIDENCE, measure=measure)  # type: ignore[arg-type]
        p, t = x[run] / SIZES, truth[run]
        if measure == "difference":
            estimate, true = p[found.high] - p[found.low], t[found.high] - t[found.low]
        else:
            estimate, true = p[found.low] / p[found.high], t[found.low] / t[found.high]
        np.testing.assert_allclose(found.value, estimate)
        assert ((found.ci_low <= found.value) & (found.value <= found.ci_high)).all()
        covered.append((found.ci_low <= true) & (true <= found.ci_high))
    flat = np.concatenate(covered)
    return float(flat.mean()), flat.size


def test_newcombe_intervals_of_differences_cover_at_the_nominal_level() -> None:
    coverage, count = _pairwise(2, "difference", 0.05, 0.95)
    print(f"newcombe coverage {coverage:.4f} over {count} intervals")
    assert coverage >= CONFIDENCE - tolerance(CONFIDENCE, count)


def test_mover_r_intervals_of_ratios_cover_at_the_nominal_level() -> None:
    coverage, count = _pairwise(3, "ratio", 0.1, 0.9)
    print(f"mover-r coverage {coverage:.4f} over {count} intervals")
    assert coverage >= CONFIDENCE - tolerance(CONFIDENCE, count)


def test_reported_disparity_intervals_cover_the_true_largest_gap() -> None:
    """The report's max - min and min / max intervals, six groups of about 60 rows."""
    rng = np.random.default_rng(4)
    hits = {"difference": 0, "ratio": 0}
    for _ in range(DATASETS):
        sizes = rng.multinomial(360, np.full(6, 1 / 6))
        # half the datasets have no disparity at all, half have spread-out rates
        truth = (
            np.full(6, rng.uniform(0.2, 0.8)) if rng.random() < 0.5 else rng.uniform(0.2, 0.8, 6)
        )
        x = rng.binomial(sizes, truth)
        level = pair_level(CONFIDENCE, 15)
        for measure, true in (
            ("difference", truth.max() - truth.min()),
            ("ratio", truth.min() / truth.max()),
        ):
            found = pairs(x, sizes, confidence=level, measure=measure)  # type: ignore[arg-type]
            low, high = range_interval(found)
            p = x / sizes
            estimate = p.max() - p.min() if measure == "difference" else p.min() / p.max()
            assert low <= estimate + 1e-12 and estimate <= high + 1e-12
            hits[measure] += int(low <= true <= high)
    for measure, count in hits.items():
        coverage = count / DATASETS
        print(f"{measure} range coverage {coverage:.4f} over {DATASETS} datasets")
        assert coverage >= CONFIDENCE - tolerance(CONFIDENCE, DATASETS)
