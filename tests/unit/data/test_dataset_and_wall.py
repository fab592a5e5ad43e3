from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sandbox.data.dataset import load_pilot_data, split_rows
from sandbox.data.wall import stage_code, write_inputs
from sandbox.errors import DataError, ManifestError, UserInputError
from sandbox.manifest import load_manifest
from tests.pilots import make_frame, manifest_dict, write_pilot


def _prepared(tmp_path: Path, **kwargs: object):
    pilot = write_pilot(tmp_path / "pilot", **kwargs)  # type: ignore[arg-type]
    manifest = load_manifest(pilot)
    data = load_pilot_data(pilot, manifest)
    return pilot, manifest, data


def test_label_encoded_and_groups_kept(tmp_path: Path) -> None:
    _, _, data = _prepared(tmp_path)
    table = data.table
    assert set(np.unique(table.label)) == {0, 1}
    assert list(table.row_ids) == list(range(len(table)))
    assert set(table.groups["group"]) == {"a", "b", "c"}
    assert list(table.features.columns) == ["income", "household_size"]
    assert data.sources[0].sha256.startswith("sha256:") and data.sources[0].rows == 400


def test_nothing_sensitive_crosses_the_wall(tmp_path: Path) -> None:
    """The files mounted into the container hold features, the label for training rows, and
    row ids: never a sensitive attribute, a PII column, or an evaluation label."""
    pilot, manifest, data = _prepared(tmp_path)
    split = split_rows(data.table.label, evaluation_fraction=0.3, seed=7, stratify=True)
    crossing = write_inputs(data, split, manifest, tmp_path / "run" / "input")
    train = pd.read_parquet(crossing.input_dir / "train.parquet")
    score = pd.read_parquet(crossing.input_dir / "score.parquet")
    assert list(train.columns) == ["income", "household_size", "eligible"]
    assert list(score.columns) == ["row_id", "income", "household_size"]
    source = make_frame()
    everything = " ".join(
        pd.read_parquet(p).to_csv() if p.suffix == ".parquet" else p.read_text()
        for p in crossing.input_dir.iterdir()
    )
    for forbidden in ["group", "sex", "full_name", "email", "Resident 1", "@example.org", "female"]:
        assert forbidden not in everything
    assert set(score["row_id"]).isdisjoint(set(range(len(source))) - set(split.evaluation))
    assert crossing.held_back.row_ids.tolist() == score["row_id"].tolist()
    assert len(train) + len(score) == len(source)
    spec = json.loads((crossing.input_dir / "spec.json").read_text())
    assert spec["features"] == ["income", "household_size"] and spec["seed"] == 3
    assert spec["outputs"] == {
        "prediction": "binary",
        "score": "probability",
        "scoring": "balanced_accuracy",
    }


def test_split_is_seeded_and_stratified(tmp_path: Path) -> None:
    _, _, data = _prepared(tmp_path)
    y = data.table.label
    a = split_rows(y, evaluation_fraction=0.3, seed=7, stratify=True)
    b = split_rows(y, evaluation_fraction=0.3, seed=7, stratify=True)
    c = split_rows(y, evaluation_fraction=0.3, seed=8, stratify=True)
    np.testing.assert_array_equal(a.evaluation, b.evaluation)
    assert not np.array_equal(a.evaluation, c.evaluation)
    assert abs(y[a.evaluation].mean() - y[a.train].mean()) < 0.02


def test_only_code_is_staged(tmp_path: Path) -> None:
    pilot, manifest, _ = _prepared(tmp_path)
    (pilot / "notes.txt").write_text("not code")
    (pilot / "leak.py").symlink_to(pilot / "data.csv")
    staged = stage_code(pilot, manifest, tmp_path / "staged")
    assert set(staged) == {"model.py"}
    assert not (tmp_path / "staged" / "data.csv").exists()


def test_data_matching_code_glob_is_never_staged(tmp_path: Path) -> None:
    m = manifest_dict()
    m["model"]["code"] = ["*"]
    pilot, manifest, _ = _prepared(tmp_path, manifest=m)
    staged = stage_code(pilot, manifest, tmp_path / "staged")
    assert "data.csv" not in staged and "pilot.yaml" not in staged


