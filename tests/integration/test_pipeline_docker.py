"""The run pipeline with every real edge: Docker engine, MLflow SQLite store, signed trail."""

from __future__ import annotations

import json
import time
from pathlib import Path

import docker
import pytest

from sandbox.runs.pilot_run import RunServices, run_pilot
from sandbox.runs.services import build_services
from sandbox.runtime.docker.runtime import RUN_ID_LABEL
from sandbox.settings import Settings
from tests.pilots import manifest_dict, write_pilot

# A model whose factory first records what the container can see, then behaves.
SPY_MODEL = """\
import json, os
import pandas as pd
from sklearn.linear_model import LogisticRegression


def build_model(**params):
    seen = {}
    for folder in ("/input", "/pilot"):
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if path.endswith(".parquet"):  # every value, as text
                seen[path] = pd.read_parquet(path).to_csv(index=False)
                continue
            with open(path, errors="replace") as handle:
                seen[path] = handle.read()
    with open("/output/seen.json", "w") as out:
        json.dump(seen, out)
    return LogisticRegression(**params)
"""

CRASHING_MODEL = "def build_model(**params):\n    raise RuntimeError('model exploded')\n"


@pytest.fixture
def services(tmp_path: Path, runner_image: str) -> RunServices:
    return build_services(Settings(home=tmp_path / "home", image=runner_image))


def _mlflow_status(services: RunServices, run_id: str) -> str:
    from mlflow.tracking import MlflowClient

    return str(MlflowClient(services.tracking_uri).get_run(run_id).info.status)


@pytest.mark.docker
def test_only_features_cross_the_wall(tmp_path: Path, services: RunServices) -> None:
    pilot = write_pilot(tmp_path / "pilot")
    (pilot / "model.py").write_text(SPY_MODEL)
    outcome = run_pilot(pilot, services)
    assert outcome.report.runtime is not None
    assert outcome.report.runtime.container_state == "succeeded"
    seen = json.loads((outcome.run_dir / "output" / "seen.json").read_text())
    assert seen.pop("/input/.inputs-ready") == ""  # the host's go marker, empty
    assert set(seen) == {
        "/input/score.parquet",
        "/input/spec.json",
        "/input/train.parquet",
        "/pilot/model.py",
    }
    assert seen["/input/score.parquet"].splitlines()[0] == "row_id,income,household_size"
    assert seen["/input/train.parquet"].splitlines()[0] == "income,household_size,eligible"
    everything = "".join(seen.values())
    for forbidden in ("group", "sex", "full_name", "email", "Resident ", "@example.org"):
        assert forbidden not in everything, forbidden
    assert _mlflow_status(services, outcome.tracker_run_id or "") == "FINISHED"


@pytest.mark.docker
def test_blocked_run_never_creates_a_container(tmp_path: Path, services: RunServices) -> None:
    m = manifest_dict()
    m["data"]["features"] = ["income", "email"]
    client = docker.from_env()
    since = int(time.time()) - 1
    outcome = run_pilot(write_pilot(tmp_path / "pilot", manifest=m), services)
    until = int(time.time()) + 1
    assert outcome.verdict.status == "blocked"
    created = [
        event
        for event in client.events(
            since=since, until=until, decode=True, filters={"type": "container", "event": "create"}
        )
        if event.get("Actor", {}).get("Attributes", {}).get(RUN_ID_LABEL) == outcome.run_id
    ]
    assert created == []
    assert (
        client.containers.list(all=True, filters={"label": f"{RUN_ID_LABEL}={outcome.run_id}"})
        == []
    )
    assert _mlflow_status(services, outcome.tracker_run_id or "") == "FAILED"


@pytest.mark.docker
def test_crashing_model_fails_on_the_record(tmp_path: Path, services: RunServices) -> None:
    from sandbox.audit.trail import records_for_run, verify_trail

    pilot = write_pilot(tmp_path / "pilot")
    (pilot / "model.py").write_text(CRASHING_MODEL)
    outcome = run_pilot(pilot, services)
    assert outcome.verdict.status == "fail" and outcome.exit_code == 3
    failure = next(
        o for o in outcome.verdict.failures if o.rule_id == "runtime.container-succeeded"
    )
    assert "model exploded" in failure.evidence["stderr_tail"]
    assert _mlflow_status(services, outcome.tracker_run_id or "") == "FAILED"
    kinds = [r.kind for r in records_for_run(services.trail.path, outcome.run_id)]
    assert kinds == ["run.submitted", "run.started", "run.finished"]
    assert verify_trail(services.trail.path, services.trail.signer.verifier()).ok
    client = docker.from_env()
    assert (
        client.containers.list(all=True, filters={"label": f"{RUN_ID_LABEL}={outcome.run_id}"})
        == []
    )
