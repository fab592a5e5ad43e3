"""Every script in examples/ runs as a newcomer would run it, and opens with what it shows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
NEEDS_DOCKER = {"run_pilot.py", "city_policy_pack.py", "start_from_blueprint.py"}


def run_example(name: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SANDBOX_HOME": str(tmp_path / "home"), "COLUMNS": "120"}
    env.pop("MLFLOW_TRACKING_URI", None)
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_each_example_opens_with_what_it_shows(script: str) -> None:
    first = (EXAMPLES / script).read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# Shows: "), f"{script} opens with a comment saying what it shows"


def test_examples_are_all_run_here() -> None:
    tested = NEEDS_DOCKER | {"audit_vendor_predictions.py", "verify_evidence_bundle.py"}
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested


def test_audit_vendor_predictions(tmp_path: Path) -> None:
    result = run_example("audit_vendor_predictions.py", tmp_path, "out")
    assert result.returncode == 0, result.stderr
    assert "fairness.four-fifths" in result.stdout and "district" in result.stdout
    assert (tmp_path / "out" / "report.html").is_file()


def test_verify_evidence_bundle(tmp_path: Path) -> None:
    result = run_example("verify_evidence_bundle.py", tmp_path, "work")
    assert result.returncode == 0, result.stderr
    assert "bundle verified" in result.stdout and "trusted: pinned" in result.stdout
    assert "does NOT verify" in result.stdout


@pytest.mark.docker
def test_run_pilot(tmp_path: Path, runner_image: str) -> None:
    result = run_example("run_pilot.py", tmp_path)
    assert result.returncode == 0, result.stderr
    assert ": pass_with_warnings" in result.stdout
    assert (tmp_path / "reports" / "report.json").is_file()


@pytest.mark.docker
def test_city_policy_pack(tmp_path: Path, runner_image: str) -> None:
    result = run_example("city_policy_pack.py", tmp_path, "work")
    assert result.returncode == 0, result.stderr
    assert ": fail" in result.stdout
    assert "block fairness.four-fifths" in " ".join(result.stdout.split())


@pytest.mark.docker
def test_start_from_blueprint(tmp_path: Path, runner_image: str) -> None:
    result = run_example("start_from_blueprint.py", tmp_path, "work")
    assert result.returncode == 0, result.stderr
    assert "run " in result.stdout
    assert (tmp_path / "work" / "reports" / "report.json").is_file()
    assert "Start here" in (tmp_path / "work" / "my-screening" / "README.md").read_text()
