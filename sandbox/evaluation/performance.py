"""Performance metrics of a binary classifier, equal to scikit-learn's.

Accuracy, balanced accuracy, precision, recall and F1 come from the confusion counts with
scikit-learn's formulas and zero-division convention (0.0); ROC AUC is the value scikit-learn's
``roc_auc_score`` returns for two classes, bit for bit (`roc.py`), computed only when scores
are given and both classes are present.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sandbox.errors import DataError
from sandbox.evaluation.fairness import confusion_counts
from sandbox.evaluation.roc import roc_auc

__all__ = ["BinaryPerformance", "binary_performance"]


@dataclass(frozen=True)
class BinaryPerformance:
    """Overall metrics (name -> value), confusion counts, and notes on what was left out."""

    metrics: dict[str, float]
    counts: dict[str, int]
    notes: tuple[str, ...] = ()


def _divide(numerator: float, denominator: float) -> float:
    """scikit-learn's convention: 0.0 when the denominator is empty."""
    return float(np.float64(numerator) / np.float64(denominator)) if denominator else 0.0


def binary_performance(y_true: Any, y_pred: Any, *, y_score: Any = None) -> BinaryPerformance:
    """Accuracy, balanced accuracy, precision, recall, F1, ROC AUC, base and selection rate."""
    truth = np.asarray(y_true)
    n = len(truth)
    if n == 0:
        raise DataError("no evaluation rows: performance cannot be assessed on empty data")
    counts = confusion_counts(truth, y_pred, np.zeros(n, dtype=np.intp), 1)[0]
    tn, fp, fn, tp = (int(c) for c in counts)
    positives, negatives, predicted = tp + fn, tn + fp, tp + fp
    recall = _divide(tp, positives)
    specificity = _divide(tn, negatives)
    # balanced accuracy averages the recall of the classes present in y_true (scikit-learn)
    per_class = [r for r, support in ((specificity, negatives), (recall, positives)) if support]
    metrics = {
        "accuracy": _divide(tp + tn, n),
        "balanced_accuracy": float(np.mean(np.asarray(per_class, dtype=np.float64))),
        "precision": _divide(tp, predicted),
        "recall": recall,
        "f1": _divide(2.0 * tp, float(positives + predicted)),
        "base_rate": _divide(positives, n),
        "selection_rate": _divide(predicted, n),
    }
    notes: list[str] = []
    if y_score is None:
        notes.append("ROC AUC not computed: the model returned no scores.")
    elif positives == 0 or negatives == 0:
        notes.append("ROC AUC not computed: the evaluation data hold only one class.")
    else:
        score = np.asarray(y_score, dtype=np.float64)
        if score.shape != truth.shape or not np.isfinite(score).all():
            raise DataError(
                f"y_score must be {n} finite numbers, got shape {score.shape} "
                "(or non-finite values)"
            )
        metrics["roc_auc"] = roc_auc(truth, score)  # scikit-learn's, from counts per score
    return BinaryPerformance(
        metrics=metrics,
        counts={
            "rows": n,
            "positives": positives,
            "negatives": negatives,
            "predicted_positives": predicted,
            "tp": tp,
            "fp": fp,
            "tn": tn,
            "fn": fn,
        },
        notes=tuple(notes),
    )
