"""The `sandbox` command as a user drives it: real Docker, real MLflow store, real signatures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.pilots import manifest_dict, write_pilot

ROOT = Path(__file__).resolve().parents[2]
BLUEPRINT = ROOT / "blueprints" / "benefits-eligibility-screening"


def sandbox(home: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SANDBOX_HOME": str(home), "COLUMNS": "120"}
    env.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sandbox-home")


@pytest.fixture(scope="module")
def blueprint_run(home: Path, tmp_path_factory: pytest.TempPathFactory, runner_image: str):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("out")
    result = sandbox(home, "run", str(BLUEPRINT), "--out", str(out))
    return result, out


@pytest.mark.docker
def test_blueprint_runs_end_to_end(blueprint_run, home: Path) -> None:  # type: ignore[no-untyped-def]
    result, out = blueprint_run
    assert result.returncode == 0, result.stderr + result.stdout
    assert "PASS WITH WARNINGS" in result.stdout or "PASS" in result.stdout
    for stage in ("manifest", "data", "container", "evaluation", "audit trail"):
        assert stage in result.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["schema_version"] == "1.3"
    assert report["runtime"]["container_state"] == "succeeded"
    assert report["runtime"]["image_digest"].startswith("sha256:")
    race = next(s for s in report["evaluation"]["attribute_sets"] if s["name"] == "race_ethnicity")
    assert len(race["groups"]) == 5
    assert report["explanations"] and {e["feature"] for e in report["explanations"]} <= set(
        yaml.safe_load((BLUEPRINT / "pilot.yaml").read_text())["data"]["features"]
    )
    html = (out / "report.html").read_text()
    assert (
        "race_ethnicity" in html
        and "<svg" in html
        and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    )


@pytest.mark.docker
def test_mlflow_store_holds_the_run(blueprint_run, home: Path) -> None:  # type: ignore[no-untyped-def]
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{home / 'mlflow' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("benefits-eligibility-screening")
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    metrics = run.data.metrics
    assert "fairness.race_ethnicity.selection_rate.difference" in metrics
    assert 0.5 < metrics["perf.roc_auc"] <= 1.0
    assert run.data.tags["sandbox.verdict"] in ("pass", "pass_with_warnings")
    assert run.data.tags["sandbox.image_digest"].startswith("sha256:")
    assert run.data.params["model.entrypoint"] == "model.py:build_model"
    reports = {a.path for a in client.list_artifacts(run.info.run_id, "reports")}
    assert "reports/report.html" in reports and "reports/report.json" in reports
    audit = {a.path for a in client.list_artifacts(run.info.run_id, "audit")}
    assert audit == {"audit/audit-record.json"}


@pytest.mark.docker
def test_trail_verifies_and_tampering_is_caught(blueprint_run, home: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    verified = sandbox(home, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "trail verified" in verified.stdout
    trail = home / "audit" / "trail.jsonl"
    lines = trail.read_bytes().splitlines(keepends=True)
    kinds = [json.loads(line)["kind"] for line in lines]
    assert kinds[-3:] == ["run.submitted", "run.started", "run.finished"]
    tampered = tmp_path / "trail.jsonl"
    edited = lines[-1].replace(b'"container_state":"succeeded"', b'"container_state":"failed"')
    assert edited != lines[-1]
    tampered.write_bytes(b"".join([*lines[:-1], edited]))
    broken = sandbox(home, "audit", "verify", "--trail", str(tampered))
    assert broken.returncode == 1
    assert "does NOT verify" in broken.stderr


def test_malformed_manifest_exits_2_and_is_recorded(tmp_path: Path) -> None:
    home = tmp_path / "home"
    m = manifest_dict()
    m["data"]["sensitive"] = "sex"
    pilot = write_pilot(tmp_path / "pilot", manifest=m)
    result = sandbox(home, "run", str(pilot))
    assert result.returncode == 2
    assert "pilot.yaml: data.sensitive" in result.stderr
    record = json.loads((home / "audit" / "trail.jsonl").read_text().splitlines()[-1])
    assert record["kind"] == "run.rejected"
    assert sandbox(home, "audit", "verify").returncode == 0


def test_policy_check_blocks_protected_features(tmp_path: Path) -> None:
    m = manifest_dict()
    m["data"]["features"] = ["income", "sex"]
    result = sandbox(
        tmp_path / "home", "policy", "check", str(write_pilot(tmp_path / "p", manifest=m))
    )
    assert result.returncode == 3
    assert "data.no-protected-features" in result.stdout and "blocked" in result.stdout


def test_schema_pilot_is_json() -> None:
    result = sandbox(Path("/nonexistent"), "schema", "pilot")
    assert result.returncode == 0
    assert json.loads(result.stdout)["title"] == "AI Commons Sandbox pilot manifest"


def test_help_lists_every_command() -> None:
    result = sandbox(Path("/nonexistent"), "--help")
    for command in ("run", "demo", "doctor", "audit", "image", "schema", "policy"):
        assert command in result.stdout


@pytest.mark.docker
def test_doctor_reports_each_prerequisite(tmp_path: Path, runner_image: str) -> None:
    result = sandbox(tmp_path / "home", "doctor")
    for check in ("docker engine", "runner image", "image builder", "mlflow store", "signing key"):
        assert check in result.stdout
    assert result.returncode == 0, result.stdout


def test_doctor_names_the_fix_without_an_engine(tmp_path: Path) -> None:
    env_home = tmp_path / "home"
    env = {**os.environ, "SANDBOX_HOME": str(env_home), "DOCKER_HOST": "unix:///nonexistent.sock"}
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "doctor"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "docker engine: not reachable" in result.stdout
    assert "fix: bash scripts/engine.sh" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nosuch",), "No such command 'nosuch'"),
        (("audit", "nosuch"), "No such command 'nosuch'"),
        (("run", "--nope", "x"), "No such option: --nope"),
        (("run",), "Missing argument 'pilot'"),
        (("policy", "explain"), "Missing argument 'rule'"),
    ],
)
def test_a_usage_error_is_one_line_and_exit_2(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = sandbox(tmp_path, *args, timeout=60)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and message in lines[0]
    assert "--help" in lines[0] and "Traceback" not in result.stderr


def test_a_command_group_without_a_command_shows_its_help(tmp_path: Path) -> None:
    result = sandbox(tmp_path, "policy", timeout=60)
    assert result.returncode == 0, result.stderr
    assert "explain" in result.stdout and "Traceback" not in result.stderr


@pytest.mark.parametrize("rule", ["runtime.container-succeeded", "runtime.outputs-valid"])
def test_the_runtime_rules_every_run_is_held_to_are_explained(tmp_path: Path, rule: str) -> None:
    result = sandbox(tmp_path, "policy", "explain", rule, timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"{rule} in baseline" in result.stdout
