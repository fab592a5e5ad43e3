"""One read of a source: the same table and whole-file hash as reading and hashing apart."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sandbox.data import hashed
from sandbox.data.hashed import read_hashed
from sandbox.data.limits import CsvShape, check_csv_shape
from sandbox.data.reader import ReadOptions, read_table
from sandbox.digests import file_sha256
from sandbox.errors import DataError


def _frame(rows: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "zip": [f"0{n:04d}" for n in rng.integers(0, 9999, rows)],
            "income": np.where(rng.random(rows) < 0.1, np.nan, rng.normal(3000, 900, rows)),
            "status": rng.choice(["employed ", " retired", "NA", "unemployed", ""], rows),
        }
    )


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "latin-1"])
def test_csv_read_once_equals_read_then_hash(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "data.csv"
    _frame(3000).to_csv(path, index=False, encoding=encoding)
    options = ReadOptions(encoding=encoding, types={"zip": "string"})
    frame, digest = read_hashed(path, "csv", options=options)
    pd.testing.assert_frame_equal(frame, read_table(path, options=options))
    assert digest == file_sha256(path)


def test_parquet_read_once_equals_read_then_hash(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    _frame(500).to_parquet(path, index=False)
    frame, digest = read_hashed(path, "parquet")
    pd.testing.assert_frame_equal(frame, read_table(path))
    assert digest == file_sha256(path)


def test_bounds_stop_the_parse_with_the_scan_messages(tmp_path: Path) -> None:
    nul = tmp_path / "nul.csv"
    nul.write_bytes(b"a,b\n1,2\n" + b"\x00" * 10)
    with pytest.raises(DataError, match="NUL bytes") as caught:
        read_hashed(nul, "csv")
    assert str(nul) in str(caught.value)
    rows = tmp_path / "rows.csv"
    rows.write_text("a\n" + "1\n" * 50)
    shape = CsvShape(rows, max_rows=10)
    with pytest.raises(DataError, match="more than 10 rows"):
        shape.feed(rows.read_bytes())


@pytest.mark.parametrize("block", [1, 3, 7, 64, 1 << 20])
def test_block_by_block_checks_equal_the_whole_file_scan(tmp_path: Path, block: int) -> None:
    """Line lengths and counts are the same whatever the blocks the reader asks for."""
    path = tmp_path / "lines.csv"
    path.write_bytes(b"h\n" + b"x" * 30 + b"\nshort\n" + b"y" * 12)
    shape = CsvShape(path, max_line=30)
    data = path.read_bytes()
    for start in range(0, len(data), block):
        shape.feed(data[start : start + block])
    assert shape.total_lines == check_csv_shape(path, max_line=30) == 4
    long_line = CsvShape(path, max_line=29)
    with pytest.raises(DataError, match="line 2 is longer than 29 bytes"):
        for start in range(0, len(data), block):
            long_line.feed(data[start : start + block])


@pytest.mark.parametrize("change", ["rewrite", "swap", "restored mtime"])
def test_a_file_changed_between_scan_and_parse_is_refused(tmp_path: Path, change: str) -> None:
    """The table must be made of the bytes that were bounded and hashed."""
    path = tmp_path / "data.csv"
    path.write_text("a,b\n1,2\n")
    real_parse = hashed.parse

    def parse_after_change(*args: object, **kwargs: object) -> pd.DataFrame:
        stat = path.stat()
        time.sleep(0.05)  # past the file system clock's tick (a few ms), as any later save is
        if change == "swap":
            other = tmp_path / "other.csv"
            other.write_text("a,b\n1,2\n")
            other.replace(path)
        else:
            path.write_text("a,b\n9,9\n")
            if change == "restored mtime":
                os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        return real_parse(*args, **kwargs)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hashed, "parse", parse_after_change)
        with pytest.raises(DataError, match="changed while it was read"):
            read_hashed(path, "csv")
