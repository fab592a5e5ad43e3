"""The importance hold-back, drawn on the host exactly as the harness would draw it.

The harness fits a factory's model on the training rows less a seeded hold-back
(`model.importance_holdout`), on which it measures permutation importance. It used to draw
that hold-back itself with scikit-learn's `train_test_split`: a third of a second of the
container's time at a million rows, spent copying every column into two new frames. The host
draws the same positions (`sandbox.data.shuffled`, equal to scikit-learn's by a property test)
and writes the training rows in the order `train_test_split` returns them: the fitted rows,
then the held-back rows. The harness then only slices the file at `explain.fit_rows`; the
model sees the same rows, in the same order, as before.

The rule is the harness's own (`harness.split`): stratified on the label when the task
predicts classes, there are at least two, each has two rows or more and every class fits in
both parts; otherwise a plain shuffle. A hold-back scikit-learn would refuse is left to the
harness, which reports it as it always did.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sandbox.data.shuffled import shuffle_split, stratified_shuffle_split

__all__ = ["HoldBack", "hold_back"]


@dataclass(frozen=True)
class HoldBack:
    """The training rows' order (fitted rows first) and how many of them are fitted."""

    order: np.ndarray  # positions within the training rows
    fit_rows: int


def hold_back(labels: np.ndarray, *, fraction: float, seed: int, classes: bool) -> HoldBack | None:
    """The harness's hold-back of `fraction` of the training rows, or None when the harness
    must draw (or refuse) it itself: no hold-back, a missing label, or an impossible split."""
    if fraction == 0.0 or len(labels) == 0 or bool(pd.isna(labels).any()):
        return None
    try:
        _values, counts = np.unique(labels, return_counts=True)
    except TypeError:  # labels of mixed kinds: left to the harness
        return None
    n_holdout = math.ceil(len(labels) * fraction)
    stratify = (
        classes
        and len(counts) > 1
        and counts.min() >= 2
        and len(counts) <= n_holdout <= len(labels) - 2
    )
    try:
        fit, held = (
            stratified_shuffle_split(labels, test_fraction=fraction, seed=seed)
            if stratify
            else shuffle_split(len(labels), test_fraction=fraction, seed=seed)
        )
    except ValueError:
        return None
    return HoldBack(order=np.concatenate([fit, held]), fit_rows=len(fit))
