"""The proxy AUC from a table of counts equals the row-by-row lookup classifier's, exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata

from sandbox.policies.rules.proxy import _bins, _group_codes, proxy_auc


def _row_by_row(
    feature: pd.Series, attribute: pd.Series, *, folds: int, bins: int, seed: int, max_groups: int
) -> float | None:
    """The classifier as first written: per-row predictions, rank-sum AUC per group."""
    y, k = _group_codes(attribute, max_groups)
    if k < 2:
        return None
    x = _bins(feature, bins)
    n_bins = int(x.max()) + 1
    fold = np.random.default_rng(seed).permutation(len(x)) % folds
    proba = np.zeros((len(x), k))
    for f in range(folds):
        train = fold != f
        table = np.zeros((n_bins, k))
        np.add.at(table, (x[train], y[train]), 1.0)
        prior = np.bincount(y[train], minlength=k) / max(int(train.sum()), 1)
        shares = (table + prior) / (table.sum(axis=1, keepdims=True) + 1.0)
        proba[~train] = shares[x[~train]]

    def auc(positive: np.ndarray, score: np.ndarray) -> float:
        n_pos = int(positive.sum())
        ranks = rankdata(score)
        u = ranks[positive].sum() - n_pos * (n_pos + 1) / 2
        return float(u / (n_pos * (len(positive) - n_pos)))

    if k == 2:
        return auc(y == 1, proba[:, 1])
    return float(np.mean([auc(y == g, proba[:, g]) for g in range(k)]))


@pytest.mark.parametrize("trial", range(40))
def test_counts_equal_rows(trial: int) -> None:
    rng = np.random.default_rng(trial)
    n = int(rng.integers(30, 2000))
    k = int(rng.integers(2, 12))
    attribute = pd.Series(rng.integers(0, k, n).astype(str))
    kind = trial % 4
    if kind == 0:  # a number that leaks the group
        feature = pd.Series(rng.normal(size=n) + attribute.astype(int) * 0.3)
    elif kind == 1:  # few distinct numbers
        feature = pd.Series(rng.integers(0, 5, n))
    elif kind == 2:  # a category with missing values
        feature = pd.Series(rng.choice(np.array(["a", "b", "c", None], dtype=object), n))
    else:  # numbers with missing values
        feature = pd.Series(np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)))
    settings = {
        "folds": int(rng.integers(2, 8)),
        "bins": int(rng.integers(2, 30)),
        "seed": int(rng.integers(0, 1000)),
        "max_groups": int(rng.integers(2, 12)),
    }
    assert proxy_auc(feature, attribute, **settings) == _row_by_row(feature, attribute, **settings)