def test_missing_entrypoint_file(tmp_path: Path) -> None:
    pilot, manifest, _ = _prepared(tmp_path)
    (pilot / "model.py").unlink()
    with pytest.raises(ManifestError, match="model.entrypoint: 'model.py'"):
        stage_code(pilot, manifest, tmp_path / "staged")


def test_unknown_column_names_field_and_suggests(tmp_path: Path) -> None:
    m = manifest_dict()
    m["data"]["sensitive"] = ["group", "sexx"]
    with pytest.raises(DataError) as info:
        _prepared(tmp_path, manifest=m)
    message = str(info.value)
    assert "pilot.yaml: data.sensitive[1]: column 'sexx' not in data.csv" in message
    assert "did you mean 'sex'" in message


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda f: f.assign(eligible="yes"), "has 1 distinct values"),
        (
            lambda f: f.assign(eligible=np.where(f.index % 3 == 0, "maybe", f["eligible"])),
            "3 distinct",
        ),
        (lambda f: f.assign(eligible=f["eligible"].where(f.index > 5)), "6 missing values"),
        (lambda f: f.assign(row_id=1), "'row_id' is reserved"),
        (lambda f: f.iloc[:0], "no data rows"),
    ],
)
def test_bad_labels_and_columns(tmp_path: Path, mutate, expected: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DataError, match=expected):
        _prepared(tmp_path, frame=mutate(make_frame()))


def test_positive_label_must_exist(tmp_path: Path) -> None:
    m = manifest_dict()
    m["task"]["positive_label"] = True
    with pytest.raises(DataError, match="task.positive_label: True is not a value"):
        _prepared(tmp_path, manifest=m)


def test_parquet_source(tmp_path: Path) -> None:
    m = manifest_dict()
    m["data"]["sources"] = [{"path": "data.parquet"}]
    pilot = write_pilot(tmp_path / "pilot", manifest=m)
    make_frame().to_parquet(pilot / "data.parquet")
    data = load_pilot_data(pilot, load_manifest(pilot))
    assert data.sources[0].format == "parquet" and len(data.table) == 400


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"\xff\xfe\x00bad", "not UTF-8"),
        (b'a,b\n1,"unclosed\n', "malformed CSV"),
    ],
)
def test_malformed_files(tmp_path: Path, content: bytes, expected: str) -> None:
    pilot = write_pilot(tmp_path / "pilot")
    (pilot / "data.csv").write_bytes(content)
    with pytest.raises(DataError, match=expected):
        load_pilot_data(pilot, load_manifest(pilot))


def test_source_symlink_outside_is_refused(tmp_path: Path) -> None:
    pilot = write_pilot(tmp_path / "pilot")
    outside = tmp_path / "outside.csv"
    make_frame().to_csv(outside, index=False)
    (pilot / "data.csv").unlink()
    (pilot / "data.csv").symlink_to(outside)
    with pytest.raises(UserInputError, match="outside the"):  # refused as the manifest loads
        load_pilot_data(pilot, load_manifest(pilot))


def test_training_rows_are_written_fitted_rows_first(tmp_path: Path) -> None:
    """The host draws the importance hold-back: the training file holds the same rows as in
    file order, reordered as the harness's split returns them, with the fitted count in the
    spec; the legacy layout (a replay of an older run) is file order without the count."""
    from sandbox.data.holdout import hold_back

    _, manifest, data = _prepared(tmp_path)
    split = split_rows(data.table.label, evaluation_fraction=0.3, seed=7, stratify=True)
    drawn = write_inputs(data, split, manifest, tmp_path / "drawn")
    legacy = write_inputs(data, split, manifest, tmp_path / "legacy", draw_holdout=False)

    in_order = pd.read_parquet(legacy.input_dir / "train.parquet")
    reordered = pd.read_parquet(drawn.input_dir / "train.parquet")
    expected = hold_back(
        in_order["eligible"].to_numpy(),
        fraction=manifest.model.importance_holdout,
        seed=manifest.model.seed,
        classes=True,
    )
    assert expected is not None
    pd.testing.assert_frame_equal(reordered, in_order.iloc[expected.order].reset_index(drop=True))
    spec = json.loads((drawn.input_dir / "spec.json").read_text())
    assert spec["explain"]["fit_rows"] == expected.fit_rows
    assert "fit_rows" not in json.loads((legacy.input_dir / "spec.json").read_text())["explain"]
    assert drawn.files["score.parquet"] == legacy.files["score.parquet"]
