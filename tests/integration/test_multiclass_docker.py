"""A 311 routing pilot (three departments) run end to end against the real Docker engine."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sandbox.runs.pilot_run import run_pilot
from sandbox.runs.services import build_services
from sandbox.settings import Settings
from tests.routing import DEPARTMENTS, write_routing_pilot


@pytest.mark.docker
def test_a_routing_pilot_runs_in_the_container_and_passes_baseline(
    tmp_path: Path, runner_image: str
) -> None:
    services = build_services(Settings(home=tmp_path / "home", image=runner_image))
    pilot = write_routing_pilot(tmp_path / "pilot")
    outcome = run_pilot(pilot, services, out_dir=tmp_path / "out")

    assert outcome.report.runtime is not None
    assert outcome.report.runtime.container_state == "succeeded"
    predictions = pd.read_csv(outcome.run_dir / "output" / "predictions.csv")
    assert set(predictions["prediction"]) <= set(DEPARTMENTS)  # class values as in the data
    rules = {o.rule_id: o.outcome for o in outcome.verdict.outcomes}
    assert rules["performance.balanced-accuracy-floor"] == "passed"
    assert rules["performance.macro-f1-floor"] == "passed"
    assert rules["fairness.class-recall-difference"] == "passed"
    assert outcome.verdict.status in ("pass", "pass_with_warnings")
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    evaluation = report["evaluation"]
    assert evaluation["performance"]["balanced_accuracy"] > 0.75
    assert evaluation["confusion_matrix"]["classes"] == list(DEPARTMENTS)
    explanations = json.loads((outcome.run_dir / "output" / "explanations.json").read_text())
    assert explanations["scoring"] == "balanced_accuracy" and explanations["features"]
