"""Bad data everywhere: the loader answers every malformed file with a DataError that names
the file and the field, and `sandbox run` turns it into exit code 2 with no half-run left.

"No trace of a half-run" means: the rejected run is closed on the record (trail
`run.submitted` then `run.failed`, run.json status "failed", the MLflow run FAILED), and
nothing was staged or started for it (no input/, pilot/ or output/ folder, no container).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.data.dataset import load_pilot_data
from sandbox.errors import DataError
from sandbox.manifest import load_manifest
from tests.pilots import make_frame, manifest_dict, write_pilot

REQUIRED = {
    "eligible": "data.label",
    "income": "data.features[0]",
    "household_size": "data.features[1]",
    "group": "data.sensitive[0]",
    "sex": "data.sensitive[1]",
    "full_name": "data.pii[0]",
    "email": "data.pii[1]",
}
HYPOTHESIS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _load(pilot: Path) -> object:
    return load_pilot_data(pilot, load_manifest(pilot))


@pytest.fixture
def pilot(tmp_path: Path) -> Path:
    return write_pilot(tmp_path / "pilot", frame=make_frame(rows=60))


@HYPOTHESIS
@given(missing=st.sets(st.sampled_from(sorted(REQUIRED)), min_size=1, max_size=len(REQUIRED) - 1))
def test_missing_columns_name_the_file_and_each_field(pilot: Path, missing: set[str]) -> None:
    make_frame(rows=60).drop(columns=sorted(missing)).to_csv(pilot / "data.csv", index=False)
    with pytest.raises(DataError) as caught:
        _load(pilot)
    message = str(caught.value)
    for column in missing:
        assert f"{REQUIRED[column]}: column {column!r} not in data.csv" in message
    assert str(pilot / "pilot.yaml") in message


@HYPOTHESIS
@given(extra=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=5, unique=True))
def test_extra_columns_are_ignored_never_crossing(pilot: Path, extra: list[str]) -> None:
    frame = make_frame(rows=60)
    names = [f"x_{name}" for name in extra if f"x_{name}" not in frame.columns]
    frame = frame.assign(**{name: 1 for name in names})
    frame.to_csv(pilot / "data.csv", index=False)
    try:
        data = _load(pilot)
    except DataError as exc:  # e.g. a name pandas reads as a second header line
        assert "data.csv" in str(exc)
        return
    assert not set(names) & set(data.table.features.columns)  # type: ignore[attr-defined]


@HYPOTHESIS
@given(content=st.binary(max_size=400))
def test_arbitrary_bytes_give_a_data_error_naming_the_file(pilot: Path, content: bytes) -> None:
    (pilot / "data.csv").write_bytes(content)
    with pytest.raises(DataError) as caught:
        _load(pilot)
    assert "data.csv" in str(caught.value)


@HYPOTHESIS
@given(encoding=st.sampled_from(["utf-16", "utf-32", "cp1252", "latin-1", "utf-8-sig"]))
def test_odd_encodings_are_read_or_refused_clearly(pilot: Path, encoding: str) -> None:
    frame = make_frame(rows=60)
    frame["full_name"] = [f"Résident {i} Zoë" for i in range(60)]
    (pilot / "data.csv").write_bytes(frame.to_csv(index=False).encode(encoding))
    try:
        data = _load(pilot)
    except DataError as exc:
        assert "data.csv" in str(exc)
        return
    assert len(data.table) == 60  # type: ignore[attr-defined]


@HYPOTHESIS
@given(
    column=st.sampled_from(["income", "household_size"]),
    value=st.one_of(st.text(max_size=20), st.floats(), st.integers(-(2**70), 2**70)),
)
def test_wrong_types_and_huge_values_never_crash(pilot: Path, column: str, value: object) -> None:
    frame = make_frame(rows=60)
    frame[column] = frame[column].astype(object)
    frame.loc[3, column] = value
    frame.to_csv(pilot / "data.csv", index=False)
    try:
        _load(pilot)
    except DataError as exc:
        assert "data.csv" in str(exc) or "pilot.yaml" in str(exc)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"\n\n", "no columns found"),
        (b"income,household_size,group,sex,full_name,email,eligible\n", "no data rows"),
    ],
)
def test_empty_files(pilot: Path, content: bytes, expected: str) -> None:
    (pilot / "data.csv").write_bytes(content)
    with pytest.raises(DataError, match=expected) as caught:
        _load(pilot)
    assert "data.csv" in str(caught.value)


def test_a_label_with_one_class(pilot: Path) -> None:
    make_frame(rows=60).assign(eligible="yes").to_csv(pilot / "data.csv", index=False)
    with pytest.raises(DataError, match="label column 'eligible' has 1 distinct values") as caught:
        _load(pilot)
    assert "data.csv" in str(caught.value)


def test_a_sensitive_attribute_with_one_group(pilot: Path) -> None:
    make_frame(rows=60).assign(group="a").to_csv(pilot / "data.csv", index=False)
    with pytest.raises(DataError, match=r"data\.sensitive\[0\].*'group'"):
        _load(pilot)


@pytest.mark.parametrize(
    "frame",
    [
        make_frame(rows=60).assign(eligible="no"),
        make_frame(rows=60).drop(columns=["income"]),
        pd.DataFrame({"income": [np.nan] * 3}),
    ],
    ids=["one-class label", "missing feature", "wrong columns"],
)
def test_cli_exits_2_and_leaves_no_half_run(tmp_path: Path, frame: pd.DataFrame) -> None:
    from mlflow.tracking import MlflowClient

    from sandbox.audit.trail import iter_records

    pilot = write_pilot(tmp_path / "pilot", manifest=manifest_dict(), frame=frame)
    home = tmp_path / "home"
    env = {**os.environ, "SANDBOX_HOME": str(home), "SANDBOX_IMAGE": "runner:unused"}
    env.pop("MLFLOW_TRACKING_URI", None)
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "run", str(pilot)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "data.csv" in result.stderr
    [run_dir] = (home / "runs").iterdir()
    left = {p.name for p in run_dir.iterdir()}
    assert "run.json" in left
    assert not left & {"input", "pilot", "output", "reports"}  # nothing staged or run
    state = json.loads((run_dir / "run.json").read_text())
    assert state["status"] == "failed"
    kinds = [r.kind for r in iter_records(home / "audit" / "trail.jsonl")]
    assert kinds == ["run.submitted", "run.failed"]
    tracking_uri = f"sqlite:///{home / 'mlflow' / 'mlflow.db'}"
    assert MlflowClient(tracking_uri).get_run(state["tracker_run_id"]).info.status == "FAILED"
