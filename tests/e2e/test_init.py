"""`sandbox init`: a scaffold that `sandbox policy check` refuses until every TODO is completed,
and passes once it is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.placeholders import PLACEHOLDER, placeholder_fields
from tests.e2e.test_cli import sandbox
from tests.pilots import make_frame

ANSWERS: dict[str, Any] = {
    "pilot.owner.contact": "data-team@example.org",
    "task.positive_label": "yes",
    "task.budget.k": 20,
    "task.unit": "dollars",
    "data.label": "eligible",
    "governance.impact_assessment.effect_on_residents": "access_to_services",
    "governance.impact_assessment.reversibility": "reversible",
    "governance.impact_assessment.vulnerable_groups": "some",
    "governance.impact_assessment.data_sensitivity": "personal",
    "governance.impact_assessment.automation": "decision_support",
    "governance.impact_assessment.residents_affected": "many",
}


def complete(document: Any, path: str = "") -> Any:
    """The team's answers: a value for every placeholder (a plain sentence for free text)."""
    if isinstance(document, dict):
        return {k: complete(v, f"{path}.{k}" if path else k) for k, v in document.items()}
    if isinstance(document, list):
        return [complete(v, path) for v in document]
    if isinstance(document, str) and document.startswith(PLACEHOLDER):
        return ANSWERS.get(path, f"Our answer for {path}.")
    return document


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "cases.csv"
    make_frame(rows=400).to_csv(path, index=False)
    return path


def test_a_completed_scaffold_passes_policy_check(tmp_path: Path, data_file: Path) -> None:
    home, pilot = tmp_path / "home", tmp_path / "my-pilot"
    made = sandbox(
        home, "init", str(pilot), "--task", "binary", "--label", "eligible",
        "--features", "income,household_size", "--sensitive", "group", "--sensitive", "sex",
        "--pii", "full_name,email", "--data", str(data_file),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "fields marked TODO:" in made.stdout
    assert (pilot / "data" / "cases.csv").read_bytes() == data_file.read_bytes()
    text = (pilot / "pilot.yaml").read_text()
    assert "# columns of data/cases.csv: income, household_size, group, sex" in text

    flagged = sandbox(home, "policy", "check", str(pilot))
    assert flagged.returncode == 2
    message = " ".join(flagged.stderr.split())
    assert "placeholder" in message
    for field in ("pilot.purpose", "task.positive_label", "governance.human_oversight"):
        assert field in message

    document = complete(yaml.safe_load(text))
    assert placeholder_fields(document) == []
    (pilot / "pilot.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    passed = sandbox(home, "policy", "check", str(pilot))
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "pre-run verdict: pass" in passed.stdout


@pytest.mark.parametrize("task", ["multiclass", "regression", "ranking"])
def test_every_task_type_scaffolds_a_manifest_that_loads_once_completed(
    tmp_path: Path, task: str
) -> None:
    from sandbox.blueprints.scaffold import write_scaffold
    from sandbox.manifest import load_manifest

    made = write_scaffold(tmp_path / "p", task=task, label="eligible", features=["income"])
    document = yaml.safe_load((made.path / "pilot.yaml").read_text())
    document["data"]["sources"] = [{"path": "data.csv"}]
    (made.path / "pilot.yaml").write_text(yaml.safe_dump(complete(document)))
    assert load_manifest(made.path).task.type.startswith(task)


def test_init_refuses_a_folder_in_use_and_an_unknown_task(tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    assert sandbox(tmp_path / "home", "init", str(tmp_path / "busy")).returncode == 2
    refused = sandbox(tmp_path / "home", "init", str(tmp_path / "new"), "--task", "guess")
    assert refused.returncode == 2 and "--task 'guess'" in refused.stderr
