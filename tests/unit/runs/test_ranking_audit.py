"""A predictions-only audit of a ranked list (`--task ranking --score S --k N`), as fairlearn."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, selection_rate
from sklearn.metrics import recall_score
from typer.testing import CliRunner

from sandbox.audit.signing import Signer
from sandbox.audit.trail import AuditTrail
from sandbox.cli import app
from sandbox.errors import UserInputError
from sandbox.evaluation.ranking import top_k
from sandbox.runs.predictions_audit import audit_predictions
from sandbox.runs.services import RunServices
from sandbox.runtime.fake import FakeRuntime
from sandbox.tasks import find_task_name
from sandbox.tracking.memory import InMemoryTracker


def _never_called(spec):  # type: ignore[no-untyped-def]
    raise AssertionError("a predictions-only audit must not run a container")


@pytest.fixture
def services(tmp_path: Path) -> RunServices:
    signer = Signer.load_or_create(tmp_path / "keys" / "key.pem")
    return RunServices(
        runtime=FakeRuntime(_never_called),
        tracker=InMemoryTracker(),
        trail=AuditTrail(tmp_path / "audit" / "trail.jsonl", signer),
        image="none",
        runs_dir=tmp_path / "runs",
        actor="auditor@test",
        tracking_uri="memory://",
    )


@pytest.fixture
def ranked(tmp_path: Path) -> Path:
    rng = np.random.default_rng(8)
    n = 1200
    frame = pd.DataFrame(
        {"district": rng.choice(["n", "s", "e"], n), "owner": rng.choice(["p", "c"], n)}
    )
    frame["violation"] = np.where(rng.random(n) < 0.2, "yes", "no")
    # a margin, not a probability: any finite number orders the list
    frame["risk"] = np.round((frame["violation"] == "yes") * 1.5 + rng.normal(0, 1, n), 1)
    path = tmp_path / "inspections.csv"
    frame.to_csv(path, index=False)
    return path


def test_short_task_names_resolve_through_the_registry() -> None:
    assert find_task_name("binary") == "binary_classification"
    assert find_task_name("ranking") == "ranking"
    with pytest.raises(UserInputError, match="known: .*ranking"):
        find_task_name("forecast", option="--task")


def test_a_ranked_list_audit_equals_fairlearn(services: RunServices, ranked: Path) -> None:
    audit = audit_predictions(
        ranked,
        label="violation",
        prediction="risk",
        positive="yes",
        sensitive=["district", "owner"],
        services=services,
        task="ranking",
        task_options={"budget": {"fraction": 0.1}},
        out_dir=ranked.parent / "out",
    )
    frame = pd.read_csv(ranked)
    truth = (frame["violation"] == "yes").astype(int).to_numpy()
    selected = top_k(frame["risk"].to_numpy(), 120).astype(int)
    evaluation = audit.evaluation
    assert evaluation.task == "ranking" and evaluation.top_k is not None
    assert evaluation.top_k.k == 120
    district = evaluation.attribute_set("district")
    expected = MetricFrame(
        metrics={"selection_rate_at_k": selection_rate, "recall_at_k": recall_score},
        y_true=truth,
        y_pred=selected,
        sensitive_features=frame["district"],
    ).by_group
    for group in district.groups:
        for metric in ("selection_rate_at_k", "recall_at_k"):
            assert group.metrics[metric].value == expected.loc[group.label, metric]
    outcomes = {o.rule_id: o.outcome for o in audit.verdict.outcomes}
    assert outcomes["performance.top-k-lift"] == "passed"
    report = json.loads(audit.reports["json"].read_text())
    assert report["evaluation"]["top_k"]["budget"] == "fraction 0.1 of 1,200 rows = 120"


def test_the_cli_takes_the_task_and_the_budget(tmp_path: Path, ranked: Path) -> None:
    runner = CliRunner()
    env = {"SANDBOX_HOME": str(tmp_path / "home"), "COLUMNS": "160"}
    base = ["audit", "evaluate", "--data", str(ranked), "--label", "violation"]
    base += ["--positive", "yes", "--sensitive", "district"]
    result = runner.invoke(
        app, [*base, "--task", "ranking", "--score", "risk", "--k", "100"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "Predictions-only audit" in result.output
    # the console entry point maps a UserInputError onto exit code 2
    for extra, message in (
        (["--task", "ranking", "--score", "risk", "--k", "9", "--k-fraction", "0.1"], "not both"),
        (["--task", "ranking", "--score", "risk"], "--k N or --k-fraction F"),
        (["--task", "binary", "--prediction", "risk", "--k", "5"], "has no budget"),
        (["--task", "forecast", "--prediction", "risk"], "unknown task type"),
    ):
        refused = runner.invoke(app, [*base, *extra], env=env)
        assert isinstance(refused.exception, UserInputError), refused.output
        assert message in str(refused.exception)
