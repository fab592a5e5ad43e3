"""The multiclass gate and intervals: family-wise over every class and attribute set.

Design: a 311 routing pilot with three departments (shares 0.3, 0.4, 0.3), two sensitive
attributes (3 areas and 2 age bands: 6 cells of about 100 evaluation rows), so each class's
recall rests on about 30 actual cases per cell and 60 to 100 per area or age band. The class
recall gate checks 3 classes x 3 attribute sets (area, age band, intersection) as one family.
Stated properties (docs/statistics.md):

* under no disparity, the chance that `class_fairness_threshold` fails, even with threshold 0
  (any gap at all), is at most alpha = 0.05 across every class, group and attribute set;
* the report's per-class difference intervals hold together: all nine cover their true
  max - min in at least 95% of runs when one area's recall of one class is 0.15 lower;
* the real evaluation and rule decide as the simulation does (cross-check on whole runs).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from sandbox.evaluation.intervals import pair_level, pairs, range_interval
from sandbox.evaluation.multiclass import evaluate_multiclass
from sandbox.policies.rules.class_fairness import ClassFairnessParams, check_class_threshold
from tests.statistics.simulate import attribute_sets, gate_blocks, tolerance

ALPHA = 0.05
SHAPE = (3, 2)
ROWS_PER_CELL = 100
PRIORS = np.array([0.3, 0.4, 0.3])
RECALL = np.array([0.8, 0.85, 0.75])
CLASSES = np.array(["parks", "roads", "water"])


def _draw(rng: np.random.Generator, runs: int, recall: np.ndarray) -> np.ndarray:
    """Per run, cell and class: (recalled, actual) counts, shape ``(runs, 3, 2, K, 2)``.

    ``recall`` has shape ``(3, 2, K)``: each cell's recall of each class.
    """
    cells = SHAPE[0] * SHAPE[1]
    sizes = rng.multinomial(ROWS_PER_CELL * cells, np.full(cells, 1.0 / cells), size=runs)
    actual = np.stack([rng.multinomial(n, PRIORS) for n in sizes.ravel()])
    actual = actual.reshape(runs, *SHAPE, len(PRIORS))
    recalled = rng.binomial(actual, np.broadcast_to(recall, actual.shape))
    return np.stack([recalled, actual], axis=-1).astype(np.int64)


def _family(counts: np.ndarray) -> list[np.ndarray]:
    """Every class's three attribute sets, ``(runs, groups, 2)`` each: the gate's family."""
    return [s for k in range(counts.shape[3]) for s in attribute_sets(counts[:, :, :, k, :])]


def test_no_disparity_fails_the_class_recall_gate_at_most_alpha() -> None:
    runs = 2000
    counts = _draw(np.random.default_rng(11), runs, np.broadcast_to(RECALL, (*SHAPE, 3)))
    blocks = gate_blocks(
        _family(counts), measure="difference", threshold=0.0, alpha=ALPHA, min_denominator=30
    )
    rate = float(blocks.mean())
    assert rate <= ALPHA + tolerance(ALPHA, runs), rate


def test_the_report_intervals_hold_together_over_classes_and_sets() -> None:
    runs, confidence = 400, 0.95
    recall = np.broadcast_to(RECALL, (*SHAPE, 3)).copy()
    recall[0, :, 2] -= 0.15  # area 0 recognises water requests less often
    counts = _draw(np.random.default_rng(12), runs, recall)
    family = _family(counts)
    # true max - min of each (class, set): areas differ for water only; age bands never
    truth = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.15, 0.0, 0.15]
    covered = 0
    for run in range(runs):
        trials = [s[run, :, 1] for s in family]
        m = sum(int((t > 0).sum() * ((t > 0).sum() - 1) // 2) for t in trials)
        level = pair_level(confidence, m)
        held = True
        for sets, true_gap in zip(family, truth, strict=True):
            found = pairs(sets[run, :, 0], sets[run, :, 1], confidence=level, measure="difference")
            low, high = range_interval(found)
            held &= low - 1e-12 <= true_gap <= high + 1e-12
        covered += held
    rate = covered / runs
    assert rate >= confidence - tolerance(confidence, runs), rate


def _rows(counts: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Row-level labels, predictions and groups of one run's counts (misses to other classes)."""
    truth: list[str] = []
    pred: list[str] = []
    area: list[str] = []
    age: list[str] = []
    for i, j, k in np.ndindex(counts.shape[:3]):
        recalled, actual = (int(v) for v in counts[i, j, k])
        others = np.delete(CLASSES, k)
        missed = rng.choice(others, actual - recalled)
        truth += [CLASSES[k]] * actual
        pred += [CLASSES[k]] * recalled + list(missed)
        area += [f"area {i}"] * actual
        age += [f"age {j}"] * actual
    return np.array(truth), np.array(pred), pd.DataFrame({"area": area, "age": age})


def test_the_real_evaluation_and_rule_decide_as_the_simulation() -> None:
    rng = np.random.default_rng(13)
    recall = np.broadcast_to(RECALL, (*SHAPE, 3)).copy()
    recall[0, :, 2] -= 0.3  # a planted gap, so both decisions occur
    counts = _draw(rng, 16, recall)
    expected = gate_blocks(
        _family(counts), measure="difference", threshold=0.1, alpha=ALPHA, min_denominator=30
    )
    params = ClassFairnessParams(threshold=0.1, min_denominator=30)
    for run in range(16):
        truth, pred, groups = _rows(counts[run], rng)
        ev = evaluate_multiclass(y_true=truth, y_pred=pred, sensitive=groups, n_bootstrap=0)
        finding = check_class_threshold(params, SimpleNamespace(evaluation=ev))  # type: ignore[arg-type]
        assert (finding.outcome == "failed") == bool(expected[run]), (run, finding.message)
    assert expected.any() and not expected.all()
