"""Skipping the strip of a CSV text column that has nothing to strip changes no value."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.data import reader
from sandbox.data.reader import ReadOptions, parse_table

PIECES = ["a", "Ann", "02134", "NA", "null", "", " ", "\t", "\xa0", "\u3000", "\u2003", "é", "x y"]
VALUES = st.lists(st.sampled_from(PIECES), min_size=1, max_size=4).map("".join)


def _csv(rows: list[tuple[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "city"])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(VALUES, VALUES), min_size=1, max_size=30),
    declared=st.booleans(),
)
def test_the_check_reads_as_stripping_every_column(
    rows: list[tuple[str, str]], declared: bool
) -> None:
    raw = _csv(rows)
    options = ReadOptions(types={"name": "string"} if declared else {})
    fast = parse_table(io.BytesIO(raw), "csv", options=options, path=Path("a.csv"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reader, "may_need_strip", lambda column: True)
        full = parse_table(io.BytesIO(raw), "csv", options=options, path=Path("a.csv"))
    pd.testing.assert_frame_equal(fast, full)


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_slices_and_missing_values_are_checked(kind: pa.DataType) -> None:
    values = pa.array(["a ", None, "b", "", "c"], type=kind)
    column = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([values])))
    assert reader.may_need_strip(column)
    tail = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([values.slice(1)])))
    assert not reader.may_need_strip(tail)  # "a " is outside the slice
    spaced = pa.array(["b", "\u3000c"], type=kind)
    assert reader.may_need_strip(pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([spaced]))))


def _edge_may_strip(value: str) -> bool:
    """A value's first or last character is whitespace or not ASCII (the check's rule)."""
    return any(
        c in "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f " or ord(c) > 127 for c in (value[0], value[-1])
    )


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.none(), st.sampled_from(["", "a", " a", "b ", "é", "ab"])), max_size=12
    ),
    start=st.integers(0, 12),
    kind=st.sampled_from([pa.string(), pa.large_string()]),
)
def test_the_check_looks_at_exactly_the_values_of_the_slice(
    values: list[str | None], start: int, kind: pa.DataType
) -> None:
    chunk = pa.array(values, type=kind).slice(min(start, len(values)))
    column = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([chunk], type=kind)))
    expected = any(_edge_may_strip(v) for v in chunk.to_pylist() if v)
    assert reader.may_need_strip(column) is expected
