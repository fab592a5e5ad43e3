"""The wall's Parquet tables: what the harness hands a model equals what the CSV wall gave it."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sandbox.data.wall import _write_table
from sandbox.digests import file_sha256
from sandbox.runtime import harness

TYPES = {"zip": "string", "kind": "category", "day": "date", "count": "integer"}


def _host_frame() -> pd.DataFrame:
    """Columns as the host's reader gives them, declared and inferred, with missing values."""
    kind = pd.Series(["b", "a", None, "b", "a"], dtype=object).astype("category")
    return pd.DataFrame(
        {
            "zip": pd.Series(["02134", None, "10001", "NA", "02134"], dtype=object),
            "kind": kind.cat.add_categories(["only-elsewhere"]),
            "day": pd.to_datetime(["2024-01-02", None, "2024-03-04", "2024-05-06", "2024-07-08"]),
            "count": pd.array([1, None, 3, 4, 5], dtype="Int64"),
            "whole": np.array([1, 2, 3, 4, 5], dtype=np.int64),
            "narrow": np.array([0, 1, 1, 0, 1], dtype=np.int8),  # a binary label is int8
            "single": np.array([0.5, 1.25, -2.0, 3.0, 0.0], dtype=np.float32),
            "ratio": [0.1, np.nan, 1 / 3, 2.5, 1e-17],
            "flag": [True, False, True, True, False],
            "text": pd.Series(["x", "y", None, "x", "z"]),
            "empty": [np.nan] * 5,
        }
    )


def _as_the_csv_wall_gave_it(frame: pd.DataFrame, types: dict[str, str]) -> pd.DataFrame:
    """The former route: the host wrote CSV, the harness parsed it with the declared types."""
    text = frame.to_csv(index=False, lineterminator="\n")
    as_text = {c: str for c, kind in types.items() if kind in ("string", "category", "date")}
    parsed = pd.read_csv(
        io.StringIO(text), dtype={"row_id": str, **as_text}, keep_default_na=False, na_values=[""]
    )
    for column, kind in types.items():
        if kind == "category":
            parsed[column] = parsed[column].astype("category")
        elif kind == "date":
            parsed[column] = pd.to_datetime(parsed[column], format="ISO8601")
    return parsed


def test_the_model_sees_the_columns_it_saw_through_csv(tmp_path: Path) -> None:
    host = _host_frame()
    path = tmp_path / "score.parquet"
    _write_table(path, host, first=("row_id", np.arange(5, dtype=np.int64)))
    columns = ["row_id", *host.columns]
    seen = harness.read_input(path, columns, TYPES)
    before = _as_the_csv_wall_gave_it(host.assign(row_id=np.arange(5))[columns], TYPES)
    assert seen["row_id"].tolist() == list(range(5))
    for column in host.columns:
        assert seen[column].dtype == before[column].dtype, column
        pd.testing.assert_series_equal(seen[column], before[column], rtol=0, atol=0)
    assert seen["zip"].tolist()[:1] == ["02134"] and seen["zip"].iloc[3] == "NA"
    assert list(seen["kind"].cat.categories) == ["a", "b"]  # only this file's values
    assert seen["ratio"].iloc[4] == 1e-17  # exact: no text in between


def test_the_files_are_the_same_bytes_every_time(tmp_path: Path) -> None:
    host = _host_frame()
    for name in ("one.parquet", "two.parquet"):
        _write_table(tmp_path / name, host.iloc[[4, 0, 2]], last=("y", np.array([1, 0, 1])))
    assert file_sha256(tmp_path / "one.parquet") == file_sha256(tmp_path / "two.parquet")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "missing"),
        (b"not parquet", "cannot be read as Parquet"),
        ("frame", "missing columns"),
    ],
)
def test_a_bad_input_file_is_exit_code_2(
    tmp_path: Path, content: bytes | str | None, message: str
) -> None:
    path = tmp_path / "train.parquet"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content == "frame":
        pd.DataFrame({"x1": [1.0]}).to_parquet(path, index=False)
    with pytest.raises(harness.HarnessError, match=message) as caught:
        harness.read_input(path, ["x1", "x2"], {})
    assert caught.value.exit_code == 2
