"""A regression's MAE, MSE and R² are scikit-learn's, bit for bit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn.metrics
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.evaluation import error_metrics

NAMES = ("mean_absolute_error", "mean_squared_error", "r2_score")


def _same(ours: float, theirs: float) -> bool:
    return ours == theirs or (np.isnan(ours) and np.isnan(theirs))


def _theirs(name: str, truth: np.ndarray, pred: np.ndarray) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # R² of one row: scikit-learn warns, then says NaN
        return float(getattr(sklearn.metrics, name)(truth, pred))


finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(finite, finite), min_size=1, max_size=80), st.sampled_from(NAMES))
def test_equals_scikit_learn(pairs: list[tuple[float, float]], name: str) -> None:
    truth = np.array([t for t, _ in pairs])
    pred = np.array([p for _, p in pairs])
    assert _same(getattr(error_metrics, name)(truth, pred), _theirs(name, truth, pred))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("case", ["perfect", "constant label", "large", "integers"])
def test_equals_scikit_learn_on_edge_cases(name: str, case: str) -> None:
    rng = np.random.default_rng(5)
    truth = rng.normal(50.0, 10.0, 100_000)
    pred = truth + rng.normal(0.0, 3.0, len(truth))
    if case == "perfect":
        pred = truth.copy()
    elif case == "constant label":
        truth = np.full(len(truth), 7.25)
    elif case == "large":
        truth, pred = truth * 1e12, pred * 1e12
    else:
        truth, pred = np.round(truth), np.round(pred)
    assert _same(getattr(error_metrics, name)(truth, pred), _theirs(name, truth, pred))
