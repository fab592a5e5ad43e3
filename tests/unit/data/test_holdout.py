"""The host's importance hold-back gives the harness the rows scikit-learn's split gave it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.data.holdout import hold_back
from sandbox.runtime import harness

TABLES = harness.loaders("input_tables")  # the harness's sibling, as the container loads it

FRACTIONS = st.sampled_from([0.05, 0.1, 0.2, 0.25, 1 / 3, 0.5, 0.9])
LABELS = st.one_of(
    st.lists(st.integers(0, 1), min_size=1, max_size=120),
    st.lists(st.sampled_from(["alpha", "beta", "gamma", "δ"]), min_size=1, max_size=120),
    st.lists(st.floats(-5, 5, allow_nan=False), min_size=1, max_size=120),
)


def _frame(labels: list[object]) -> tuple[pd.DataFrame, pd.Series]:
    rows = len(labels)
    features = pd.DataFrame(
        {"x": np.arange(rows, dtype="float64") * 1.5, "kind": [f"k{i % 3}" for i in range(rows)]}
    )
    return features, pd.Series(labels, name="y")


def _harness_split(call):  # type: ignore[no-untyped-def]
    try:
        return call()
    except ValueError:
        return ValueError


@settings(max_examples=300, deadline=None)
@given(labels=LABELS, fraction=FRACTIONS, seed=st.integers(0, 2**32 - 1))
def test_slicing_the_host_order_equals_the_harness_split(
    labels: list[object], fraction: float, seed: int
) -> None:
    features, y = _frame(labels)
    classes = not isinstance(labels[0], float)
    expected = _harness_split(lambda: TABLES.split(features, y, fraction, seed, classes=classes))
    drawn = hold_back(np.asarray(labels), fraction=fraction, seed=seed, classes=classes)
    if drawn is None:  # left to the harness, which refuses it as scikit-learn does
        assert expected is ValueError
        return
    assert expected is not ValueError
    ordered_x = features.iloc[drawn.order].reset_index(drop=True)
    ordered_y = y.iloc[drawn.order].reset_index(drop=True)
    sliced = TABLES.drawn_split(ordered_x, ordered_y, drawn.fit_rows, harness.bad_input)
    for ours, theirs in zip(sliced, expected, strict=True):
        # the same rows in the same order; only the index labels differ (models ignore them)
        assert ours.to_numpy().tolist() == theirs.to_numpy().tolist()


def test_no_hold_back_or_a_missing_label_is_left_to_the_harness() -> None:
    assert hold_back(np.array([0, 1] * 10), fraction=0.0, seed=1, classes=True) is None
    assert hold_back(np.array([0.5, np.nan, 1.0]), fraction=0.5, seed=1, classes=False) is None
    assert hold_back(np.array([], dtype=int), fraction=0.2, seed=1, classes=True) is None


@pytest.mark.parametrize("fit_rows", [0, 61, -1, 2.5, True, "10"])
def test_a_fit_row_count_outside_the_training_rows_is_refused(fit_rows: object) -> None:
    features, y = _frame([0, 1] * 30)
    with pytest.raises(harness.HarnessError, match="spec.explain.fit_rows") as raised:
        TABLES.drawn_split(features, y, fit_rows, harness.bad_input)
    assert raised.value.exit_code == 2
