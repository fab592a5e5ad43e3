"""False alarms and power of the fairness gates, on simulated counts of a whole run.

The design is the pilot that raised false alarms before: two sensitive attributes (6 areas and
5 age bands), 30 intersection cells of about 60 evaluation rows, each area about 300 rows. A
gate checks every attribute set (area, age band, their intersection): up to 15 + 10 + 435 = 460
pairs of groups in one family. The stated properties (docs/policies.md):

* under no disparity, the chance that a gate blocks is at most alpha = 0.05 (family-wise, over
  every group and attribute set of the run), here measured well below it;
* at the boundary (a true gap exactly at the threshold) it is still at most alpha;
* a 0.35 selection-rate gap between groups of about 300 rows is caught with power >= 0.9.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sandbox.evaluation.binary import evaluate_binary
from sandbox.policies.pack import load_pack
from sandbox.policies.rules import RuleContext, run_rule
from sandbox.runtime.base import Hardening
from tests.statistics.simulate import attribute_sets, gate_blocks, grid_counts, tolerance

ALPHA = 0.05
SHAPE = (6, 5)
ROWS_PER_CELL = 60
MIN_DENOMINATOR = 30
NULL_RUNS = 2000
POWER_RUNS = 1000


def _rates(base: float, *, area_gap: float = 0.0) -> np.ndarray:
    rates = np.full(SHAPE, base)
    rates[0, :] += area_gap
    return rates


def _block_rate(seed: int, runs: int, rates: np.ndarray, **gate: object) -> float:
    rng = np.random.default_rng(seed)
    counts = grid_counts(rng, runs, shape=SHAPE, rows_per_cell=ROWS_PER_CELL, selection=rates)
    blocks = gate_blocks(
        attribute_sets(counts),
        alpha=ALPHA,
        min_denominator=MIN_DENOMINATOR,
        **gate,  # type: ignore[arg-type]
    )
    return float(blocks.mean())


@pytest.mark.parametrize(
    ("measure", "threshold"),
    [("difference", 0.1), ("ratio", 0.8), ("difference", 0.0), ("ratio", 1.0)],
)
def test_no_disparity_blocks_at_most_alpha_across_all_groups(
    measure: str, threshold: float
) -> None:
    # threshold 0 (or ratio 1) is the sharpest case: any established gap at all blocks
    rate = _block_rate(10, NULL_RUNS, _rates(0.3), measure=measure, threshold=threshold)
    print(f"no disparity, {measure} gate at {threshold}: blocked {rate:.4f} of {NULL_RUNS}")
    assert rate <= ALPHA + tolerance(ALPHA, NULL_RUNS)


def test_a_gap_exactly_at_the_threshold_blocks_at_most_alpha() -> None:
    rate = _block_rate(
        11, NULL_RUNS, _rates(0.3, area_gap=0.1), measure="difference", threshold=0.1
    )
    print(f"true gap at the threshold: blocked {rate:.4f} of {NULL_RUNS}")
    assert rate <= ALPHA + tolerance(ALPHA, NULL_RUNS)


def test_no_disparity_in_tpr_blocks_at_most_alpha() -> None:
    # TPR rests on actual positives: about 24 per cell, so only the areas and age bands decide
    rng = np.random.default_rng(12)
    sizes = grid_counts(
        rng, NULL_RUNS, shape=SHAPE, rows_per_cell=ROWS_PER_CELL, selection=_rates(0.4)
    )
    positives = sizes[..., 0]
    found = rng.binomial(positives, 0.7)
    counts = np.stack([found, positives], axis=-1)
    blocks = gate_blocks(
        attribute_sets(counts),
        measure="difference",
        threshold=0.0,
        alpha=ALPHA,
        min_denominator=MIN_DENOMINATOR,
    )
    print(f"no TPR disparity, difference gate at 0: blocked {blocks.mean():.4f}")
    assert blocks.mean() <= ALPHA + tolerance(ALPHA, NULL_RUNS)


@pytest.mark.parametrize(("measure", "threshold"), [("difference", 0.1), ("ratio", 0.8)])
def test_a_035_selection_rate_gap_between_300_row_groups_is_caught(
    measure: str, threshold: float
) -> None:
    rate = _block_rate(
        13, POWER_RUNS, _rates(0.3, area_gap=0.35), measure=measure, threshold=threshold
    )
    print(f"0.35 gap, {measure} gate at {threshold}: caught {rate:.4f} of {POWER_RUNS}")
    assert rate >= 0.9


def _evaluation(counts: np.ndarray):  # type: ignore[no-untyped-def]
    """A real evaluation of one simulated run: rows rebuilt from the cell counts."""
    selected, sizes = counts[..., 0].ravel(), counts[..., 1].ravel()
    areas = np.repeat(np.arange(SHAPE[0]), SHAPE[1])
    bands = np.tile(np.arange(SHAPE[1]), SHAPE[0])
    rows = int(sizes.sum())
    pred = np.concatenate(
        [np.r_[np.ones(s), np.zeros(n - s)] for s, n in zip(selected, sizes, strict=True)]
    )
    frame = pd.DataFrame(
        {
            "area": np.repeat([f"area{a}" for a in areas], sizes),
            "age_band": np.repeat([f"band{b}" for b in bands], sizes),
        }
    )
    truth = np.tile([0, 1], rows // 2 + 1)[:rows]
    return evaluate_binary(y_true=truth, y_pred=pred.astype(int), sensitive=frame)


def test_the_batch_decision_equals_the_rules_decision() -> None:
    from sandbox.manifest import PilotManifest
    from tests.pilots import manifest_dict

    rng = np.random.default_rng(14)
    counts = grid_counts(
        rng, 24, shape=SHAPE, rows_per_cell=ROWS_PER_CELL, selection=_rates(0.3, area_gap=0.17)
    )
    batch = gate_blocks(
        attribute_sets(counts),
        measure="difference",
        threshold=0.1,
        alpha=ALPHA,
        min_denominator=MIN_DENOMINATOR,
    )
    rule = next(
        r for r in load_pack("baseline").rules if r.id == "fairness.selection-rate-difference"
    )
    manifest = PilotManifest.model_validate(manifest_dict())
    decided = []
    for run in range(len(counts)):
        ctx = RuleContext(
            manifest=manifest, hardening=Hardening(), evaluation=_evaluation(counts[run])
        )
        outcome = run_rule(rule, ctx)
        decided.append(outcome.outcome == "failed")
    assert 0 < sum(decided) < len(decided)  # a mix, so the comparison means something
    assert decided == batch.tolist()
