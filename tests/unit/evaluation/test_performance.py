"""Performance metrics equal scikit-learn's functions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from sandbox.errors import DataError
from sandbox.evaluation.performance import binary_performance

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.UndefinedMetricWarning",
    "ignore:y_pred contains classes not in y_true",
    "ignore:A single label was found",
)


def _assert_equals_sklearn(y_true, y_pred, y_score=None):
    result = binary_performance(y_true, y_pred, y_score=y_score)
    m = result.metrics
    assert m["accuracy"] == accuracy_score(y_true, y_pred)
    assert m["balanced_accuracy"] == balanced_accuracy_score(y_true, y_pred)
    assert m["precision"] == precision_score(y_true, y_pred)
    assert m["recall"] == recall_score(y_true, y_pred)
    assert m["f1"] == f1_score(y_true, y_pred)
    assert m["base_rate"] == np.mean(y_true)
    assert m["selection_rate"] == np.mean(y_pred)
    assert result.counts["rows"] == len(y_true)
    assert result.counts["positives"] == int(np.sum(y_true))
    assert result.counts["tp"] == int(np.sum((np.asarray(y_true) == 1) & (np.asarray(y_pred) == 1)))
    return result


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n", [7, 100, 5000])
def test_random_predictions_equal_sklearn(seed, n):
    rng = np.random.default_rng(seed)
    y_true = (rng.random(n) < rng.uniform(0.05, 0.95)).astype(int)
    score = np.clip(y_true * rng.uniform(0, 0.5) + rng.random(n), 0, None)
    y_pred = (score > np.median(score)).astype(int)
    result = _assert_equals_sklearn(y_true, y_pred, score)
    if 0 < y_true.sum() < n:
        assert result.metrics["roc_auc"] == roc_auc_score(y_true, score)


@pytest.mark.parametrize(
    ("y_true", "y_pred"),
    [
        ([0, 0, 0], [0, 0, 0]),
        ([0, 0, 0], [1, 0, 1]),
        ([1, 1, 1], [0, 0, 0]),
        ([1, 1, 1], [1, 1, 1]),
        ([0, 1, 0, 1], [0, 0, 0, 0]),
        ([0, 1, 0, 1], [1, 1, 1, 1]),
        ([True, False, True], [True, True, False]),
    ],
)
def test_degenerate_cases_equal_sklearn(y_true, y_pred):
    result = _assert_equals_sklearn(np.array(y_true), np.array(y_pred), y_score=[0.2] * len(y_true))
    if len(set(y_true)) < 2:
        assert "roc_auc" not in result.metrics
        assert any("one class" in note for note in result.notes)


def test_no_scores_means_no_roc_auc():
    result = binary_performance(np.array([0, 1, 1]), np.array([0, 1, 0]))
    assert "roc_auc" not in result.metrics
    assert result.notes == ("ROC AUC not computed: the model returned no scores.",)


def test_bad_inputs_are_data_errors():
    with pytest.raises(DataError, match="empty"):
        binary_performance(np.array([]), np.array([]))
    with pytest.raises(DataError, match="finite"):
        binary_performance(np.array([0, 1]), np.array([0, 1]), y_score=[0.1, np.nan])
    with pytest.raises(DataError, match="binary"):
        binary_performance(np.array([0, 3]), np.array([0, 1]))
