"""Find the classes of a multiclass evaluation and code every row by its class.

Classes are compared as text: a class is the text NumPy gives a value (``astype(str)``), and
the classes are every such text among the labels and the predictions, sorted. Converting ten
million values to text and sorting them takes minutes, so :func:`class_codes` factorises the
raw values instead (one hash pass), turns only the distinct values into text, and maps each
row's value code to its class. The result is the same as the text route, class for class and
row for row.

That holds only where factorising never merges two values whose texts differ. It never does
for integers, booleans and strings; floats are factorised by their bit patterns (0.0 and -0.0
have different texts); an object column is factorised only when its values are all strings,
and a pandas text column as it is stored. Anything else (mixed objects, dates) takes the
text route. Missing values are coded apart by ``pd.factorize`` and take the text route too
(they are few: labels and predictions are required).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["class_codes"]

Codes = npt.NDArray[np.intp]
Texts = npt.NDArray[np.str_]


def _text(values: npt.NDArray[Any]) -> Texts:
    """The text of each value, as the classes compare them."""
    return np.asarray(values).astype(str)


def _categorical(values: Any) -> tuple[Codes, Texts] | None:
    """A categorical without missing values: codes over its used categories, and their texts."""
    if not isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        return None
    data = pd.Categorical(values)
    codes = np.asarray(data.codes, dtype=np.intp)
    if len(codes) and codes.min() < 0:
        return None  # missing values: np.asarray changes the whole array's dtype
    # only the categories that occur are classes
    present = np.bincount(codes, minlength=len(data.categories)) > 0
    used = pd.Categorical.from_codes(np.flatnonzero(present), dtype=data.dtype)
    return (np.cumsum(present) - 1)[codes], _text(np.asarray(used))


def _factorised(array: npt.NDArray[Any]) -> tuple[Codes, npt.NDArray[Any]] | None:
    """Row codes (-1: missing) and the distinct values, where no two texts could merge."""
    kind = array.dtype.kind
    if kind == "f":  # by bit pattern: 0.0 and -0.0 (or two NaNs) stay apart
        bits = np.ascontiguousarray(array).view(f"i{array.dtype.itemsize}")
        codes, uniques = pd.factorize(bits, use_na_sentinel=True)
        return np.asarray(codes, dtype=np.intp), uniques.view(array.dtype)
    if kind in "biuUS":
        codes, uniques = pd.factorize(array, use_na_sentinel=True)
        return np.asarray(codes, dtype=np.intp), np.asarray(uniques, dtype=array.dtype)
    if kind == "O":
        codes, uniques = pd.factorize(array, use_na_sentinel=True)
        if all(type(u) is str for u in uniques):
            return np.asarray(codes, dtype=np.intp), np.asarray(uniques, dtype=object)
    return None


def _value_codes(values: Any) -> tuple[Codes, Texts, Any]:
    """Per row a value code (-1: take the row's own text), each value's text, the raw rows."""
    categorical = _categorical(values)
    if categorical is not None:
        return categorical[0], categorical[1], np.empty(0)
    if isinstance(getattr(values, "dtype", None), pd.StringDtype):
        # factorised as stored: NumPy would first make a Python string of every row
        series = pd.Series(values, copy=False)
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        return np.asarray(codes, dtype=np.intp), _text(np.asarray(uniques, dtype=object)), series
    array = np.asarray(values)
    found = _factorised(array) if array.ndim == 1 else None
    if found is None:  # every row by its own text
        return np.full(len(array), -1, dtype=np.intp), np.empty(0, dtype=str), array
    codes, uniques = found
    return codes, _text(uniques), array


def _apart(coded: tuple[Codes, Texts, Any]) -> tuple[Codes, Texts]:
    """The rows coded -1 and their own texts."""
    codes, _, source = coded
    rows = np.flatnonzero(codes < 0)
    if not len(rows):
        return rows, np.empty(0, dtype=str)
    # a text series' rows as np.asarray gives them (missing: NaN)
    taken = source.iloc[rows] if isinstance(source, pd.Series) else source[rows]
    return rows, _text(np.asarray(taken))


def _rows(coded: tuple[Codes, Texts, Any], classes: Texts) -> Codes:
    """Each row's class index among the sorted `classes`."""
    codes, texts, _ = coded
    lookup = np.searchsorted(classes, texts).astype(np.intp)
    out = lookup[codes] if len(texts) else np.empty(len(codes), dtype=np.intp)
    rows, own = _apart(coded)
    if len(rows):
        out[rows] = np.searchsorted(classes, own)
    return out


def class_codes(y_true: Any, y_pred: Any) -> tuple[tuple[str, ...], Codes, Codes]:
    """The sorted classes (as text), and each row's class index in labels and predictions."""
    coded = [_value_codes(values) for values in (y_true, y_pred)]
    texts = [t for c in coded for t in (c[1], _apart(c)[1])]
    found = np.unique(np.concatenate(texts))
    return tuple(str(c) for c in found), _rows(coded[0], found), _rows(coded[1], found)
