"""Regression group errors equal fairlearn's MetricFrame; intervals and disparities behave."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, count
from sklearn.metrics import mean_absolute_error, mean_squared_error

from sandbox.errors import DataError
from sandbox.evaluation.regression import evaluate_regression
from sandbox.evaluation.result import flat_metrics


def mean_error(y_true, y_pred):  # type: ignore[no-untyped-def]
    """Prediction minus label, averaged: above 0 the group is over-predicted."""
    return float(np.mean(np.asarray(y_pred) - np.asarray(y_true)))


def mean_label(y_true, y_pred):  # type: ignore[no-untyped-def]
    return float(np.mean(y_true))


def mean_prediction(y_true, y_pred):  # type: ignore[no-untyped-def]
    return float(np.mean(y_pred))


FAIRLEARN = {
    "mae": mean_absolute_error,
    "mse": mean_squared_error,
    "mean_error": mean_error,
    "mean_label": mean_label,
    "mean_prediction": mean_prediction,
    "count": count,
}


def _data(seed: int, rows: int = 900):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    sensitive = pd.DataFrame(
        {
            "area": rng.choice(["north", "south", "east", "west"], rows),
            "age": rng.choice(["18-34", "35-64", "65+"], rows, p=[0.5, 0.4, 0.1]),
            "tenure": rng.choice(["own", "rent"], rows),
        }
    )
    y_true = rng.gamma(2.0, 5.0, rows)
    y_pred = y_true + rng.normal(0.5, 3.0, rows) * rng.uniform(0.5, 2.0, rows)
    return y_true, y_pred, sensitive


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_group_errors_equal_fairlearn_metricframe(seed: int) -> None:
    y_true, y_pred, sensitive = _data(seed)
    evaluation = evaluate_regression(y_true=y_true, y_pred=y_pred, sensitive=sensitive)
    assert [r.name for r in evaluation.attribute_sets] == [
        "area", "age", "tenure", "area & age", "area & tenure", "age & tenure",
        "area & age & tenure",
    ]  # fmt: skip
    for result in evaluation.attribute_sets:
        attributes = list(result.attributes)
        features = sensitive[attributes[0]] if len(attributes) == 1 else sensitive[attributes]
        frame = MetricFrame(
            metrics=FAIRLEARN, y_true=y_true, y_pred=y_pred, sensitive_features=features
        )
        by_group = frame.by_group.dropna(how="all")
        assert len(by_group) == len(result.groups)
        for (key, row), group in zip(by_group.iterrows(), result.groups, strict=True):
            keys = key if isinstance(key, tuple) else (key,)
            assert tuple(group.values.values()) == tuple(str(k) for k in keys)
            assert group.count == row["count"]
            m = group.metrics
            # float for float: the same functions on the same rows in the same order
            assert m["mae"].value == row["mae"]
            assert m["rmse"].value == math.sqrt(row["mse"])
            assert m["mean_error"].value == row["mean_error"]
            assert m["mean_label"].value == row["mean_label"]
            assert m["mean_prediction"].value == row["mean_prediction"]
        for metric in ("mae", "mean_error", "mean_label", "mean_prediction"):
            d = result.disparities[metric]
            assert d.difference.value == pytest.approx(frame.difference()[metric], rel=0, abs=1e-12)
            if metric != "mean_error":
                assert d.ratio.value == pytest.approx(frame.ratio()[metric], rel=1e-12)
        assert result.disparities["mean_error"].ratio.value is None


def test_overall_metrics_equal_scikit_learn() -> None:
    from sklearn.metrics import r2_score, root_mean_squared_error

    y_true, y_pred, sensitive = _data(7)
    evaluation = evaluate_regression(y_true=y_true, y_pred=y_pred, sensitive=sensitive)
    perf = evaluation.performance
    assert perf["mae"] == mean_absolute_error(y_true, y_pred)
    assert perf["rmse"] == pytest.approx(root_mean_squared_error(y_true, y_pred), rel=1e-15)
    assert perf["r2"] == r2_score(y_true, y_pred)
    assert perf["mean_error"] == pytest.approx(float(np.mean(y_pred - y_true)))
    assert evaluation.task == "regression"
    assert evaluation.counts is None


def test_intervals_contain_their_estimates_and_disparities_hold_their_estimate() -> None:
    y_true, y_pred, sensitive = _data(11)
    evaluation = evaluate_regression(y_true=y_true, y_pred=y_pred, sensitive=sensitive)
    for result in evaluation.attribute_sets:
        for group in result.groups:
            for metric, e in group.metrics.items():
                assert e.ci_low is not None and e.ci_high is not None, metric
                assert e.ci_low <= e.value <= e.ci_high
                assert e.ci_high > e.ci_low
            assert group.spread is not None and group.spread["mae"] > 0
        for metric, d in result.disparities.items():
            assert d.difference.ci_low <= d.difference.value <= d.difference.ci_high, metric
            if d.ratio.value is not None:
                assert d.ratio.ci_low <= d.ratio.value <= d.ratio.ci_high
    names = flat_metrics(evaluation)
    assert "perf.r2" in names
    assert "fairness.area.mae.difference.ci_high" in names
    assert "fairness.area.group.north.mean_error" in names


def test_small_groups_are_flagged_and_no_bootstrap_means_no_intervals() -> None:
    y_true, y_pred, sensitive = _data(3, rows=200)
    evaluation = evaluate_regression(
        y_true=y_true, y_pred=y_pred, sensitive=sensitive, min_group_size=30, n_bootstrap=0
    )
    triple = evaluation.attribute_set("area & age & tenure")
    small = [g for g in triple.groups if g.small]
    assert small and all(not g.metrics["mae"].assessable for g in small)
    assert any("fewer than 30" in w for w in triple.warnings)
    assert evaluation.intervals == ""
    assert all(g.metrics["mae"].ci_low is None for g in triple.groups)


def test_bad_numbers_are_refused_with_the_reason() -> None:
    sensitive = pd.DataFrame({"g": ["a", "b"] * 10})
    with pytest.raises(DataError, match="finite numbers"):
        evaluate_regression(y_true=[1.0] * 19 + [np.nan], y_pred=[1.0] * 20, sensitive=sensitive)
    with pytest.raises(DataError, match="must hold 20 values"):
        evaluate_regression(y_true=[1.0] * 20, y_pred=[1.0] * 19, sensitive=sensitive)


def test_a_constant_label_has_no_r2_and_says_so() -> None:
    sensitive = pd.DataFrame({"g": ["a", "b"] * 20})
    evaluation = evaluate_regression(
        y_true=np.full(40, 3.0), y_pred=np.linspace(2, 4, 40), sensitive=sensitive
    )
    assert "r2" not in evaluation.performance
    assert any("same label" in w for w in evaluation.warnings)


def test_a_one_row_group_has_no_spread_and_its_result_is_valid_json() -> None:
    rng = np.random.default_rng(3)
    y = rng.normal(10.0, 2.0, 201)
    sensitive = pd.DataFrame({"district": ["north"] * 100 + ["south"] * 100 + ["harbour"]})
    result = evaluate_regression(y_true=y, y_pred=y + rng.normal(0, 1, 201), sensitive=sensitive)
    lone = next(g for g in result.attribute_set("district").groups if g.label == "harbour")
    assert lone.count == 1 and lone.spread is not None
    assert all(value is None for value in lone.spread.values())
    json.dumps(result.model_dump(), allow_nan=False)  # reports are written as strict JSON
