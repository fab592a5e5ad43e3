"""The fast kernels of the non-binary tasks give exactly what the direct methods give.

Each test runs the direct method (text classes and ``np.unique``, a fresh ``pd.factorize`` per
partition, a row copy per group, a sort per budget) beside the kernel on seeded random data
with many groups, ties, missing values, categories without rows and one-row groups, and
compares with ``==``: codes, labels and floats bit for bit.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from sandbox.evaluation.classes import class_codes
from sandbox.evaluation.group_errors import group_errors, grouped_errors
from sandbox.evaluation.groups import MISSING, GroupCoder, partition
from sandbox.evaluation.ranking import _chosen, ranked
from sandbox.evaluation.result import attribute_sets

SEEDS = range(6)


def _direct_partition(frame: pd.DataFrame, names: tuple[str, ...]) -> tuple[Any, Any]:
    """Codes and keys by factorising every column again and ``np.unique`` on the combination."""
    per = []
    for name in names:
        codes, uniques = pd.factorize(frame[name], sort=True, use_na_sentinel=True)
        labels = [str(u) for u in uniques]
        codes = np.asarray(codes, dtype=np.intp)
        if (codes < 0).any():
            codes = np.where(codes < 0, len(labels), codes)
            labels.append(MISSING)
        per.append((codes, labels))
    shape = tuple(len(labels) for _, labels in per)
    combined = np.ravel_multi_index(tuple(c for c, _ in per), shape)
    observed, codes = np.unique(combined, return_inverse=True)
    keys = tuple(
        tuple(per[i][1][j] for i, j in enumerate(index))
        for index in zip(*np.unravel_index(observed, shape), strict=True)
    )
    return codes, keys


def _frame(rng: np.random.Generator, rows: int) -> pd.DataFrame:
    """Text with gaps, categoricals with and without unused categories, many values."""
    district = rng.choice(np.array(["north", "south", "east", "", "Ä"], dtype=object), rows)
    district[rng.random(rows) < 0.05] = None
    ward = pd.Categorical(
        rng.choice(["w3", "w1", "w2"], rows), categories=["w9", "w3", "w1", "w2", "w0"]
    )
    ward[rng.integers(0, rows, 3)] = np.nan
    block = rng.integers(0, rows // 3 + 2, rows)  # many groups, several with one row
    zone = pd.Categorical(rng.choice(["b", "a"], rows))  # every category present, as a rule
    return pd.DataFrame({"district": district, "ward": ward, "block": block, "zone": zone})


@pytest.mark.parametrize("seed", SEEDS)
def test_partition_reuses_codes_and_matches_the_direct_method(seed: int) -> None:
    rng = np.random.default_rng(seed)
    frame = _frame(rng, int(rng.integers(1, 400)))
    coder = GroupCoder(frame)
    for names in attribute_sets(coder.attributes):
        got = coder.partition(names)
        codes, keys = _direct_partition(frame, names)
        assert got.keys == keys
        assert np.array_equal(got.codes, codes) and got.codes.dtype == np.intp
        assert partition(frame, names).keys == keys
    assert coder.column("ward")[0] is coder.column("ward")[0]  # computed once


def _direct_classes(y_true: Any, y_pred: Any) -> tuple[Any, Any, Any]:
    truth, pred = np.asarray(y_true).astype(str), np.asarray(y_pred).astype(str)
    classes = tuple(str(c) for c in np.unique(np.concatenate([truth, pred])))
    return classes, np.searchsorted(classes, truth), np.searchsorted(classes, pred)


def _label_cases(rng: np.random.Generator, rows: int) -> list[tuple[Any, Any]]:
    words = np.array(["b", "a", "Z", "é", "a b", "a_b", "10", "9", "", " x"], dtype=object)
    ints = rng.integers(-3, 12, rows)
    gappy = words[rng.integers(0, 10, rows)].copy()
    gappy[rng.random(rows) < 0.1] = None
    mixed = np.array([1, True, 1.0, "1", "a", None], dtype=object)[rng.integers(0, 6, rows)]
    return [
        (ints, rng.integers(0, 9, rows)),
        (ints.astype(float), rng.choice([0.0, -0.0, 1.5, np.nan, 1e20], rows)),
        (words[rng.integers(0, 10, rows)].astype(str), words[rng.integers(0, 6, rows)]),
        (gappy, np.where(rng.random(rows) < 0.1, np.nan, gappy)),
        (mixed, ints),
        (
            pd.Series(pd.Categorical(words[rng.integers(0, 4, rows)], categories=words[::-1])),
            pd.Series(words[rng.integers(0, 10, rows)], dtype="str"),
        ),
        (
            pd.Categorical(rng.integers(0, 3, rows), categories=[2, 7, 0, 1]),
            pd.Categorical(np.where(rng.random(rows) < 0.2, None, "a")),
        ),
        (rng.random(rows) < 0.5, np.array(["True", "False"])[rng.integers(0, 2, rows)]),
        (pd.Series(gappy, dtype="str"), pd.array(gappy, dtype="string")),  # NaN vs <NA> text
    ]


@pytest.mark.parametrize("seed", SEEDS)
def test_class_codes_match_text_classes(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for y_true, y_pred in _label_cases(rng, int(rng.integers(1, 300))):
        classes, truth, pred = class_codes(y_true, y_pred)
        expected = _direct_classes(y_true, y_pred)
        assert classes == expected[0]
        assert np.array_equal(truth, expected[1]) and np.array_equal(pred, expected[2])


def _bits(values: dict[str, tuple[float, float]]) -> dict[str, tuple[bytes, bytes]]:
    """Floats as their bytes, so NaN compares equal to NaN and 0.0 differs from -0.0."""
    return {m: (np.float64(v).tobytes(), np.float64(s).tobytes()) for m, (v, s) in values.items()}


@pytest.mark.parametrize("seed", SEEDS)
def test_grouped_errors_equal_a_copy_per_group(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(1, 3000))
    codes = partition(_frame(rng, rows)).codes
    counts = np.bincount(codes).astype(np.int64)
    truth = rng.normal(50.0, 20.0, rows).round(int(rng.integers(0, 4)))
    pred = truth + rng.standard_t(3, rows)
    order = np.argsort(codes, kind="stable")
    starts = np.concatenate(([0], np.cumsum(counts)))
    direct = [group_errors(truth[order[a:b]], pred[order[a:b]]) for a, b in pairwise(starts)]
    assert (counts == 1).any() and len(counts) > 20
    assert [_bits(g) for g in grouped_errors(truth, pred, codes, counts)] == [
        _bits(g) for g in direct
    ]


def _direct_top(scores: npt.NDArray[np.float64], k: int) -> npt.NDArray[np.bool_]:
    chosen = np.zeros(len(scores), dtype=np.bool_)
    chosen[np.argsort(-scores, kind="stable")[:k]] = True
    return chosen


@pytest.mark.parametrize("seed", SEEDS)
def test_one_ranking_serves_every_budget(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(1, 2000))
    scores = rng.integers(0, 12, rows) / 11.0  # heavy ties, 0.0 among them
    scores[rng.random(rows) < 0.1] = -0.0
    order = ranked(scores)
    truth = rng.integers(0, 2, rows)
    for k in {1, max(1, rows // 4), rows // 2 or 1, rows, rows + 3}:
        expected = _direct_top(scores, k)
        assert np.array_equal(_chosen(order, k), expected)
        assert int(truth[order[:k]].sum()) == int(truth[expected].sum())
        if k <= rows:
            kth = scores[np.argsort(-scores, kind="stable")[k - 1]]
            assert scores[order[k - 1]] == kth
