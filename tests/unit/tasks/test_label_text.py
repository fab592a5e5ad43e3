"""encode_labels on distinct values gives what the per-row text gave: arrays and refusals.

`_binary_reference` and `_multiclass_reference` are the per-row encodings (every row through
astype(str).str.strip()); over seeded label columns of many dtypes, valid and not, the task
types must return the same array (values and dtype) or raise the same message.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from sandbox.errors import DataError
from sandbox.tasks.binary import BINARY_TASK, BinaryConfig
from sandbox.tasks.label_text import distinct_text, row_text
from sandbox.tasks.multiclass import MULTICLASS_TASK, MulticlassConfig
from sandbox.tasks.ranking import RankingConfig
from sandbox.tasks.registry import get_task

WHERE = {"column": "label", "source": "train.csv", "manifest": "pilot.yaml"}


def _binary_reference(values: pd.Series, positive_label: object) -> np.ndarray:
    missing = int(values.isna().sum())
    if missing:
        raise DataError(
            f"train.csv: label column 'label' has {missing} missing values (empty cells "
            "or missing-value markers); fill or drop those rows"
        )
    as_text = values.astype(str).str.strip().str.lower()
    positive = str(positive_label).strip().lower()
    found = sorted(set(as_text))
    if len(found) != 2:
        raise DataError(
            f"train.csv: label column 'label' has {len(found)} distinct values "
            f"({', '.join(found[:5])}); binary classification needs exactly two"
        )
    if positive not in found:
        raise DataError(
            f"pilot.yaml: task.positive_label: {positive_label!r} is not a value of "
            f"column 'label' (values: {', '.join(found)}); quote it in YAML, e.g. 'yes'"
        )
    encoded: np.ndarray = (as_text == positive).to_numpy(dtype=np.int8)
    return encoded


def _multiclass_reference(values: pd.Series, classes: tuple[str, ...] | None) -> np.ndarray:
    missing = values.isna()
    if missing.any():
        rows = np.flatnonzero(missing.to_numpy())
        raise DataError(
            f"train.csv: column 'label': {len(rows)} missing values (first in data row "
            f"{rows[0] + 1}); every row needs its class: fill or drop those rows"
        )
    text = values.astype(str).str.strip()
    found = sorted(set(text))
    if classes is not None:
        unknown = [v for v in found if v not in [c.strip() for c in classes]]
        if unknown:
            raise DataError(
                "pilot.yaml: task.classes: label column 'label' has values not listed "
                f"({', '.join(map(repr, unknown[:5]))}); add them to task.classes, or "
                "leave task.classes out to take the classes from the data"
            )
    if len(found) < 2 or len(found) > 50:
        raise DataError(
            f"train.csv: label column 'label' has {len(found)} distinct values; "
            "multiclass classification needs from 2 to 50"
        )
    encoded: np.ndarray = text.to_numpy(dtype=object)
    return encoded


def _outcome(encode: Callable[[], np.ndarray]) -> np.ndarray | str:
    try:
        return encode()
    except DataError as exc:
        return f"refused: {exc}"


def _assert_same(new: np.ndarray | str, old: np.ndarray | str) -> None:
    if isinstance(new, str) or isinstance(old, str):
        assert new == old
        return
    assert new.dtype == old.dtype
    assert new.shape == old.shape
    assert new.tolist() == old.tolist()


class _Text(str):
    """A str subclass that prints otherwise: equal values, different text."""

    def __str__(self) -> str:
        return "other"


def _column(kind: str, rng: random.Random, n: int) -> pd.Series:
    pick = rng.choice
    makers: dict[str, Callable[[], pd.Series]] = {
        "int": lambda: pd.Series([pick([0, 1]) for _ in range(n)]),
        "int-three": lambda: pd.Series([pick([0, 1, 2]) for _ in range(n)]),
        "float": lambda: pd.Series([pick([0.0, 1.0]) for _ in range(n)]),
        "float-negative-zero": lambda: pd.Series([pick([0.0, -0.0, 1.0]) for _ in range(n)]),
        "float-nan": lambda: pd.Series([pick([0.0, 1.0, np.nan]) for _ in range(n)]),
        "bool": lambda: pd.Series([pick([True, False]) for _ in range(n)]),
        "nullable-int": lambda: pd.Series([pick([0, 1, None]) for _ in range(n)], dtype="Int64"),
        "nullable-bool": lambda: pd.Series(
            [pick([True, False]) for _ in range(n)], dtype="boolean"
        ),
        "str": lambda: pd.Series([pick(["Yes", " yes", "no ", "NO"]) for _ in range(n)], dtype=str),
        "str-three": lambda: pd.Series([pick(["a", "b", "c "]) for _ in range(n)], dtype=str),
        "object-str": lambda: pd.Series(
            [pick(["approved", "denied", " Approved"]) for _ in range(n)], dtype=object
        ),
        "object-mixed": lambda: pd.Series(
            [pick([1, 1.0, True, "1", 0]) for _ in range(n)], dtype=object
        ),
        "object-subclass": lambda: pd.Series(
            [pick([_Text("a"), "a", "b"]) for _ in range(n)], dtype=object
        ),
        "category": lambda: pd.Series([pick(["x", "y"]) for _ in range(n)], dtype="category"),
        "str-missing": lambda: pd.Series([pick(["a", "b", None]) for _ in range(n)], dtype=str),
        "one-value": lambda: pd.Series(["same"] * n, dtype=str),
    }
    return makers[kind]()


KINDS = (
    "int", "int-three", "float", "float-negative-zero", "float-nan", "bool", "nullable-int",
    "nullable-bool", "str", "str-three", "object-str", "object-mixed", "object-subclass",
    "category", "str-missing", "one-value",
)  # fmt: skip
POSITIVES: tuple[str | int | bool, ...] = (
    1,
    "1",
    True,
    "yes",
    "Approved",
    "x",
    "a",
    "c",
    "missing-label",
)


@pytest.mark.parametrize("positive", POSITIVES)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", range(4))
def test_binary_and_ranking_labels_match_the_per_row_encoding(
    kind: str, seed: int, positive: str | int | bool
) -> None:
    rng = random.Random(seed)
    values = _column(kind, rng, rng.randint(1, 60))
    config = BinaryConfig(type="binary_classification", positive_label=positive)
    old = _outcome(lambda: _binary_reference(values, config.positive_label))
    _assert_same(_outcome(lambda: BINARY_TASK.encode_labels(values, config, **WHERE)), old)
    ranking = RankingConfig.model_validate(
        {"type": "ranking", "positive_label": positive, "budget": {"k": 1}}
    )
    task = get_task("ranking")
    _assert_same(_outcome(lambda: task.encode_labels(values, ranking, **WHERE)), old)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("classes", [None, ("a", "b", "c"), ("yes", "no", "Yes", "NO")])
def test_multiclass_labels_match_the_per_row_encoding(
    kind: str, seed: int, classes: tuple[str, ...] | None
) -> None:
    rng = random.Random(seed)
    values = _column(kind, rng, rng.randint(1, 60))
    config = MulticlassConfig(type="multiclass_classification", classes=classes)
    new = _outcome(lambda: MULTICLASS_TASK.encode_labels(values, config, **WHERE))
    _assert_same(new, _outcome(lambda: _multiclass_reference(values, classes)))


@pytest.mark.parametrize("kind", ["int", "float", "bool", "str", "object-str", "nullable-bool"])
def test_distinct_text_maps_back_to_every_row(kind: str) -> None:
    values = _column(kind, random.Random(5), 200)
    distinct = distinct_text(values, lower=True)
    assert distinct is not None
    codes, text = distinct
    assert text.to_numpy()[codes].tolist() == row_text(values, lower=True).tolist()


@pytest.mark.parametrize(
    "kind", ["float-negative-zero", "object-mixed", "object-subclass", "category"]
)
def test_distinct_text_declines_columns_whose_equal_values_print_differently(kind: str) -> None:
    values = _column(kind, random.Random(1), 200)
    assert distinct_text(values, lower=False) is None
