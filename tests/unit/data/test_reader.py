"""Reading data as the city means it: header, missing-value markers, encoding, column types."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from sandbox.data.dataset import load_pilot_data, split_rows
from sandbox.data.reader import ReadOptions, read_table
from sandbox.data.wall import write_inputs
from sandbox.errors import DataError
from sandbox.manifest import load_manifest
from sandbox.runtime import harness
from tests.pilots import make_frame, manifest_dict, write_pilot


def _pilot(tmp_path: Path, frame: pd.DataFrame, **source: Any) -> Path:
    manifest = manifest_dict()
    manifest["data"]["sources"] = [{"path": "data.csv", **source}]
    return write_pilot(tmp_path / "pilot", manifest=manifest, frame=frame)


def test_defaults_read_as_before(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("zip,n,name\n02134,1,NA\n00501,2,Ann\n", encoding="utf-8")
    frame = read_table(path)
    assert frame["zip"].tolist() == [2134, 501]  # undeclared: inferred, as always
    assert frame["name"].isna().tolist() == [True, False]  # pandas' markers still mean missing


def test_values_and_names_are_stripped(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("age, sex ,income\n39, Male ,  \n50,  Female, 3\n", encoding="utf-8")
    frame = read_table(path)
    assert list(frame.columns) == ["age", "sex", "income"]
    assert frame["sex"].tolist() == ["Male", "Female"]
    assert frame["income"].isna().tolist() == [True, False]  # blank once stripped: missing


def test_declared_markers_types_and_encoding(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(
        "zip,age,city,opened\n02134, ?,Zürich,2024-01-05\n00501,31,NA,\n".encode("latin-1")
    )
    options = ReadOptions(
        missing=("?", ""),
        encoding="latin-1",
        types={"zip": "string", "age": "integer", "city": "category", "opened": "date"},
        where="data.sources[0]",
    )
    frame = read_table(path, options=options)
    assert frame["zip"].tolist() == ["02134", "00501"]
    assert frame["age"].isna().tolist() == [True, False] and str(frame["age"].dtype) == "Int64"
    assert frame["city"].tolist() == ["Zürich", "NA"]  # "NA" is a value once markers are declared
    assert str(frame["city"].dtype) == "category"
    assert frame["opened"].iloc[0] == pd.Timestamp("2024-01-05") and pd.isna(frame["opened"][1])


def test_a_value_that_does_not_fit_its_type_is_named(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("age\n31\n?\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        read_table(path, options=ReadOptions(types={"age": "integer"}, where="data.sources[0]"))
    assert "column 'age' is declared integer in data.sources[0].types" in str(caught.value)
    assert "data row 2 holds '?'" in str(caught.value)
    assert "data.sources[0].missing" in str(caught.value)


def test_a_file_without_header_row(tmp_path: Path) -> None:
    path = tmp_path / "adult.data"
    path.write_text("39, State-gov, ?\n50, Self-emp, 02134\n", encoding="utf-8")
    options = ReadOptions(
        header=False, names=("age", "workclass", "zip"), missing=("?",), types={"zip": "string"}
    )
    frame = read_table(path, "csv", options=options)
    assert list(frame.columns) == ["age", "workclass", "zip"]
    assert frame["zip"].tolist()[1] == "02134" and pd.isna(frame["zip"][0])
    with pytest.raises(DataError, match="3 columns in each row, but s.columns names 2"):
        read_table(path, "csv", options=ReadOptions(header=False, names=("a", "b"), where="s"))


def test_header_problem_is_one_message(tmp_path: Path) -> None:
    pilot = write_pilot(tmp_path / "pilot", frame=make_frame(rows=60))
    lines = (pilot / "data.csv").read_text().splitlines()[1:]
    (pilot / "data.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as caught:
        load_pilot_data(pilot, load_manifest(pilot))
    message = str(caught.value)
    assert "\n" not in message and "not in" not in message
    assert "data.csv: the first row looks like data, not column names" in message
    assert "set data.sources[0].header: false" in message and "data.sources[0].columns" in message


def test_headerless_pilot_reads_with_named_columns(tmp_path: Path) -> None:
    frame = make_frame(rows=60)
    pilot = _pilot(tmp_path, frame, header=False, columns=list(frame.columns))
    frame.to_csv(pilot / "data.csv", index=False, header=False)
    data = load_pilot_data(pilot, load_manifest(pilot))
    assert len(data.table) == 60
    assert data.sources[0].columns == tuple(frame.columns)


def test_markers_count_as_missing_and_groups_are_stripped(tmp_path: Path) -> None:
    frame = make_frame(rows=60).astype({"income": object})
    frame.loc[:9, "income"] = "?"
    frame["sex"] = " " + frame["sex"]  # as UCI Adult writes " Male"
    pilot = _pilot(tmp_path, frame, missing=["?", ""])
    data = load_pilot_data(pilot, load_manifest(pilot))
    assert data.missing_by_column["income"] == 10
    assert set(data.table.groups["sex"]) == {"female", "male"}


def test_undeclared_markers_are_not_missing(tmp_path: Path) -> None:
    frame = make_frame(rows=60).astype({"income": object})
    frame.loc[:9, "income"] = "?"
    pilot = _pilot(tmp_path, frame)
    assert load_pilot_data(pilot, load_manifest(pilot)).missing_by_column["income"] == 0


def test_a_string_column_crosses_the_wall_as_text(tmp_path: Path, monkeypatch: Any) -> None:
    frame = make_frame(rows=200)
    frame["zip"] = [f"0{2100 + i % 50}" for i in range(200)]
    manifest = manifest_dict()
    manifest["data"]["features"] = ["income", "zip"]
    manifest["data"]["sources"] = [{"path": "data.csv", "types": {"zip": "string"}}]
    pilot = write_pilot(tmp_path / "pilot", manifest=manifest, frame=frame)
    data = load_pilot_data(pilot, load_manifest(pilot))
    split = split_rows(data.table.label, evaluation_fraction=0.3, seed=7, stratify=True)
    crossing = write_inputs(data, split, load_manifest(pilot), tmp_path / "input")
    spec = json.loads((crossing.input_dir / "spec.json").read_text())
    assert spec["types"] == {"zip": "string"}
    monkeypatch.setattr(harness, "INPUT", crossing.input_dir)
    score = harness.read_input(
        crossing.input_dir / "score.parquet", ["row_id", "zip"], spec["types"]
    )
    assert score["zip"].str.startswith("0").all()  # the model sees "02134", not 2134


def test_manifest_declares_how_to_read(tmp_path: Path) -> None:
    source = {"path": "data.csv", "header": False, "columns": ["a", "b"], "missing": ["?"]}
    source |= {"encoding": "latin-1", "types": {"a": "string", "b": "date"}}
    manifest = manifest_dict()
    manifest["data"]["sources"] = [source]
    pilot = tmp_path / "pilot"
    pilot.mkdir()
    (pilot / "pilot.yaml").write_text(yaml.safe_dump(manifest))
    declared = load_manifest(pilot).data.sources[0]
    assert declared.read_options(0).types == {"a": "string", "b": "date"}
    assert declared.read_options(0).where == "data.sources[0]"
