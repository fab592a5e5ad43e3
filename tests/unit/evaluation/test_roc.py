"""`roc_auc` is scikit-learn's `roc_auc_score` for two classes, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from sandbox.evaluation.roc import roc_auc


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.booleans(),
            st.one_of(
                st.integers(min_value=-3, max_value=3).map(float),  # many ties
                st.sampled_from([0.0, -0.0, 0.5, 1e-300, -1e300]),
                st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
            ),
        ),
        min_size=2,
        max_size=60,
    ).filter(lambda rows: len({truth for truth, _ in rows}) == 2)
)
def test_equals_scikit_learn_on_any_scores(rows: list[tuple[bool, float]]) -> None:
    truth = np.array([int(t) for t, _ in rows])
    score = np.array([s for _, s in rows])
    assert roc_auc(truth, score) == roc_auc_score(truth, score)


@pytest.mark.parametrize("distinct", [3, 1_000, None])  # None: every score its own
def test_equals_scikit_learn_at_scale(distinct: int | None) -> None:
    rng = np.random.default_rng(11)
    n = 200_000
    truth = (rng.random(n) < 0.3).astype(np.int8)
    noise = rng.random(n) if distinct is None else rng.integers(0, distinct, n) / distinct
    score = 0.3 * truth + noise
    assert roc_auc(truth, score) == roc_auc_score(truth, score)


def test_perfect_reversed_and_uninformative_scores() -> None:
    truth = np.array([0, 0, 1, 1])
    assert roc_auc(truth, [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert roc_auc(truth, [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert roc_auc(truth, [0.5, 0.5, 0.5, 0.5]) == 0.5
