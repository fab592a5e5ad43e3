"""A small forecasting pilot (days to resolve a 311 repair) run end to end on the real engine."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sandbox.runs.pilot_run import RunServices, run_pilot
from sandbox.runs.services import build_services
from sandbox.settings import Settings
from tests.pilots import manifest_dict, write_pilot

FORECAST_MODEL = """\
from sklearn.linear_model import Ridge


def build_model(**params):
    return Ridge(**params)
"""


def _requests(rows: int = 900, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    backlog = rng.integers(0, 40, rows)
    crews = rng.integers(1, 6, rows)
    district = rng.choice(["north", "south", "east"], rows)
    days = 2.0 + 0.4 * backlog - 0.8 * crews + rng.normal(0.0, 2.0, rows)
    return pd.DataFrame(
        {
            "backlog": backlog,
            "crews": crews,
            "district": district,
            "caller": [f"Resident {i}" for i in range(rows)],
            "days_to_resolve": np.maximum(days, 0.0).round(1),
        }
    )


@pytest.fixture
def services(tmp_path: Path, runner_image: str) -> RunServices:
    return build_services(Settings(home=tmp_path / "home", image=runner_image))


@pytest.mark.docker
def test_a_forecasting_pilot_runs_and_is_assessed(tmp_path: Path, services: RunServices) -> None:
    manifest = manifest_dict(
        task={"type": "regression", "unit": "days"},
        model={"entrypoint": "model.py:build_model", "params": {"alpha": 1.0}, "seed": 3},
    )
    manifest["data"].update(
        label="days_to_resolve",
        features=["backlog", "crews"],
        sensitive=["district"],
        pii=["caller"],
    )
    manifest["evaluation"] = {"min_group_size": 30, "bootstrap": 200}
    pilot = write_pilot(tmp_path / "pilot", manifest=manifest, frame=_requests())
    (pilot / "model.py").write_text(FORECAST_MODEL)
    outcome = run_pilot(pilot, services)
    assert outcome.report.runtime is not None
    assert outcome.report.runtime.container_state == "succeeded", outcome.report.failure
    evaluation = outcome.report.evaluation
    assert evaluation is not None and evaluation.task == "regression"
    assert evaluation.rows == 270
    assert evaluation.performance["r2"] > 0.8
    assert 1.0 < evaluation.performance["mae"] < 2.5
    district = evaluation.attribute_set("district")
    assert {g.label for g in district.groups} == {"north", "south", "east"}
    for group in district.groups:
        mae = group.metrics["mae"]
        assert mae.ci_low is not None and mae.ci_low < mae.value < (mae.ci_high or 0)
    outcomes = {o.rule_id: o.outcome for o in outcome.verdict.outcomes}
    assert outcomes["performance.r2-floor"] == "passed"
    assert outcomes["fairness.group-error-ratio"] == "passed"
    assert outcomes["performance.balanced-accuracy-floor"] == "not_applicable"
    assert outcome.verdict.status in ("pass", "pass_with_warnings")
    explanations = json.loads((outcome.run_dir / "output" / "explanations.json").read_text())
    assert explanations["scoring"] == "neg_mean_absolute_error"
    top = max(explanations["features"], key=lambda f: f["importance_mean"])
    assert top["feature"] == "backlog"
    predictions = pd.read_csv(outcome.run_dir / "output" / "predictions.csv")
    assert predictions["prediction"].dtype == np.float64
