"""Counting rows once by their finest group gives every attribute set's exact counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.evaluation.fairness import confusion_counts
from sandbox.evaluation.groups import GroupCoder
from sandbox.evaluation.result import attribute_sets

VALUES = st.sampled_from(["a", "b", "c", None])


@st.composite
def frames(draw: st.DrawFn) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rows = draw(st.integers(1, 60))
    n_attributes = draw(st.integers(1, 3))
    columns = {}
    for i in range(n_attributes):
        values = draw(st.lists(VALUES, min_size=rows, max_size=rows))
        column = pd.Series(values, dtype=object)
        if draw(st.booleans()):
            column = column.astype("category")
        columns[f"s{i}"] = column
    truth = np.array(draw(st.lists(st.integers(0, 1), min_size=rows, max_size=rows)))
    pred = np.array(draw(st.lists(st.integers(0, 1), min_size=rows, max_size=rows)))
    return pd.DataFrame(columns), truth, pred


@settings(max_examples=200, deadline=None, derandomize=True)
@given(frames())
def test_coarsened_groups_and_counts_equal_a_direct_partition(
    case: tuple[pd.DataFrame, np.ndarray, np.ndarray],
) -> None:
    frame, truth, pred = case
    coder = GroupCoder(frame)
    fine = coder.partition()
    fine_counts = confusion_counts(truth, pred, fine.codes, fine.n_groups)
    for attributes in attribute_sets(coder.attributes):
        direct = coder.partition(attributes)
        merged = coder.coarsen(fine, attributes)
        assert merged.keys == direct.keys
        summed = np.zeros((len(merged.keys), 4), dtype=np.int64)
        np.add.at(summed, merged.group, fine_counts)
        expected = confusion_counts(truth, pred, direct.codes, direct.n_groups)
        np.testing.assert_array_equal(summed, expected)
