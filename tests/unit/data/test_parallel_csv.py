"""A CSV file read by its path (split over threads by pandas) reads as a whole-column read.

`parse_table` on a path lets pandas parse byte ranges on threads, falling back to a read in
row chunks; on a stream it reads every column whole (`low_memory=False`). These tests force
pandas to split even small files and compare the two, value for value and type for type,
with columns whose type changes part-way down the file.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.data import reader
from sandbox.data.reader import ReadOptions, parse_table

#: Values of every type pandas infers, and values that turn a column into another type.
KINDS = {
    "int": st.integers(-(10**6), 10**6).map(str),
    "big": st.sampled_from(["9223372036854775807", "9223372036854775808", "18446744073709551615",
                            "9007199254740993", "-9223372036854775808"]),
    "float": st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
    "bool": st.sampled_from(["True", "False", "TRUE", "false"]),
    "text": st.sampled_from(["Ann", " Bo ", "02134", "x y", "é", "inf", "1e5", "0x10"]),
    "missing": st.sampled_from(["", "NA", "null", "nan", " NA"]),
}  # fmt: skip


@contextlib.contextmanager
def _split_small_files() -> Iterator[None]:
    """Make pandas split files of any size over threads (it does so from 5 MB by itself)."""
    from pandas.io.parsers import readers

    with pytest.MonkeyPatch.context() as patch:
        if hasattr(readers, "_PARALLEL_READ_MIN_BYTES"):  # pandas 3.1 and later
            patch.setattr(readers, "_PARALLEL_READ_MIN_BYTES", 1)
            patch.setattr(readers, "_PARALLEL_MIN_CHUNK_ROWS", 1)
        with pd.option_context("mode.max_threads", 4) if _has_threads_option() else _none():
            yield


def _has_threads_option() -> bool:
    try:
        pd.get_option("mode.max_threads")
    except KeyError:
        return False
    return True


@contextlib.contextmanager
def _none() -> Iterator[None]:
    yield


@st.composite
def _columns(draw: st.DrawFn) -> list[list[str]]:
    """Columns of one kind, some with values of another kind from a random row on."""
    rows = draw(st.integers(1, 60))
    columns = []
    for _ in range(draw(st.integers(1, 4))):
        kind, later = draw(st.sampled_from(sorted(KINDS))), draw(st.sampled_from(sorted(KINDS)))
        switch = draw(st.integers(0, rows))
        columns.append([draw(KINDS[kind] if row < switch else KINDS[later]) for row in range(rows)])
    return columns


def _csv(columns: list[list[str]]) -> bytes:
    lines = [",".join(f"c{i}" for i in range(len(columns)))]
    lines += [",".join(row) for row in zip(*columns, strict=True)]
    return ("\n".join(lines) + "\n").encode()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(columns=_columns(), declared=st.booleans())
def test_a_split_read_equals_a_whole_read(
    tmp_path_factory: pytest.TempPathFactory, columns: list[list[str]], declared: bool
) -> None:
    raw = _csv(columns)
    path = tmp_path_factory.mktemp("csv") / "data.csv"
    path.write_bytes(raw)
    options = ReadOptions(types={"c0": "string"} if declared else {})
    whole = parse_table(io.BytesIO(raw), "csv", options=options, path=path)
    with _split_small_files():
        split = parse_table(path, "csv", options=options, path=path)
    pd.testing.assert_frame_equal(split, whole, check_exact=True)


def test_the_split_read_is_taken_for_an_ordinary_file(tmp_path: Path) -> None:
    """Without a reason to read whole, the path is read once, as pandas splits it."""
    path = tmp_path / "data.csv"
    path.write_bytes(_csv([[str(i) for i in range(500)], ["a", "b"] * 250]))
    calls: list[object] = []
    real = pd.read_csv

    def counted(source: object, **options: object) -> pd.DataFrame:
        calls.append(options.get("low_memory", True))
        return real(source, **options)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reader.pd, "read_csv", counted)
        parse_table(path, "csv", path=path)
    assert calls == [True]


@pytest.mark.parametrize(
    ("first", "later"),
    [("1", "Ann"), ("True", "NA"), ("1", "18446744073709551615"), ("1.5", "9007199254740993")],
)
def test_mixed_chunks_are_read_again_whole(tmp_path: Path, first: str, later: str) -> None:
    """Types that change far down a file: pandas' row chunks disagree, so the file is read
    whole, as one column."""
    rows = 300_000  # past pandas' first row chunk
    path = tmp_path / "data.csv"
    path.write_bytes(("v,w\n" + f"{first},0\n" * rows + f"{later},0\n").encode())
    split = parse_table(path, "csv", path=path)
    whole = parse_table(io.BytesIO(path.read_bytes()), "csv", path=path)
    pd.testing.assert_frame_equal(split, whole, check_exact=True)
