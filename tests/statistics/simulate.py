"""Seeded simulation of group confusion counts, and the gates' decision on whole batches.

Drawing counts directly (a multinomial per cell) instead of rows and models lets a test run
thousands of evaluations in seconds. :func:`gate_blocks` applies the decision rule of
``sandbox.policies.rules.fairness.check_threshold`` to a batch with the same interval
functions; ``test_gates.py`` checks on real evaluations that both decide alike.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import numpy.typing as npt

from sandbox.evaluation.intervals import newcombe_difference, pair_level, ratio_interval, wilson

IntArray = npt.NDArray[np.int64]

#: Monte Carlo tolerance: three standard errors of a simulated proportion.
SIGMAS = 3.0


def tolerance(rate: float, runs: int) -> float:
    """Three standard errors of a proportion `rate` estimated from `runs` simulations."""
    return SIGMAS * float(np.sqrt(rate * (1.0 - rate) / runs))


def grid_counts(
    rng: np.random.Generator,
    runs: int,
    *,
    shape: tuple[int, int],
    rows_per_cell: int,
    selection: npt.NDArray[np.float64],
) -> IntArray:
    """Selected rows and rows per cell of a two-attribute grid, shape ``(runs, a, b, 2)``.

    Rows fall into the cells with equal chance (so cell sizes vary as in a random split); a
    row of cell (i, j) is selected with probability ``selection[i, j]``.
    """
    cells = shape[0] * shape[1]
    sizes = rng.multinomial(rows_per_cell * cells, np.full(cells, 1.0 / cells), size=runs)
    sizes = sizes.reshape(runs, *shape)
    selected = rng.binomial(sizes, np.broadcast_to(selection, (runs, *shape)))
    return np.stack([selected, sizes], axis=-1).astype(np.int64)


def attribute_sets(counts: IntArray) -> list[IntArray]:
    """Each attribute's groups and the intersection: ``(runs, groups, 2)`` each."""
    runs = counts.shape[0]
    return [
        counts.sum(axis=2),
        counts.sum(axis=1),
        counts.reshape(runs, -1, 2),
    ]


def gate_blocks(
    sets: list[IntArray],
    *,
    measure: str,
    threshold: float,
    alpha: float,
    min_denominator: int,
) -> npt.NDArray[np.bool_]:
    """Per run, whether some pair's simultaneous interval lies entirely beyond the threshold.

    Groups below ``min_denominator`` are left out, and the Bonferroni count M is the number of
    pairs of the remaining groups across all sets, per run, as the rule counts them.
    """
    runs = sets[0].shape[0]
    usable = [s[..., 1] >= min_denominator for s in sets]
    m = sum(u.sum(axis=1) * (u.sum(axis=1) - 1) // 2 for u in usable)
    level = np.array([pair_level(1.0 - alpha, int(k)) for k in m])
    blocks = np.zeros(runs, dtype=bool)
    for counts, ok in zip(sets, usable, strict=True):
        x, n = counts[..., 0].astype(np.float64), counts[..., 1].astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            p = x / n
        low, high = _wilson_rows(x, n, level)
        for i, j in combinations(range(counts.shape[1]), 2):
            both = ok[:, i] & ok[:, j]
            swap = p[:, j] > p[:, i]
            a = np.where(swap, j, i)
            b = np.where(swap, i, j)
            rows = np.arange(runs)
            pa, la, ha = p[rows, a], low[rows, a], high[rows, a]
            pb, lb, hb = p[rows, b], low[rows, b], high[rows, b]
            if measure == "difference":
                lower, _ = newcombe_difference(pa, la, ha, pb, lb, hb)
                beyond = lower > threshold
            else:
                _, upper = ratio_interval(pb, lb, hb, pa, la, ha)
                beyond = upper < threshold
            blocks |= both & np.nan_to_num(beyond, nan=0).astype(bool)
    return blocks


def _wilson_rows(
    x: npt.NDArray[np.float64], n: npt.NDArray[np.float64], level: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Wilson limits where each run has its own confidence level."""
    low = np.empty_like(x)
    high = np.empty_like(x)
    for value in np.unique(level):
        rows = level == value
        low[rows], high[rows] = wilson(x[rows], n[rows], float(value))
    return low, high
