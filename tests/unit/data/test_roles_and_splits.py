"""Data roles (train, evaluation, score) and the time-based and group-aware splits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sandbox.data.dataset import load_pilot_data
from sandbox.data.split import group_split, plan_split, time_split
from sandbox.data.wall import write_inputs
from sandbox.errors import DataError, ManifestError
from sandbox.manifest import PilotManifest, load_manifest, manifest_json_schema
from tests.pilots import make_frame
from tests.roles_pilots import current_cases, dated_frame, train_and_score, write_files


def _cross(pilot: Path, tmp_path: Path) -> Any:
    manifest = load_manifest(pilot)
    data = load_pilot_data(pilot, manifest)
    return write_inputs(data, plan_split(data, manifest), manifest, tmp_path / "run" / "input")


def test_score_rows_cross_with_evaluation_rows_and_are_held_apart(tmp_path: Path) -> None:
    pilot = train_and_score(tmp_path / "pilot")
    crossing = _cross(pilot, tmp_path)
    score = pd.read_parquet(crossing.input_dir / "score.parquet")
    train = pd.read_parquet(crossing.input_dir / "train.parquet")
    assert list(score.columns) == ["row_id", "income", "household_size"]
    assert len(train) + crossing.eval_rows == 400  # the history alone is split
    assert crossing.scored_rows == 50 and len(score) == crossing.eval_rows + 50
    assert score["row_id"].tolist() == crossing.expected_row_ids.tolist()
    # the held-back labels cover the evaluation rows only, never a scored case
    assert set(crossing.held_back.row_ids).isdisjoint(crossing.scoring.row_ids)
    assert crossing.split.method == "stratified"
    everything = " ".join(
        pd.read_parquet(p).to_csv() if p.suffix == ".parquet" else p.read_text()
        for p in crossing.input_dir.iterdir()
    )
    for forbidden in ("C-1000", "Resident", "female", "eligible,"):
        assert forbidden not in everything.replace('"eligible"', "")


def test_train_and_evaluation_sources_make_no_split(tmp_path: Path) -> None:
    pilot = write_files(
        tmp_path / "pilot",
        {"2022.csv": make_frame(300, seed=1), "2023.csv": make_frame(120, seed=2)},
        data={
            "sources": [{"path": "2022.csv"}, {"path": "2023.csv", "role": "evaluation"}],
        },
    )
    crossing = _cross(pilot, tmp_path)
    assert (crossing.train_rows, crossing.eval_rows) == (300, 120)
    assert crossing.held_back.row_ids.tolist() == list(range(300, 420))
    assert crossing.split.method == "sources"


def test_time_split_trains_only_on_rows_before_the_cutoff(tmp_path: Path) -> None:
    frame = dated_frame()
    pilot = write_files(
        tmp_path / "pilot",
        {"data.csv": frame},
        data={
            "features": ["income", "applied_n"],
            "split": {"by": "applied", "cutoff": "2023-10-01"},
        },
    )
    # what crossed the wall: every training row dated before the cut-off, every evaluated after
    frame["applied_n"] = frame.index  # a feature that reveals which source row crossed
    frame.to_csv(pilot / "data.csv", index=False)
    crossing = _cross(pilot, tmp_path)
    train = pd.read_parquet(crossing.input_dir / "train.parquet")
    score = pd.read_parquet(crossing.input_dir / "score.parquet")
    dates = pd.to_datetime(frame["applied"])
    assert (dates[train["applied_n"]] < "2023-10-01").all()
    assert (dates[score["applied_n"]] >= "2023-10-01").all()
    assert len(train) == int((dates < "2023-10-01").sum()) and len(train) + len(score) == 400
    assert crossing.split.method == "time" and crossing.split.cutoff == "2023-10-01"


def test_time_split_by_fraction_keeps_each_date_on_one_side() -> None:
    dates = pd.Series(["2024-01-01"] * 3 + ["2024-01-02"] * 4 + ["2024-01-03"] * 3, name="d")
    split = time_split(dates, fraction=0.5)
    assert split.train.tolist() == [0, 1, 2] and split.cutoff == "2024-01-02"
    with pytest.raises(
        DataError,
        match=r"fraction 0.5 \(cut-off 2024-01-01\) leaves no training rows.*later cut-off",
    ):
        time_split(pd.Series(["2024-01-01"] * 5, name="d"), fraction=0.5)


def test_group_split_never_straddles_and_is_seeded() -> None:
    rng = np.random.default_rng(0)
    households = pd.Series(rng.integers(0, 80, size=500).astype(str), name="household")
    for seed in range(20):
        split = group_split(households, evaluation_fraction=0.3, seed=seed)
        train, evaluation = set(households[split.train]), set(households[split.evaluation])
        assert not train & evaluation
        assert len(split.train) + len(split.evaluation) == 500
    a = group_split(households, evaluation_fraction=0.3, seed=4)
    b = group_split(households, evaluation_fraction=0.3, seed=4)
    np.testing.assert_array_equal(a.evaluation, b.evaluation)


def test_group_split_matches_scikit_learns_group_shuffle_split() -> None:
    from sklearn.model_selection import GroupShuffleSplit

    households = pd.Series([f"h{i % 37}" for i in range(300)], name="household")
    split = group_split(households, evaluation_fraction=0.25, seed=11)
    codes = pd.factorize(households)[0]
    _, expected = next(
        GroupShuffleSplit(1, test_size=0.25, random_state=11).split(codes, groups=codes)
    )
    np.testing.assert_array_equal(split.evaluation, np.sort(expected))


def test_group_aware_pilot_split(tmp_path: Path) -> None:
    frame = dated_frame()
    pilot = write_files(
        tmp_path / "pilot",
        {"data.csv": frame},
        data={"split": {"group_by": "household", "seed": 2}},
    )
    manifest = load_manifest(pilot)
    split = plan_split(load_pilot_data(pilot, manifest), manifest)
    assert split.method == "group"
    assert not set(frame["household"][split.train]) & set(frame["household"][split.evaluation])


def test_scored_cases_named_by_id_column(tmp_path: Path) -> None:
    pilot = train_and_score(tmp_path / "pilot", id="case")
    data = load_pilot_data(pilot, load_manifest(pilot))
    assert data.scoring is not None
    assert data.scoring.keys["case"].tolist()[:2] == ["C-1000", "C-1001"]
    assert data.roles == ("train", "score")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"split": {"by": "applied", "cutoff": "2023-01-01"}, "features": ["income", "applied"]},
            "split.by: the date column 'applied' is also a model feature",
        ),
        ({"split": {"by": "applied"}}, "needs exactly one of `cutoff`"),
        ({"split": {"cutoff": "2023-01-01"}}, "cutoff: only for a time-based split"),
        (
            {"split": {"by": "applied", "fraction": 0.5, "group_by": "household"}},
            "choose a time-based or a group-aware split",
        ),
        (
            {"sources": [{"path": "a.csv", "role": "score"}]},
            "no source has role: train",
        ),
        ({"id": "case"}, "id: names the cases in scored.csv"),
        (
            {
                "sources": [{"path": "a.csv"}, {"path": "b.csv", "role": "evaluation"}],
                "split": {"seed": 3},
            },
            "split: no split is made when a source has role: evaluation",
        ),
    ],
)
def test_bad_declarations_name_field_and_fix(data: dict[str, Any], expected: str) -> None:
    from pydantic import ValidationError

    from sandbox.manifest import describe_validation_error
    from tests.pilots import manifest_dict

    m = manifest_dict()
    m["data"] = {**m["data"], **data}
    with pytest.raises(ValidationError) as info:
        PilotManifest.model_validate(m)
    message = describe_validation_error(Path("pilot.yaml"), info.value)
    assert message.startswith("pilot.yaml: data") and expected in message


def test_date_feature_declared_is_accepted(tmp_path: Path) -> None:
    frame = dated_frame()
    pilot = write_files(
        tmp_path / "pilot",
        {"data.csv": frame},
        data={
            "features": ["income", "applied"],
            "split": {"by": "applied", "fraction": 0.7, "date_feature": True},
            "sources": [{"path": "data.csv", "types": {"applied": "date"}}],
        },
    )
    crossing = _cross(pilot, tmp_path)
    assert crossing.split.method == "time" and crossing.train_rows < 400


def test_score_source_with_a_label_is_refused(tmp_path: Path) -> None:
    cases = current_cases().assign(eligible="yes")
    pilot = train_and_score(tmp_path / "pilot")
    cases.to_csv(pilot / "current.csv", index=False)
    with pytest.raises(DataError) as info:
        load_pilot_data(pilot, load_manifest(pilot))
    message = str(info.value)
    assert "current.csv: data.sources[1].role is score" in message
    assert "'eligible' (the label) holds 50 values" in message and "role: evaluation" in message


def test_two_train_sources_with_different_columns_are_refused(tmp_path: Path) -> None:
    pilot = write_files(
        tmp_path / "pilot",
        {"a.csv": make_frame(200), "b.csv": make_frame(200).drop(columns=["sex"])},
        data={"sources": [{"path": "a.csv"}, {"path": "b.csv"}]},
    )
    with pytest.raises(DataError) as info:
        load_pilot_data(pilot, load_manifest(pilot))
    message = str(info.value)
    assert "pilot.yaml: data.sources[1]: b.csv: its columns differ from a.csv (lacks 'sex')" in (
        message
    )
    assert "role: score" in message


def test_cutoff_leaving_no_evaluation_rows_is_refused(tmp_path: Path) -> None:
    pilot = write_files(
        tmp_path / "pilot",
        {"data.csv": dated_frame()},
        data={"split": {"by": "applied", "cutoff": "2030-01-01"}},
    )
    with pytest.raises(DataError) as info:
        _cross(pilot, tmp_path)
    message = str(info.value)
    assert "pilot.yaml: data.split.cutoff: cutoff 2030-01-01 leaves no evaluation rows" in message
    assert (
        "dates in 'applied' run from 2023-01-03 to 2023-12-31" in message
        and "pick a cut-off" in message
    )


def test_bad_dates_and_missing_groups_are_refused() -> None:
    with pytest.raises(DataError, match=r"holds 'soon' .* not a date"):
        time_split(pd.Series(["2024-01-01", "soon"], name="d"), cutoff="2024-01-01")
    with pytest.raises(DataError, match="no date in 1 labelled rows"):
        time_split(pd.Series(["2024-01-01", None], name="d"), cutoff="2024-01-01")
    with pytest.raises(DataError, match="group_by: column 'h' is empty in 1"):
        group_split(pd.Series(["a", None, "b"], name="h"), evaluation_fraction=0.3, seed=0)


def test_id_column_must_name_each_case_once(tmp_path: Path) -> None:
    pilot = train_and_score(tmp_path / "pilot", id="case")
    current_cases().assign(case="C-1").to_csv(pilot / "current.csv", index=False)
    with pytest.raises(DataError, match="data.id 'case' repeats values"):
        load_pilot_data(pilot, load_manifest(pilot))


def test_schema_describes_roles_and_splits() -> None:
    text = json.dumps(manifest_json_schema())
    for word in ('"role"', '"evaluation"', '"score"', '"group_by"', '"cutoff"', '"fraction"'):
        assert word in text


def test_bad_declaration_exits_2(tmp_path: Path) -> None:
    pilot = train_and_score(tmp_path / "pilot")
    current_cases().assign(eligible="no").to_csv(pilot / "current.csv", index=False)
    env = {**os.environ, "SANDBOX_HOME": str(tmp_path / "home"), "SANDBOX_IMAGE": "runner:x"}
    env.pop("MLFLOW_TRACKING_URI", None)
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "run", str(pilot)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "data.sources[1].role is score" in result.stderr


def test_manifest_error_for_roles_exits_through_load_manifest(tmp_path: Path) -> None:
    pilot = train_and_score(tmp_path / "pilot", id="full_name", pii=["full_name"])
    with pytest.raises(ManifestError, match="id: 'full_name' is declared PII"):
        load_manifest(pilot)
