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
