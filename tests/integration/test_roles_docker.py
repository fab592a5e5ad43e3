"""Data roles against the real engine and MLflow: a pilot trained on labelled history scores
the city's current cases, and a time-based split trains only on the past."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sandbox.audit.trail import iter_records
from sandbox.digests import file_sha256
from sandbox.runs.pilot_run import RunServices, run_pilot
from sandbox.runs.services import build_services
from sandbox.settings import Settings
from tests.roles_pilots import dated_frame, train_and_score, write_files

# Records the training rows' dates as the container saw them, then fits as usual.
DATE_SPY = """\
from sklearn.linear_model import LogisticRegression


class Spy(LogisticRegression):
    def fit(self, X, y):
        X.to_csv("/output/fitted.csv", index=False)
        return super().fit(X.drop(columns=["applied"]), y)

    def predict(self, X):
        return super().predict(X.drop(columns=["applied"]))

    def predict_proba(self, X):
        return super().predict_proba(X.drop(columns=["applied"]))


def build_model(**params):
    return Spy(max_iter=200, **params)
"""


@pytest.fixture
def services(tmp_path: Path, runner_image: str) -> RunServices:
    return build_services(Settings(home=tmp_path / "home", image=runner_image))


@pytest.mark.docker
def test_current_cases_are_scored_and_returned(tmp_path: Path, services: RunServices) -> None:
    from mlflow.tracking import MlflowClient

    pilot = train_and_score(tmp_path / "pilot", id="case")
    outcome = run_pilot(pilot, services, out_dir=tmp_path / "out")
    assert outcome.report.runtime is not None
    assert outcome.report.runtime.container_state == "succeeded"

    scored = pd.read_csv(tmp_path / "out" / "scored.csv")
    assert scored["case"].tolist() == [f"C-{1000 + i}" for i in range(50)]
    assert set(scored["prediction"]) <= {0, 1} and scored["score"].between(0, 1).all()
    evaluation = outcome.report.evaluation
    assert evaluation is not None and evaluation.rows == 120  # the labelled rows only
    sha = file_sha256(outcome.run_dir / "scored.csv")
    [finished] = [r for r in iter_records(services.trail.path) if r.kind == "run.finished"]
    assert finished.payload["scored"]["sha256"] == sha
    client = MlflowClient(services.tracking_uri)
    names = [a.path for a in client.list_artifacts(outcome.tracker_run_id or "", "outputs")]
    assert "outputs/scored.csv" in names


@pytest.mark.docker
def test_time_split_trains_only_before_the_cutoff(tmp_path: Path, services: RunServices) -> None:
    pilot = write_files(
        tmp_path / "pilot",
        {"data.csv": dated_frame()},
        data={
            "features": ["income", "household_size", "applied"],
            "split": {"by": "applied", "cutoff": "2023-10-01", "date_feature": True},
        },
    )
    (pilot / "model.py").write_text(DATE_SPY)
    outcome = run_pilot(pilot, services)
    fitted = pd.read_csv(outcome.run_dir / "output" / "fitted.csv")
    assert len(fitted) > 100
    assert (pd.to_datetime(fitted["applied"]) < "2023-10-01").all()
    split = outcome.report.data.split
    assert split is not None and split.method == "time"
