"""Coverage of the regression group intervals and false alarms of the group-error gate.

Errors are drawn from known distributions (normal, and a skewed shifted exponential), so every
true group MAE, mean error and RMSE is known in closed form. The gate is simulated on the grid
of the binary gates (6 areas x 5 age bands, 30 cells of about 60 rows) with the functions the
rule uses; ``tests/unit/policies/test_group_loss.py`` checks the rule itself on evaluations.
"""

from __future__ import annotations

import numpy as np
import pytest

from sandbox.evaluation.group_loss import relative_errors
from sandbox.evaluation.intervals import pair_level
from sandbox.evaluation.regression import t_interval
from tests.statistics.simulate import tolerance

CONFIDENCE = 0.95
DATASETS = 2000
SCALE = 3.0
#: Per distribution: a draw of errors, the true MAE, mean error and RMSE.
DISTRIBUTIONS = {
    "normal": (lambda rng, shape: rng.normal(0.0, SCALE, shape), SCALE * np.sqrt(2 / np.pi)),
    "skewed": (lambda rng, shape: SCALE * (rng.exponential(1.0, shape) - 1.0), SCALE * 2 / np.e),
}


def _coverage(kind: str, n: int, seed: int) -> dict[str, float]:
    draw, true_mae = DISTRIBUTIONS[kind]
    errors = draw(np.random.default_rng(seed), (DATASETS, n))
    out = {}
    for metric, terms, truth in (
        ("mae", np.abs(errors), true_mae),
        ("mean_error", errors, 0.0),
    ):
        low, high = t_interval(terms.mean(1), terms.std(1, ddof=1), n, CONFIDENCE)
        out[metric] = float(((low <= truth) & (truth <= high)).mean())
    return out


@pytest.mark.parametrize("n", [30, 60, 150, 300])
def test_t_intervals_cover_at_the_nominal_level_for_symmetric_errors(n: int) -> None:
    found = _coverage("normal", n, seed=n)
    print(f"normal errors, n={n}: {found}")
    for metric, coverage in found.items():
        assert coverage >= CONFIDENCE - tolerance(CONFIDENCE, DATASETS), metric


@pytest.mark.parametrize(("n", "floor"), [(30, 0.89), (60, 0.91), (150, 0.92), (300, 0.93)])
def test_t_intervals_run_below_nominal_for_skewed_errors_as_documented(
    n: int, floor: float
) -> None:
    # docs/statistics.md states these floors: a t-interval of a skewed mean under-covers
    # for small groups and approaches the nominal level as the group grows
    found = _coverage("skewed", n, seed=100 + n)
    print(f"skewed errors, n={n}: {found}")
    for metric, coverage in found.items():
        assert coverage >= floor - tolerance(floor, DATASETS), metric


RUNS = 1000
AREAS, AGES, ROWS_PER_CELL = 6, 5, 60


def _gate_blocks(
    rng: np.random.Generator, *, max_ratio: float, area_scale: float = 1.0, kind: str = "normal"
) -> float:
    """Share of simulated runs in which the group-error gate blocks."""
    draw, _ = DISTRIBUTIONS[kind]
    rows = AREAS * AGES * ROWS_PER_CELL
    blocked = 0
    for _ in range(RUNS):
        area = rng.integers(0, AREAS, rows)
        age = rng.integers(0, AGES, rows)
        errors = np.abs(draw(rng, rows) * np.where(area == 0, area_scale, 1.0))
        sets = [area, age, area * AGES + age]
        stats = []
        for codes in sets:
            _, codes = np.unique(codes, return_inverse=True)
            n = np.bincount(codes)
            mean = np.bincount(codes, errors) / n
            square = np.bincount(codes, errors**2)
            sd = np.sqrt(np.maximum(square - n * mean**2, 0.0) / (n - 1))
            stats.append((n, mean, sd))
        checked = sum(int((n >= 30).sum()) for n, _, _ in stats)
        level = pair_level(CONFIDENCE, checked)
        for n, mean, sd in stats:
            found = relative_errors(n, mean, sd, confidence=level)
            if ((found.ci_low > max_ratio) & (n >= 30)).any():
                blocked += 1
                break
    return blocked / RUNS


@pytest.mark.parametrize("kind", ["normal", "skewed"])
def test_gate_false_alarms_stay_below_alpha_when_every_group_errs_alike(kind: str) -> None:
    rng = np.random.default_rng(7)
    alpha = 1 - CONFIDENCE
    strict = _gate_blocks(rng, max_ratio=1.0, kind=kind)  # any excess at all: the worst case
    default = _gate_blocks(rng, max_ratio=1.25, kind=kind)
    print(f"{kind}: blocked at ceiling 1.0 {strict:.4f}, at 1.25 {default:.4f}")
    assert strict <= alpha + tolerance(alpha, RUNS)
    assert default <= strict


def test_gate_catches_an_area_whose_errors_are_much_larger() -> None:
    rng = np.random.default_rng(8)
    # area 0's errors are 1.6 (2.0) times the others': its MAE is 1.45 (1.71) times the overall
    moderate = _gate_blocks(rng, max_ratio=1.25, area_scale=1.6)
    large = _gate_blocks(rng, max_ratio=1.25, area_scale=2.0)
    print(f"power at 1.25: scale 1.6 -> {moderate:.3f}, scale 2.0 -> {large:.3f}")
    assert large >= 0.95
    assert moderate >= 0.3
