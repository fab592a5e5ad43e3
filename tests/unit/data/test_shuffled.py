"""The sandbox's seeded splits are scikit-learn's, position for position."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import GroupShuffleSplit, train_test_split

from sandbox.data.shuffled import group_shuffle_split, shuffle_split, stratified_shuffle_split

FRACTIONS = st.sampled_from([0.05, 0.1, 0.2, 0.25, 1 / 3, 0.3, 0.5, 0.7, 0.95])
SEEDS = st.integers(0, 2**32 - 1)


def _theirs(call):  # type: ignore[no-untyped-def]
    try:
        return call()
    except ValueError:
        return ValueError


@settings(max_examples=300, deadline=None)
@given(
    y=st.lists(st.integers(0, 4), min_size=1, max_size=200),
    fraction=FRACTIONS,
    seed=SEEDS,
    stratify=st.booleans(),
)
def test_train_test_split_positions(
    y: list[int], fraction: float, seed: int, stratify: bool
) -> None:
    labels = np.array(y)
    positions = np.arange(len(labels))
    expected = _theirs(
        lambda: train_test_split(
            positions,
            test_size=fraction,
            random_state=seed,
            stratify=labels if stratify else None,
        )
    )
    ours = _theirs(
        lambda: (
            stratified_shuffle_split(labels, test_fraction=fraction, seed=seed)
            if stratify
            else shuffle_split(len(labels), test_fraction=fraction, seed=seed)
        )
    )
    if expected is ValueError:
        assert ours is ValueError
        return
    assert ours is not ValueError
    assert np.array_equal(ours[0], expected[0]) and np.array_equal(ours[1], expected[1])


@settings(max_examples=200, deadline=None)
@given(
    codes=st.lists(st.integers(0, 30), min_size=1, max_size=150),
    fraction=FRACTIONS,
    seed=SEEDS,
)
def test_group_split_positions(codes: list[int], fraction: float, seed: int) -> None:
    groups = np.array(codes)
    splitter = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
    expected = _theirs(lambda: next(splitter.split(np.zeros(len(groups)), groups=groups)))
    ours = _theirs(lambda: group_shuffle_split(groups, test_fraction=fraction, seed=seed))
    if expected is ValueError:
        assert ours is ValueError
        return
    assert ours is not ValueError
    assert np.array_equal(ours[0], expected[0]) and np.array_equal(ours[1], expected[1])


def test_a_class_of_one_row_cannot_be_stratified() -> None:
    with pytest.raises(ValueError, match="only 1 member"):
        stratified_shuffle_split(np.array([0, 0, 0, 1]), test_fraction=0.5, seed=1)
