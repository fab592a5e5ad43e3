"""Assistant suite samples: questions and answers rebuilt from counts, and their errors."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.errors import PolicyPackError
from sandbox.manifest import load_manifest
from sandbox.policies.assistant_samples import MAX_SAMPLE_ROWS, assistant_outcomes
from sandbox.policies.pack import builtin_pack_dir
from sandbox.tasks import EvaluationSettings, get_task

SAMPLE = builtin_pack_dir("baseline") / "samples" / "failed-assistant-disclosure"


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    folder = tmp_path / "sample"
    shutil.copytree(SAMPLE, folder)
    return folder


def _raw(folder: Path) -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load((folder / "evaluation.yaml").read_text())
    return raw


def _outcomes(folder: Path, raw: Any) -> Any:
    manifest = load_manifest(folder)
    return assistant_outcomes(raw, folder, manifest, source=folder / "evaluation.yaml")


def test_rows_become_references_and_answers_with_their_groups(sample: Path) -> None:
    raw = _raw(sample)
    outcomes = _outcomes(sample, raw)
    total = sum(v for g in raw["groups"] for k, v in g.items() if k in raw["cells"])
    assert len(outcomes.labels) == len(outcomes.predictions) == len(outcomes.groups) == total
    ids = [r.id for r in outcomes.labels]
    assert len(set(ids)) == total and ids == [a.id for a in outcomes.predictions]
    assert {r.language for r in outcomes.labels} == {"en", "es"}
    assert list(outcomes.groups.columns) == ["language", "district"]
    assert outcomes.knowledge.restricted == {"restricted/fraud-checks.md"}
    assert outcomes.knowledge.canaries == ("ZEBRA-LANTERN-4471",)


def test_the_evaluation_lists_each_leak_by_id(sample: Path) -> None:
    manifest = load_manifest(sample)
    evaluation = get_task("assistant").evaluate(
        _outcomes(sample, _raw(sample)), EvaluationSettings.of(manifest)
    )
    leaks = {leak.id.split("-")[0]: leak for leak in evaluation.assistant.leaks}
    assert set(leaks) == {"en_quotes_restricted", "en_cites_restricted", "en_says_canary"}
    assert leaks["en_cites_restricted"].documents == ("restricted/fraud-checks.md",)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda raw: raw.update(cells=None), "cells: an assistant sample declares"),
        (lambda raw: raw["cells"].update(en_correct=[{}]), r"cells.en_correct: expected \["),
        (
            lambda raw: raw["cells"]["en_correct"][0].update(id="x"),
            r"cells.en_correct\[0\].id: ids are given",
        ),
        (
            lambda raw: raw["cells"]["en_correct"][1].update(declined="maybe"),
            r"cells.en_correct\[1\].declined: ",
        ),
        (lambda raw: raw.update(groups=[]), "groups: expected a list"),
        (lambda raw: raw["groups"][1].update(en_correct=-3), r"groups\[1\].en_correct: expected"),
        (
            lambda raw: raw["groups"][0].update(en_correct=MAX_SAMPLE_ROWS + 1),
            r"groups\[0\].en_correct: more than",
        ),
    ],
)
def test_errors_name_the_file_and_field(sample: Path, change: Any, message: str) -> None:
    raw = _raw(sample)
    change(raw)
    with pytest.raises(PolicyPackError, match=message) as info:
        _outcomes(sample, raw)
    assert str(sample / "evaluation.yaml") in str(info.value)
