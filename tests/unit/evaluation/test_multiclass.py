"""Multiclass numbers equal scikit-learn's and fairlearn's MetricFrame on random data."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, selection_rate
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    recall_score,
)

from sandbox.evaluation.intervals import wilson
from sandbox.evaluation.multiclass import class_keys, evaluate_multiclass
from sandbox.evaluation.result import flat_metrics

CLASSES = np.array(["parks", "roads", "sanitation", "water"])


def _data(seed: int, rows: int = 900) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    truth = rng.choice(CLASSES, rows, p=[0.4, 0.3, 0.2, 0.1])
    pred = np.where(rng.random(rows) < 0.6, truth, rng.choice(CLASSES, rows))
    groups = pd.DataFrame(
        {
            "area": rng.choice(["north", "south", "east"], rows, p=[0.5, 0.3, 0.2]),
            "age": rng.choice(["under 40", "40+"], rows),
        }
    )
    return truth, pred, groups


def _selection(value: str, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(selection_rate(y_true, y_pred, pos_label=value))


def _recall(value: str, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(recall_score(y_true == value, y_pred == value, zero_division=0))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_performance_equals_scikit_learn(seed: int) -> None:
    truth, pred, groups = _data(seed)
    ev = evaluate_multiclass(y_true=truth, y_pred=pred, sensitive=groups, n_bootstrap=0)
    assert ev.performance["accuracy"] == accuracy_score(truth, pred)
    assert ev.performance["balanced_accuracy"] == pytest.approx(
        balanced_accuracy_score(truth, pred), abs=1e-15
    )
    assert ev.performance["macro_f1"] == pytest.approx(
        f1_score(truth, pred, average="macro"), abs=1e-15
    )
    assert ev.confusion_matrix is not None
    assert ev.confusion_matrix.classes == tuple(CLASSES)
    expected = confusion_matrix(truth, pred, labels=CLASSES)
    assert np.array_equal(np.array(ev.confusion_matrix.matrix), expected)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_group_metrics_equal_metricframe(seed: int) -> None:
    truth, pred, groups = _data(seed)
    ev = evaluate_multiclass(y_true=truth, y_pred=pred, sensitive=groups, min_group_size=10)
    metrics = {"accuracy": accuracy_score}
    for value in CLASSES:
        metrics[f"selection_rate.{value}"] = partial(_selection, value)
        metrics[f"recall.{value}"] = partial(_recall, value)
    for attributes in (["area"], ["age"], ["area", "age"]):
        frame = MetricFrame(
            metrics=metrics, y_true=truth, y_pred=pred, sensitive_features=groups[attributes]
        )
        result = ev.attribute_set(" & ".join(attributes))
        by_group = frame.by_group.reset_index()
        assert len(by_group) == len(result.groups)
        for group, (_, row) in zip(result.groups, by_group.iterrows(), strict=True):
            assert tuple(group.values.values()) == tuple(row[a] for a in attributes)
            for name in metrics:
                assert group.metrics[name].value == row[name], (group.label, name)
        difference, ratio = frame.difference(), frame.ratio()
        for name in metrics:
            assert result.disparities[name].difference.value == pytest.approx(
                difference[name], abs=1e-15
            )
            assert result.disparities[name].ratio.value == pytest.approx(ratio[name], abs=1e-15)


def test_recall_carries_its_denominator_and_wilson_interval() -> None:
    truth, pred, groups = _data(5)
    ev = evaluate_multiclass(y_true=truth, y_pred=pred, sensitive=groups, min_group_size=30)
    area = ev.attribute_set("area")
    east = next(g for g in area.groups if g.label == "east")
    mask = (groups["area"] == "east").to_numpy()
    actual = int(np.count_nonzero(truth[mask] == "water"))
    found = int(np.count_nonzero((truth[mask] == "water") & (pred[mask] == "water")))
    recall = east.metrics["recall.water"]
    assert (recall.numerator, recall.denominator) == (found, actual)
    low, high = wilson(np.array([found]), np.array([actual]), 0.95)
    assert (recall.ci_low, recall.ci_high) == pytest.approx((low[0], high[0]))
    assert recall.assessable is (actual >= 30)
    assert east.metrics["selection_rate.water"].denominator == int(mask.sum())


def test_class_intervals_hold_together_over_classes_and_attribute_sets() -> None:
    truth, pred, groups = _data(6)
    ev = evaluate_multiclass(y_true=truth, y_pred=pred, sensitive=groups)
    # 3 areas (3 pairs), 2 ages (1 pair), 6 cells (15 pairs), times 4 classes
    for result in ev.attribute_sets:
        assert result.disparities["recall.water"].comparisons == 4 * (3 + 1 + 15)
        assert (
            result.disparities["accuracy"].comparisons
            == len(result.groups) * (len(result.groups) - 1) // 2
        )
        d = result.disparities["recall.parks"].difference
        assert d.ci_low is not None and d.ci_high is not None and d.value is not None
        assert d.ci_low <= d.value <= d.ci_high


def test_a_class_missing_from_a_group_is_undefined_not_zero() -> None:
    truth = np.array(["a", "b", "c"] * 20 + ["a", "b"] * 20)
    pred = truth.copy()
    groups = pd.DataFrame({"area": ["x"] * 60 + ["y"] * 40})
    ev = evaluate_multiclass(y_true=truth, y_pred=pred, sensitive=groups, min_group_size=5)
    y = next(g for g in ev.attribute_set("area").groups if g.label == "y")
    assert y.metrics["recall.c"].undefined and y.metrics["recall.c"].value is None
    assert ev.attribute_set("area").disparities["recall.c"].includes_undefined
    assert any("no rows of some classes" in w for w in ev.attribute_set("area").warnings)


def test_predicted_classes_never_seen_in_labels_are_reported() -> None:
    truth = np.array(["a", "b"] * 30)
    pred = np.array(["a", "b", "c"] * 20)
    groups = pd.DataFrame({"area": ["x", "y"] * 30})
    ev = evaluate_multiclass(y_true=truth, y_pred=pred, sensitive=groups, n_bootstrap=0)
    assert ev.confusion_matrix is not None and ev.confusion_matrix.classes == ("a", "b", "c")
    assert ev.performance["macro_f1"] == pytest.approx(f1_score(truth, pred, average="macro"))
    with pytest.warns(UserWarning, match="y_pred contains classes not in y_true"):
        expected = balanced_accuracy_score(truth, pred)
    assert ev.performance["balanced_accuracy"] == pytest.approx(expected)
    assert any("'c'" in w and "no recall" in w for w in ev.warnings)


def test_class_keys_are_tracker_safe_and_unique() -> None:
    assert class_keys(("Roads & Sidewalks", "roads_sidewalks", "a b", "a_b", "a b")) == (
        "Roads_Sidewalks",
        "roads_sidewalks",
        "a_b",
        "a_b-2",
        "a_b-3",
    )
    truth = np.array(["Roads & Sidewalks", "Water/Sewer"] * 30)
    groups = pd.DataFrame({"area": ["x", "y"] * 30})
    ev = evaluate_multiclass(y_true=truth, y_pred=truth, sensitive=groups, n_bootstrap=0)
    names = flat_metrics(ev)
    assert names["fairness.area.group.y.recall.Water_Sewer"] == 1.0
    assert names["perf.recall.Roads_Sidewalks"] == 1.0
