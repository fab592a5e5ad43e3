"""Every kind of model a city team brings, run as a pilot against the real Docker engine.

A vendor's ONNX and skops files, a LightGBM model, a plain Python class and a command of the
pilot's own each run end to end; the trail's `run.started` record holds the model file's hash,
the reports say the sandbox cannot know what a vendor's model was trained on, and the fitted
model is an MLflow artifact the host never opens.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sandbox.digests import file_sha256
from sandbox.runs.pilot_run import RunOutcome, RunServices, run_pilot
from sandbox.runs.services import build_services
from sandbox.settings import Settings
from tests.pilots import make_frame, manifest_dict, write_pilot

FEATURES = ["income", "household_size"]

PLAIN_CLASS = """\
class IncomeCut:
    # no BaseEstimator, no get_params: fit and predict only
    def fit(self, features, labels):
        self.cut = float(features["income"].median())
        return self

    def predict(self, features):
        return (features["income"] < self.cut).astype(int).to_numpy()


def build_model(**params):
    return IncomeCut()
"""

LIGHTGBM = """\
from lightgbm import LGBMClassifier


def build_model(**params):
    return LGBMClassifier(n_estimators=20, num_leaves=7, verbose=-1, n_jobs=1, **params)
"""

COMMAND = """\
import pandas as pd

rows = pd.read_parquet("/input/score.parquet")
with open("/output/predictions.csv", "w") as out:
    out.write("row_id,prediction\\n")
    for row_id, income in zip(rows["row_id"], rows["income"]):
        out.write(f"{row_id},{int(income < 3000)}\\n")
"""


@pytest.fixture
def services(tmp_path: Path, runner_image: str) -> RunServices:
    return build_services(Settings(home=tmp_path / "home", image=runner_image))


def _pilot(folder: Path, model: dict[str, Any], code: str | None = None) -> Path:
    pilot = write_pilot(folder, manifest=manifest_dict(model=model))
    if code is not None:
        (pilot / "model.py").write_text(code)
    return pilot


def _fitted_logistic() -> Any:
    from sklearn.linear_model import LogisticRegression

    frame = make_frame(seed=11)  # a vendor's own data, not the pilot's
    labels = (frame["eligible"] == "yes").astype(int)
    return LogisticRegression(max_iter=500).fit(frame[FEATURES].to_numpy(np.float32), labels)


def _started(services: RunServices, outcome: RunOutcome) -> dict[str, Any]:
    for line in services.trail.path.read_text().splitlines():
        record = json.loads(line)
        if record["kind"] == "run.started" and record["run_id"] == outcome.run_id:
            return dict(record["payload"])
    raise AssertionError("no run.started record")


def _succeeded(outcome: RunOutcome) -> None:
    assert outcome.report.runtime is not None
    assert outcome.report.runtime.container_state == "succeeded", outcome.report.failure
    assert outcome.report.evaluation is not None


@pytest.mark.docker
def test_a_vendor_onnx_model_is_evaluated_and_its_hash_recorded(
    tmp_path: Path, services: RunServices
) -> None:
    skl2onnx = pytest.importorskip("skl2onnx")
    from skl2onnx.common.data_types import FloatTensorType

    pilot = _pilot(tmp_path / "pilot", {"artifact": "vendor.onnx"})
    onnx = skl2onnx.convert_sklearn(
        _fitted_logistic(), initial_types=[("X", FloatTensorType([None, 2]))]
    )
    (pilot / "vendor.onnx").write_bytes(onnx.SerializeToString())
    outcome = run_pilot(pilot, services, out_dir=tmp_path / "out")
    _succeeded(outcome)

    digest = file_sha256(pilot / "vendor.onnx")
    started = _started(services, outcome)
    assert started["model"]["kind"] == "artifact"
    assert started["model"]["artifact_sha256"] == digest
    model = outcome.report.model
    assert model.artifact_sha256 == digest and model.kind == "artifact"
    assert any("cannot know what data it was trained on" in n for n in model.notes)
    assert outcome.report.data.split is not None and outcome.report.data.split.fit_rows is None
    card = (tmp_path / "out" / "model-card.md").read_text()
    assert "cannot know what data it was trained on" in card and digest in card
    html = (outcome.run_dir / "reports" / "report.html").read_text()
    assert "cannot know what data it was trained on" in html
    assert outcome.report.explanations  # importance measured on the labelled training rows


@pytest.mark.docker
def test_a_vendor_skops_model_runs(tmp_path: Path, services: RunServices) -> None:
    import skops.io

    pilot = _pilot(tmp_path / "pilot", {"artifact": "models/vendor.skops"})
    (pilot / "models").mkdir()
    skops.io.dump(_fitted_logistic(), pilot / "models" / "vendor.skops")
    outcome = run_pilot(pilot, services)
    _succeeded(outcome)
    assert _started(services, outcome)["model"]["format"] == "skops"


@pytest.mark.docker
def test_a_lightgbm_model_runs_and_its_fitted_file_is_an_mlflow_artifact(
    tmp_path: Path, services: RunServices
) -> None:
    from mlflow.tracking import MlflowClient

    pilot = _pilot(tmp_path / "pilot", {"entrypoint": "model.py:build_model"}, LIGHTGBM)
    outcome = run_pilot(pilot, services)
    _succeeded(outcome)
    assert outcome.report.explanations
    assert outcome.tracker_run_id is not None
    logged = MlflowClient(services.tracking_uri).list_artifacts(outcome.tracker_run_id, "model")
    assert [a.path for a in logged] == ["model/model.joblib"]


@pytest.mark.docker
def test_a_plain_python_class_runs_with_permutation_importance(
    tmp_path: Path, services: RunServices
) -> None:
    pilot = _pilot(tmp_path / "pilot", {"entrypoint": "model.py:build_model"}, PLAIN_CLASS)
    outcome = run_pilot(pilot, services)
    _succeeded(outcome)
    importances = {f.feature: f.importance_mean for f in outcome.report.explanations or ()}
    assert importances["income"] > 0 and importances["household_size"] == 0


@pytest.mark.docker
def test_a_command_of_the_pilots_own_runs_under_the_contract(
    tmp_path: Path, services: RunServices
) -> None:
    pilot = _pilot(tmp_path / "pilot", {"command": ["python3", "score.py"]}, None)
    (pilot / "model.py").unlink()
    (pilot / "score.py").write_text(COMMAND)
    outcome = run_pilot(pilot, services)
    _succeeded(outcome)
    assert _started(services, outcome)["model"]["command"] == ["python3", "score.py"]
    assert outcome.report.model.kind == "command"
