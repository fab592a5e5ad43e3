"""A small inspection-prioritisation pilot (ranking) against the real Docker engine."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sandbox.runs.pilot_run import run_pilot
from sandbox.runs.services import build_services
from sandbox.settings import Settings
from tests.pilots import manifest_dict, write_pilot


def _buildings(rows: int = 1500, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(1, 120, rows)
    complaints = rng.poisson(1.5, rows)
    risk = 1 / (1 + np.exp(-(-3.2 + 0.015 * age + 0.5 * complaints)))
    return pd.DataFrame(
        {
            "building_age": age,
            "complaints": complaints,
            "district": rng.choice(["north", "south", "east"], rows),
            "owner_type": rng.choice(["private", "public"], rows),
            "owner_name": [f"Owner {i}" for i in range(rows)],
            "outcome": np.where(rng.random(rows) < risk, "violation", "none"),
        }
    )


@pytest.mark.docker
def test_an_inspection_list_runs_in_the_container(tmp_path: Path, runner_image: str) -> None:
    manifest = manifest_dict(
        task={
            "type": "ranking",
            "positive_label": "violation",
            "positive_meaning": "inspected this month",
            "budget": {"k": 45},
        }
    )
    manifest["data"].update(
        label="outcome",
        features=["building_age", "complaints"],
        sensitive=["district", "owner_type"],
        pii=["owner_name"],
    )
    manifest["model"]["params"] = {"C": 1.0}
    pilot = write_pilot(tmp_path / "pilot", manifest=manifest, frame=_buildings())
    services = build_services(Settings(home=tmp_path / "home", image=runner_image))
    outcome = run_pilot(pilot, services, out_dir=tmp_path / "out")

    assert outcome.report.runtime is not None
    assert outcome.report.runtime.container_state == "succeeded"
    predictions = pd.read_csv(outcome.run_dir / "output" / "predictions.csv")
    assert list(predictions.columns) == ["row_id", "prediction"]
    assert predictions["prediction"].between(0, 1).all()  # predict_proba of the positive class
    assert predictions["prediction"].nunique() > 10
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    top = report["evaluation"]["top_k"]
    assert top["k"] == 45 and top["rows"] == 450
    assert [p["label"] for p in top["curve"]] == ["k/2", "k", "2k"]
    rules = {o["rule_id"]: o for o in report["verdict"]["outcomes"]}
    assert rules["performance.top-k-lift"]["outcome"] == "passed"
    assert rules["performance.balanced-accuracy-floor"]["outcome"] == "not_applicable"
    assert rules["fairness.top-k-recall-difference"]["outcome"] in ("passed", "not_applicable")
    assert outcome.verdict.status in ("pass", "pass_with_warnings")
    html = (tmp_path / "out" / "report.html").read_text()
    assert "Top-k list" in html and "stable sort" in html
