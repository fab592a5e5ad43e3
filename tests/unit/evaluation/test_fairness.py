"""The confusion-count kernel gives exactly fairlearn's MetricFrame numbers."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    count,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, precision_score

from sandbox.errors import DataError
from sandbox.evaluation.binary import evaluate_binary
from sandbox.evaluation.fairness import (
    METRICS,
    MISSING,
    between_groups,
    group_metrics,
    group_table,
)
from sandbox.evaluation.result import flat_metrics

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.UndefinedMetricWarning",
    "ignore:y_pred contains classes not in y_true",
)

FAIRLEARN_METRICS = {
    "selection_rate": selection_rate,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "fnr": false_negative_rate,
    "precision": precision_score,
    "accuracy": accuracy_score,
    "count": count,
}


def _frame(y_true, y_pred, sensitive: pd.DataFrame, attributes: list[str]) -> MetricFrame:
    features = sensitive[attributes[0]] if len(attributes) == 1 else sensitive[attributes]
    return MetricFrame(
        metrics=FAIRLEARN_METRICS, y_true=y_true, y_pred=y_pred, sensitive_features=features
    )


def _assert_matches_fairlearn(y_true, y_pred, sensitive: pd.DataFrame, attributes: list[str]):
    frame = _frame(y_true, y_pred, sensitive, attributes)
    table = group_table(y_true, y_pred, sensitive, attributes)
    # MetricFrame lists every combination of values; combinations with no rows are all-NaN
    by_group = frame.by_group.dropna(how="all")
    expected_keys = [
        tuple(str(v) for v in (k if isinstance(k, tuple) else (k,))) for k in by_group.index
    ]
    assert list(table.keys) == expected_keys
    np.testing.assert_array_equal(table.counts.sum(axis=1), by_group["count"].to_numpy())
    ours = table.metrics()
    for name in METRICS:
        np.testing.assert_array_equal(ours[name], by_group[name].to_numpy(dtype=np.float64))
    disparities = table.disparities()
    difference, ratio = frame.difference(), frame.ratio()
    for name in METRICS:
        np.testing.assert_array_equal(disparities[name][0], difference[name])
        np.testing.assert_array_equal(disparities[name][1], ratio[name])


def _data(seed: int, n: int, levels: list[int], imbalance: float):
    rng = np.random.default_rng(seed)
    columns = {}
    for i, k in enumerate(levels):
        weights = np.geomspace(1.0, imbalance, k)
        columns[f"a{i}"] = rng.choice([f"g{j}" for j in range(k)], n, p=weights / weights.sum())
    sensitive = pd.DataFrame(columns)
    y_true = rng.integers(0, 2, n)
    y_pred = np.where(rng.random(n) < 0.7, y_true, 1 - y_true)
    return y_true, y_pred, sensitive


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("levels", [[2], [5], [3, 4], [2, 3, 3]])
@pytest.mark.parametrize("imbalance", [1.0, 0.02])
def test_per_attribute_and_intersection_equal_metricframe(seed, levels, imbalance):
    y_true, y_pred, sensitive = _data(seed, 1500, levels, imbalance)
    for i in range(len(levels)):
        _assert_matches_fairlearn(y_true, y_pred, sensitive, [f"a{i}"])
    if len(levels) > 1:
        _assert_matches_fairlearn(y_true, y_pred, sensitive, list(sensitive.columns))
        _assert_matches_fairlearn(y_true, y_pred, sensitive, ["a0", "a1"])


def test_degenerate_groups_equal_metricframe():
    # g0: no positives; g1: no negatives; g2: never predicted positive; g3: one row;
    # g4: everything predicted positive
    y_true = np.array([0, 0, 0, 1, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0])
    y_pred = np.array([1, 0, 0, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1])
    groups = ["g0"] * 3 + ["g1"] * 3 + ["g2"] * 3 + ["g3"] + ["g4"] * 4
    sensitive = pd.DataFrame({"g": groups, "h": list("xyxyxyxyxyxyxy")})
    _assert_matches_fairlearn(y_true, y_pred, sensitive, ["g"])
    _assert_matches_fairlearn(y_true, y_pred, sensitive, ["g", "h"])


@pytest.mark.parametrize(
    ("y_true", "y_pred"),
    [
        ([0, 0, 0, 0], [0, 0, 0, 0]),  # nobody selected: selection-rate ratio is 0/0
        ([1, 1, 1, 1], [1, 1, 1, 1]),
        ([0, 1, 0, 1], [1, 1, 1, 1]),
        ([1, 0, 1, 0], [0, 0, 0, 0]),
    ],
)
def test_all_zero_or_all_one_labels_equal_metricframe(y_true, y_pred):
    sensitive = pd.DataFrame({"g": ["a", "a", "b", "b"]})
    _assert_matches_fairlearn(np.array(y_true), np.array(y_pred), sensitive, ["g"])


def test_single_group_equals_metricframe():
    y_true, y_pred, _ = _data(5, 200, [2], 1.0)
    _assert_matches_fairlearn(y_true, y_pred, pd.DataFrame({"g": ["only"] * 200}), ["g"])


def test_integer_and_boolean_attribute_values_sort_as_metricframe():
    rng = np.random.default_rng(11)
    n = 600
    sensitive = pd.DataFrame({"age": rng.choice([65, 18, 40, 7], n), "flag": rng.random(n) < 0.3})
    y_true, y_pred = rng.integers(0, 2, n), rng.integers(0, 2, n)
    _assert_matches_fairlearn(y_true, y_pred, sensitive, ["age"])
    _assert_matches_fairlearn(y_true, y_pred, sensitive, ["age", "flag"])


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 1), st.integers(0, 1), st.integers(0, 3), st.integers(0, 2)),
        min_size=1,
        max_size=80,
    )
)
def test_property_kernel_equals_metricframe(rows):
    y_true, y_pred, a, b = (np.array(col) for col in zip(*rows, strict=True))
    sensitive = pd.DataFrame({"a": [f"a{v}" for v in a], "b": [f"b{v}" for v in b]})
    _assert_matches_fairlearn(y_true, y_pred, sensitive, ["a"])
    _assert_matches_fairlearn(y_true, y_pred, sensitive, ["a", "b"])


def test_ratio_with_maximum_zero_is_nan_and_difference_zero():
    difference, ratio = between_groups(np.array([0.0, 0.0, np.nan]))
    assert difference == 0.0
    assert math.isnan(float(ratio))


def test_absent_group_in_a_resample_is_nan_and_ignored():
    counts = np.array([[[1, 0, 0, 1], [0, 0, 0, 0]]])
    rates = group_metrics(counts)["selection_rate"]
    assert rates[0, 0] == 0.5
    assert math.isnan(rates[0, 1])
    difference, ratio = between_groups(rates)
    assert difference[0] == 0.0
    assert ratio[0] == 1.0


def test_non_binary_labels_are_a_data_error():
    sensitive = pd.DataFrame({"g": ["a", "b", "a"]})
    with pytest.raises(DataError, match="binary"):
        group_table(np.array([0, 2, 1]), np.array([0, 1, 1]), sensitive)
    with pytest.raises(DataError, match="not columns"):
        group_table(np.array([0, 1, 1]), np.array([0, 1, 1]), sensitive, ["race"])


# ----- the entry point -------------------------------------------------------------------


def _evaluate(seed: int = 0, **kwargs):
    y_true, y_pred, sensitive = _data(seed, 3000, [2, 4], 0.01)
    sensitive.columns = ["sex", "race"]
    score = np.clip(y_pred * 0.6 + np.random.default_rng(seed).random(3000) * 0.4, 0, 1)
    evaluation = evaluate_binary(
        y_true=y_true, y_pred=y_pred, y_score=score, sensitive=sensitive, **kwargs
    )
    return evaluation, y_true, y_pred, sensitive


def test_evaluation_numbers_equal_metricframe():
    evaluation, y_true, y_pred, sensitive = _evaluate(n_bootstrap=200)
    assert [r.name for r in evaluation.attribute_sets] == ["sex", "race", "sex & race"]
    for result in evaluation.attribute_sets:
        frame = _frame(y_true, y_pred, sensitive, list(result.attributes))
        by_group = frame.by_group.dropna(how="all")
        for name in METRICS:
            ours = [g.metrics[name].value for g in result.groups]
            np.testing.assert_array_equal(ours, by_group[name].to_numpy(dtype=np.float64))
            assert result.disparities[name].difference.value == frame.difference()[name]
        assert [g.count for g in result.groups] == list(by_group["count"].astype(int))
        assert result.four_fifths.ratio == frame.ratio()["selection_rate"]


def test_every_interval_contains_its_estimate_and_has_width():
    evaluation, *_ = _evaluate(n_bootstrap=1, confidence=0.9)
    for result in evaluation.attribute_sets:
        for group in result.groups:
            for estimate in group.metrics.values():
                if estimate.undefined:
                    assert estimate.value is None
                    continue
                assert estimate.ci_low is not None
                assert estimate.ci_high is not None
                assert estimate.ci_low <= estimate.value <= estimate.ci_high
                assert estimate.ci_low < estimate.ci_high
        for disparity in result.disparities.values():
            for point in (disparity.difference, disparity.ratio):
                if point.value is not None:
                    assert point.ci_low <= point.value <= point.ci_high
            pairs = len(result.groups) * (len(result.groups) - 1) // 2
            assert disparity.comparisons <= pairs


def test_evaluation_is_reproducible_and_json_safe():
    first, *_ = _evaluate(seed=4, n_bootstrap=100)
    again, *_ = _evaluate(seed=4, n_bootstrap=100)
    assert first == again
    text = first.model_dump_json()
    json.loads(text)  # strict JSON: no NaN or Infinity
    assert "NaN" not in text
    assert "Infinity" not in text
    assert type(first).model_validate_json(text) == first


def test_small_groups_and_undefined_rates_are_warned():
    n = 400
    sensitive = pd.DataFrame({"g": ["big"] * (n - 10) + ["tiny"] * 10})
    y_true = np.r_[np.tile([0, 1], (n - 10) // 2), np.zeros(10, dtype=int)]
    y_pred = np.r_[np.tile([1, 1, 0, 0], (n - 10) // 4 + 1)[: n - 10], np.zeros(10, dtype=int)]
    evaluation = evaluate_binary(
        y_true=y_true, y_pred=y_pred, sensitive=sensitive, n_bootstrap=50, min_group_size=30
    )
    result = evaluation.attribute_set("g")
    tiny = result.groups[1]
    assert tiny.small
    assert tiny.metrics["tpr"].undefined
    assert tiny.metrics["tpr"].value is None  # not fairlearn's conventional 0.0
    assert tiny.metrics["tpr"].note == "no actual positives: the rate is undefined"
    assert not tiny.metrics["tpr"].assessable
    assert tiny.metrics["precision"].undefined
    assert not tiny.metrics["fpr"].undefined
    assert tiny.metrics["fpr"].denominator == 10
    assert not tiny.metrics["fpr"].assessable
    assert result.disparities["tpr"].includes_undefined
    # the undefined group is left out: one defined TPR, so no difference to speak of
    assert result.disparities["tpr"].difference.value == 0.0
    assert result.disparities["tpr"].comparisons == 0
    assert result.disparities["fpr"].includes_unassessable
    assert any("tiny: 10 rows, fewer than 30" in w for w in result.warnings)
    assert any("no actual positives; tpr, fnr undefined" in w for w in result.warnings)
    assert "fairness.g.group.tiny.tpr" not in flat_metrics(evaluation)
    assert "perf.roc_auc" not in flat_metrics(evaluation)
    assert any("ROC AUC not computed" in w for w in evaluation.warnings)


def test_nobody_selected_gives_none_ratio_and_unassessable_four_fifths():
    sensitive = pd.DataFrame({"g": ["a", "b"] * 50})
    evaluation = evaluate_binary(
        y_true=np.tile([0, 1], 50),
        y_pred=np.zeros(100, dtype=int),
        sensitive=sensitive,
        n_bootstrap=20,
    )
    result = evaluation.attribute_set("g")
    assert result.disparities["selection_rate"].ratio.value is None
    assert result.four_fifths.passed is None
    assert any("four-fifths rule cannot be assessed" in w for w in result.warnings)
    assert "fairness.g.selection_rate.ratio" not in flat_metrics(evaluation)
    assert flat_metrics(evaluation)["fairness.g.selection_rate.difference"] == 0.0


def test_missing_sensitive_values_form_their_own_group():
    sensitive = pd.DataFrame({"g": ["a", None, "b", "a", None, "b"]})
    evaluation = evaluate_binary(
        y_true=np.array([0, 1, 0, 1, 1, 0]),
        y_pred=np.array([0, 1, 1, 1, 0, 0]),
        sensitive=sensitive,
        n_bootstrap=0,
    )
    labels = [g.label for g in evaluation.attribute_set("g").groups]
    assert labels == ["a", "b", MISSING]
    assert evaluation.attribute_set("g").groups[0].metrics["tpr"].ci_low is None


def test_three_attributes_give_pairs_and_full_intersection():
    y_true, y_pred, sensitive = _data(8, 900, [2, 3, 2], 1.0)
    evaluation = evaluate_binary(y_true=y_true, y_pred=y_pred, sensitive=sensitive, n_bootstrap=10)
    assert [r.key for r in evaluation.attribute_sets] == [
        "a0",
        "a1",
        "a2",
        "a0__a1",
        "a0__a2",
        "a1__a2",
        "a0__a1__a2",
    ]
    for result in evaluation.attribute_sets:
        _assert_matches_fairlearn(y_true, y_pred, sensitive, list(result.attributes))


def test_flat_metric_names_are_stable_sanitised_and_finite():
    sensitive = pd.DataFrame(
        {
            "sex": ["female", "male"] * 60,
            "race/ethnicity": ["Black or African", "white (non-Hisp.)", "x"] * 40,
        }
    )
    rng = np.random.default_rng(1)
    evaluation = evaluate_binary(
        y_true=rng.integers(0, 2, 120),
        y_pred=rng.integers(0, 2, 120),
        y_score=rng.random(120),
        sensitive=sensitive,
        n_bootstrap=50,
    )
    names = flat_metrics(evaluation)
    for key in (
        "perf.roc_auc",
        "perf.accuracy",
        "fairness.sex.selection_rate.difference",
        "fairness.sex.selection_rate.ratio",
        "fairness.sex.selection_rate.ratio.ci_low",
        "fairness.sex.four_fifths.passed",
        "fairness.sex.group.female.tpr",
        "fairness.race_ethnicity.group.Black_or_African.count",
        "fairness.race_ethnicity.group.white_non-Hisp.fpr",
        "fairness.sex__race_ethnicity.tpr.difference",
        "fairness.sex__race_ethnicity.group.female__x.accuracy",
    ):
        assert key in names, key
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./ ")
    for key, value in names.items():
        assert set(key) <= allowed, key
        assert isinstance(value, float)
        assert math.isfinite(value)


def test_bad_arguments_are_rejected():
    sensitive = pd.DataFrame({"g": ["a", "b"]})
    with pytest.raises(DataError, match="lengths differ"):
        evaluate_binary(y_true=[0, 1, 1], y_pred=[0, 1, 1], sensitive=sensitive)
    with pytest.raises(DataError, match="DataFrame"):
        evaluate_binary(y_true=[0, 1], y_pred=[0, 1], sensitive=pd.DataFrame(index=[0, 1]))
    with pytest.raises(ValueError, match="confidence"):
        evaluate_binary(y_true=[0, 1], y_pred=[0, 1], sensitive=sensitive, confidence=1.5)
