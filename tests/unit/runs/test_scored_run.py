"""A pilot with a train and a score source, run against the fake runtime: every current case
comes back in scored.csv (run folder, --out, tracker, trail), and the evaluation uses the
labelled rows only."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sandbox.audit.signing import Signer
from sandbox.audit.trail import AuditTrail, iter_records
from sandbox.digests import file_sha256
from sandbox.runs.pilot_run import run_pilot
from sandbox.runs.services import RunServices
from sandbox.runtime.base import ContainerSpec
from sandbox.runtime.fake import FakeRuntime
from sandbox.tracking.memory import InMemoryTracker
from tests.roles_pilots import dated_frame, train_and_score, write_files

SEEN: dict[str, pd.DataFrame] = {}


def by_income(spec: ContainerSpec) -> dict[str, bytes]:
    """A stand-in model: predicts from income alone, for every row of score.parquet."""
    score = pd.read_parquet(spec.input_dir / "score.parquet")
    SEEN["score"] = score
    SEEN["train"] = pd.read_parquet(spec.input_dir / "train.parquet")
    prob = (1 / (1 + ((score["income"] - 3000) / 400).map(lambda z: 2.718281828**z))).round(6)
    out = pd.DataFrame(
        {"row_id": score["row_id"], "prediction": (prob > 0.5).astype(int), "score": prob}
    )
    return {"predictions.csv": out.to_csv(index=False).encode()}


@pytest.fixture
def services(tmp_path: Path) -> RunServices:
    return RunServices(
        runtime=FakeRuntime(by_income),
        tracker=InMemoryTracker(),
        trail=AuditTrail(tmp_path / "audit" / "trail.jsonl", Signer.load_or_create(tmp_path / "k")),
        image="runner:test",
        runs_dir=tmp_path / "runs",
        actor="tester@test",
        tracking_uri="memory://",
    )


def test_scored_cases_come_back_and_only_labelled_rows_are_evaluated(
    tmp_path: Path, services: RunServices
) -> None:
    pilot = train_and_score(tmp_path / "pilot", id="case")
    outcome = run_pilot(pilot, services, out_dir=tmp_path / "out")
    assert outcome.verdict.status in ("pass", "pass_with_warnings")

    scored = pd.read_csv(outcome.run_dir / "scored.csv")
    assert list(scored.columns) == ["case", "prediction", "score"]
    assert scored["case"].tolist() == [f"C-{1000 + i}" for i in range(50)]
    # each case's prediction is the one the model made for the row that carried its features
    cases = pd.read_csv(pilot / "current.csv")
    made = SEEN["score"].set_index("row_id")
    expected = (made.loc[made.index >= 400, "income"] < 3000).astype(int).tolist()
    assert scored["prediction"].tolist() == expected
    assert made.loc[made.index >= 400, "income"].tolist() == cases["income"].tolist()
    assert (tmp_path / "out" / "scored.csv").read_bytes() == (
        outcome.run_dir / "scored.csv"
    ).read_bytes()

    report = outcome.report
    assert report.evaluation is not None and report.evaluation.rows == 120  # 30% of 400
    assert report.data.split is not None and report.data.split.eval_rows == 120
    roles = report.data.roles
    assert roles is not None
    assert roles.sources == {"history.csv": "train", "current.csv": "score"}
    assert (roles.evaluated_rows, roles.scored_rows, roles.scored_file) == (120, 50, "scored.csv")
    sha = file_sha256(outcome.run_dir / "scored.csv")
    assert roles.scored_sha256 == sha
    assert "50 current cases from current.csv (role: score)" in report.data.split.description

    [finished] = [r for r in iter_records(services.trail.path) if r.kind == "run.finished"]
    assert finished.payload["scored"] == {"file": "scored.csv", "sha256": sha, "rows": 50}
    tracker = services.tracker
    assert isinstance(tracker, InMemoryTracker)
    [run] = tracker.runs.values()
    assert run.artifacts["outputs/scored.csv"] == (outcome.run_dir / "scored.csv").read_bytes()
    assert run.params["split.method"] == "stratified" and run.params["data.id"] == "case"
    assert run.params["data.roles"] == "train,score"

    html = (outcome.reports["html"]).read_text()
    markdown = (outcome.reports["md"]).read_text()
    datasheet = (outcome.run_dir / "reports" / "datasheet.md").read_text()
    assert "were scored for the city, not evaluated" in datasheet
    for text in (html, markdown):
        assert "current cases scored, not evaluated" in text and "scored.csv" in text
    report_json = json.loads((outcome.run_dir / "reports" / "report.json").read_text())
    assert report_json["data"]["roles"]["scored_rows"] == 50


def test_without_an_id_cases_are_named_by_file_and_row(
    tmp_path: Path, services: RunServices
) -> None:
    outcome = run_pilot(train_and_score(tmp_path / "pilot"), services)
    scored = pd.read_csv(outcome.run_dir / "scored.csv")
    assert list(scored.columns) == ["source", "row", "prediction", "score"]
    assert scored["row"].tolist() == list(range(1, 51))
    assert set(scored["source"]) == {"current.csv"}


def test_time_split_run_reports_the_cutoff(tmp_path: Path, services: RunServices) -> None:
    frame = dated_frame()
    pilot = write_files(
        tmp_path / "pilot",
        {"data.csv": frame},
        data={"split": {"by": "applied", "cutoff": "2023-09-01"}},
    )
    outcome = run_pilot(pilot, services)
    later = int((pd.to_datetime(frame["applied"]) >= "2023-09-01").sum())
    assert len(SEEN["score"]) == later and len(SEEN["train"]) == 400 - later
    split = outcome.report.data.split
    assert split is not None
    assert (split.method, split.by, split.cutoff) == ("time", "applied", "2023-09-01")
    assert split.stratified is None and split.evaluation_fraction is None
    assert "rows dated before 2023-09-01 trained the model" in split.description
    assert not (outcome.run_dir / "scored.csv").exists()
