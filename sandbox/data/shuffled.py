"""Seeded train/evaluation splits drawn exactly as scikit-learn draws them, without importing it.

`sandbox run` splits the rows on the host before the container starts, and importing
`sklearn.model_selection` for that costs about two seconds of every run. These functions draw
the same positions from the same `numpy.random.RandomState` calls as scikit-learn's
`train_test_split` (its `ShuffleSplit` and `StratifiedShuffleSplit`) and `GroupShuffleSplit`
(scikit-learn 1.x, BSD-3-Clause), so a seed gives the split it always gave: a property test
compares both on random labels, sizes, fractions and seeds. Impossible splits raise
ValueError, as scikit-learn does.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["group_shuffle_split", "shuffle_split", "stratified_shuffle_split"]


def _sizes(n_samples: int, test_fraction: float) -> tuple[int, int]:
    """Training and test sizes: the test set is ceil(fraction x rows), the rest trains."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_size={test_fraction} should be a float in the (0, 1) range")
    n_test = math.ceil(test_fraction * n_samples)
    n_train = n_samples - n_test
    if n_train <= 0:
        raise ValueError(
            f"with n_samples={n_samples} and test_size={test_fraction}, the resulting train "
            "set will be empty"
        )
    return n_train, n_test


def shuffle_split(
    n_samples: int, *, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the training and test rows, in scikit-learn's `ShuffleSplit` order."""
    n_train, n_test = _sizes(n_samples, test_fraction)
    permutation = np.random.RandomState(seed).permutation(n_samples)
    return permutation[n_test : n_test + n_train], permutation[:n_test]


def stratified_shuffle_split(
    y: np.ndarray, *, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the training and test rows with each label value in proportion, as
    scikit-learn's `StratifiedShuffleSplit` draws them."""
    n_train, n_test = _sizes(len(y), test_fraction)
    classes, y_indices, class_counts = np.unique(y, return_inverse=True, return_counts=True)
    if class_counts.min() < 2:
        rare = classes[class_counts < 2].tolist()
        raise ValueError(
            f"the least populated classes in y have only 1 member, which is too few: {rare}"
        )
    for name, size in (("train_size", n_train), ("test_size", n_test)):
        if size < len(classes):
            raise ValueError(
                f"the {name} = {size} should be greater or equal to the number of "
                f"classes = {len(classes)}"
            )
    class_indices = np.split(np.argsort(y_indices, kind="stable"), np.cumsum(class_counts)[:-1])
    rng = np.random.RandomState(seed)
    n_i = _approximate_mode(class_counts, n_train, rng)
    t_i = _approximate_mode(class_counts - n_i, n_test, rng)
    train: list[np.ndarray] = []
    test: list[np.ndarray] = []
    for i in range(len(classes)):
        permutation = rng.permutation(class_counts[i])
        shuffled = class_indices[i].take(permutation, mode="clip")
        train.append(shuffled[: n_i[i]])
        test.append(shuffled[n_i[i] : n_i[i] + t_i[i]])
    # Arrays, not lists of numpy scalars: the same shuffles of the same values, 2.6x as fast
    # at 1M rows.
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def group_shuffle_split(
    codes: np.ndarray, *, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the training and test rows, whole groups on one side, as scikit-learn's
    `GroupShuffleSplit` draws them (`codes`: each row's group)."""
    groups, group_of_row = np.unique(codes, return_inverse=True)
    train_groups, test_groups = shuffle_split(len(groups), test_fraction=test_fraction, seed=seed)
    return (
        np.flatnonzero(np.isin(group_of_row, train_groups)),
        np.flatnonzero(np.isin(group_of_row, test_groups)),
    )


def _approximate_mode(
    class_counts: np.ndarray, n_draws: int, rng: np.random.RandomState
) -> np.ndarray:
    """How many of `n_draws` each class gets: the floors of its share, the rest to the
    largest remainders, ties broken at random (scikit-learn's `_approximate_mode`)."""
    continuous = class_counts / class_counts.sum() * n_draws
    floored = np.floor(continuous)
    need_to_add = int(n_draws - floored.sum())
    if need_to_add > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (tied,) = np.where(remainder == value)
            add_now = min(len(tied), need_to_add)
            floored[rng.choice(tied, size=add_now, replace=False)] += 1
            need_to_add -= add_now
            if need_to_add == 0:
                break
    counts: np.ndarray = floored.astype(int)
    return counts
