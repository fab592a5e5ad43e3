"""`as_floats` gives `pd.to_numeric(errors="coerce")`'s numbers, bit for bit, either way."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.tasks.numbers import as_floats


def _reference(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)


def _same_bits(got: np.ndarray, want: np.ndarray) -> bool:
    return got.dtype == np.float64 and got.tobytes() == want.astype(np.float64).tobytes()


TRICKY = [
    "0.5",
    " 0.5",
    "0.5 ",
    "+0.5",
    ".5",
    "5.",
    "1e-1",
    "1E-1",
    "inf",
    "-inf",
    "nan",
    "NaN",
    "Infinity",
    "1_0",
    "0x1p-1",
    "",
    "1,5",
    "\u0661",
    "-0",
    "-0.0",
    "-0e0",
    "00.5",
    "5e-324",
    "1e400",
    "9007199254740993",
    "123456789012345678901234567890",
    "0.50000000000000011102230246251565404236316680908203125",
]


@pytest.mark.parametrize("value", TRICKY)
def test_each_tricky_value_reads_as_pandas_reads_it(value: str) -> None:
    values = pd.Series([value, "0.25"], dtype=str)
    assert _same_bits(as_floats(values), _reference(values))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True).map(repr),
            st.floats(min_value=0, max_value=1).map(lambda v: f"{v:.17g}"),
            st.integers(min_value=-(2**70), max_value=2**70).map(str),
            st.text(alphabet="0123456789.eE+-_ infatyINFATY", max_size=8),
        ),
        max_size=20,
    )
)
def test_any_column_reads_as_pandas_reads_it(texts: list[str]) -> None:
    values = pd.Series(texts, dtype=str)
    assert _same_bits(as_floats(values), _reference(values))


def test_missing_values_and_other_dtypes() -> None:
    text = pd.Series(["0.5", None, "1"], dtype=str)
    assert _same_bits(as_floats(text), np.array([0.5, np.nan, 1.0]))
    mixed = pd.Series([0.5, "x", b"1"], dtype=object)  # never given to Arrow's parser
    assert _same_bits(as_floats(mixed), _reference(mixed))
    for numbers in (pd.Series([1, 2]), pd.Series([0.5, 1.0]), pd.Series([True, False])):
        assert _same_bits(as_floats(numbers), _reference(numbers))
