"""Seeded simulations of the ranking's interval and gates (``docs/statistics.md``, "Ranking").

- the lift interval covers the true lift at its nominal level;
- the lift rule passes a list chosen at random (true lift 1) in at most alpha of runs (near
  alpha / 2, its one-sided level, once the list holds a few positives), and passes a list at
  lift 1.6 in most runs;
- the fairness gates at the budget keep their family-wise false-alarm bound when the top k are
  chosen without regard to group: a fixed-size list makes the groups' selected counts
  multivariate hypergeometric, not independent binomials, and the bound still holds.
"""

from __future__ import annotations

import numpy as np

from sandbox.evaluation.ranking import lift_interval
from tests.statistics.simulate import attribute_sets, gate_blocks, tolerance

ALPHA = 0.05


def test_the_lift_interval_covers_the_true_lift() -> None:
    rng = np.random.default_rng(20240611)
    draws = 4000
    rows = rng.integers(200, 3000, draws)
    share = rng.uniform(0.05, 0.5, draws)
    k = np.maximum(1, (share * rows).astype(np.int64))
    p_in = rng.uniform(0.05, 0.9, draws)
    p_out = rng.uniform(0.02, 0.5, draws)
    tp = rng.binomial(k, p_in)
    outside = rng.binomial(rows - k, p_out)
    w = k / rows
    true_lift = p_in / (w * p_in + (1 - w) * p_out)
    _, low, high = lift_interval(tp, k, tp + outside, rows, 0.95)
    covered = float(np.mean((low <= true_lift) & (true_lift <= high)))
    assert covered >= 0.95 - tolerance(0.95, draws), covered


def _random_lists(rng: np.random.Generator, runs: int, rows: int, k: int, base: float) -> tuple:  # type: ignore[type-arg]
    positives = rng.binomial(rows, base, runs)
    positives = np.maximum(positives, 1)
    found = rng.hypergeometric(positives, rows - positives, k)
    return found, positives


def test_a_random_list_passes_the_lift_rule_at_most_alpha() -> None:
    rng = np.random.default_rng(7)
    runs = 20000
    for rows, k, base in ((1000, 100, 0.2), (600, 60, 0.05), (2000, 1000, 0.4), (300, 30, 0.5)):
        found, positives = _random_lists(rng, runs, rows, k, base)
        _, low, _ = lift_interval(found, k, positives, rows, 1 - ALPHA)
        passed = float(np.mean(low > 1.0))
        assert passed <= ALPHA + tolerance(ALPHA, runs), (rows, k, base, passed)
        if base * k >= 20:  # enough positives in the list: near the one-sided level
            assert passed <= ALPHA / 2 + tolerance(ALPHA / 2, runs), (rows, k, base, passed)


def test_a_list_at_lift_1_6_passes_in_most_runs() -> None:
    rng = np.random.default_rng(8)
    runs = 5000
    rows, k, base = 1000, 100, 0.2
    # 32% positives in the list, the rest of the positives spread over the other rows
    tp = rng.binomial(k, 0.32, runs)
    outside = rng.binomial(rows - k, (base * rows - 0.32 * k) / (rows - k), runs)
    _, low, _ = lift_interval(tp, k, tp + outside, rows, 1 - ALPHA)
    assert float(np.mean(low > 1.0)) >= 0.8  # measured: 0.86


def _top_k_cells(
    rng: np.random.Generator, runs: int, *, shape: tuple[int, int], rows: int, k: int, base: float
) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[type-arg]
    """Per run and cell: (selected, rows) and (selected positives, positives), for k rows
    chosen without regard to group or label (no disparity)."""
    cells = shape[0] * shape[1]
    selection = np.empty((runs, cells, 2), dtype=np.int64)
    recall = np.empty((runs, cells, 2), dtype=np.int64)
    for run in range(runs):
        sizes = rng.multinomial(rows, np.full(cells, 1.0 / cells))
        positives = rng.binomial(sizes, base)
        colours = np.concatenate([positives, sizes - positives])
        chosen = rng.multivariate_hypergeometric(colours, k)
        tp, fp = chosen[:cells], chosen[cells:]
        selection[run] = np.stack([tp + fp, sizes], axis=-1)
        recall[run] = np.stack([tp, positives], axis=-1)
    return selection.reshape(runs, *shape, 2), recall.reshape(runs, *shape, 2)


def test_top_k_gates_keep_the_family_wise_bound_under_no_disparity() -> None:
    rng = np.random.default_rng(11)
    runs = 2000
    selection, recall = _top_k_cells(rng, runs, shape=(6, 5), rows=1800, k=360, base=0.3)
    for counts, measure, threshold in (
        (selection, "ratio", 1.0),  # any selection gap at all
        (selection, "ratio", 0.8),  # the baseline gate
        (recall, "difference", 0.0),  # any recall gap at all
        (recall, "difference", 0.1),  # the baseline gate
    ):
        blocked = gate_blocks(
            attribute_sets(counts),
            measure=measure,
            threshold=threshold,
            alpha=ALPHA,
            min_denominator=30,
        )
        rate = float(np.mean(blocked))
        assert rate <= ALPHA + tolerance(ALPHA, runs), (measure, threshold, rate)
