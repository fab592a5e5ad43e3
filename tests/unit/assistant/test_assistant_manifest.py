"""An assistant pilot's manifest: its task section, its JSON Lines data, paths kept inside."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.errors import ManifestError
from sandbox.manifest import load_manifest, manifest_json_schema
from sandbox.tasks.assistant import AssistantConfig
from tests.pilots import manifest_dict


def assistant_manifest(**task: Any) -> dict[str, Any]:
    """A valid assistant pilot's manifest; `task` fields replace the defaults."""
    return manifest_dict(
        task={
            "type": "assistant",
            "languages": ["en", "es", "ar"],
            "knowledge_base": {"path": "knowledge", "restricted": ["restricted/**"]},
            "canaries": "data/canaries.txt",
            **task,
        },
        data={
            "sources": [{"path": "data/questions.jsonl", "role": "evaluation"}],
            "id": "id",
            "label": "expected_facts",
            "features": ["question", "channel"],
            "sensitive": ["language", "district"],
        },
        model={"entrypoint": "model/assistant.py:build_assistant", "code": ["model/*.py"]},
    )


def _write(folder: Path, manifest: dict[str, Any]) -> Path:
    for name in ("data", "knowledge/restricted", "model"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    (folder / "pilot.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    question = {"id": "q1", "question": "Pool hours?", "language": "en", "expected_facts": ["9"]}
    (folder / "data/questions.jsonl").write_text(json.dumps(question) + "\n")
    (folder / "data/canaries.txt").write_text("Ana Zyx\n")
    (folder / "knowledge/pool.md").write_text("Open at 9.")
    (folder / "model/assistant.py").write_text("def build_assistant(**kw): ...\n")
    return folder


def _error(tmp_path: Path, manifest: dict[str, Any]) -> str:
    with pytest.raises(ManifestError) as info:
        load_manifest(_write(tmp_path / "p", manifest))
    return str(info.value)


def test_an_assistant_manifest_loads(tmp_path: Path) -> None:
    manifest = load_manifest(_write(tmp_path / "p", assistant_manifest()))
    task = manifest.task
    assert isinstance(task, AssistantConfig)
    assert task.languages == ("en", "es", "ar")
    assert (task.knowledge_base.path, task.knowledge_base.restricted) == (
        "knowledge",
        ("restricted/**",),
    )
    assert task.canaries == "data/canaries.txt"
    assert task.max_answer_chars == 2000
    assert manifest.data.sources[0].resolved_format == "jsonl"


def test_id_may_be_left_out(tmp_path: Path) -> None:
    manifest = assistant_manifest()
    del manifest["data"]["id"]
    assert load_manifest(_write(tmp_path / "p", manifest)).data.id is None


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ({"languages": []}, "task.languages: Tuple should have at least 1 item"),
        ({"languages": ["en", "en"]}, "task.languages: a language is listed twice"),
        ({"languages": ["English"]}, "task.languages: 'English' is not an ISO 639 code"),
        ({"languages": [f"l{c}" for c in "abcdefghijklmnopqrstu"]}, "at most 20 items"),
        ({"max_answer_chars": 99}, "task.max_answer_chars: Input should be greater than or equal"),
        ({"max_answer_chars": 20_001}, "task.max_answer_chars: Input should be less than or equal"),
        ({"knowledge_base": {"restricted": []}}, "task.knowledge_base.path: Field required"),
        ({"knowledge_base": {"path": "knowledge", "restricted": ["../*"]}}, "not a path inside"),
        ({"knowledge_base": {"path": "k", "restricted": ["a/**", "a/**"]}}, "listed twice"),
        ({"tone": "friendly"}, "task.tone: Extra inputs are not permitted"),
    ],
)
def test_task_section_errors_name_the_field(
    tmp_path: Path, task: dict[str, Any], expected: str
) -> None:
    assert expected in _error(tmp_path, assistant_manifest(**task))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("knowledge_base", {"path": "../outside"}),
        ("knowledge_base", {"path": "/etc"}),
        ("canaries", "../canaries.txt"),
        ("canaries", "/etc/passwd"),
    ],
)
def test_paths_must_be_relative_inside_the_pilot(tmp_path: Path, field: str, value: Any) -> None:
    message = _error(tmp_path, assistant_manifest(**{field: value}))
    assert f"task.{field}" in message and "relative path inside the pilot folder" in message


def test_links_out_of_the_pilot_folder_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    folder = _write(tmp_path / "p", assistant_manifest(knowledge_base={"path": "kb"}))
    (folder / "kb").symlink_to(outside)
    with pytest.raises(ManifestError, match=r"task\.knowledge_base\.path: 'kb' is not a path"):
        load_manifest(folder)
    (folder / "kb").unlink()
    (folder / "kb").mkdir()
    (folder / "data/canaries.txt").unlink()
    (folder / "data/canaries.txt").symlink_to(outside / "canaries.txt")
    with pytest.raises(ManifestError, match=r"task\.canaries: 'data/canaries.txt' is not a path"):
        load_manifest(folder)


def _data(**changes: Any) -> dict[str, Any]:
    manifest = assistant_manifest()
    manifest["data"].update(changes)
    return manifest


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        (
            _data(sources=[{"path": "data/questions.csv", "role": "evaluation"}]),
            "data: sources[0]: an assistant's evaluation set is JSON Lines",
        ),
        (
            _data(sources=[{"path": "data/questions.jsonl"}]),
            "data: sources[0].role: an assistant is evaluated, not trained",
        ),
        (_data(features=["channel"]), "data: features: add 'question'"),
        (_data(features=["question", "language"]), "features[1]: 'language' must never reach"),
        (_data(features=["question", "must_decline"]), "features[1]: 'must_decline' must never"),
        (_data(features=["question", "district"]), "features[1]: 'district' must never reach"),
        (_data(sensitive=["district"]), "data: sensitive: add 'language'"),
        (_data(label="answer"), "data: label: 'answer': an assistant's label is the facts"),
        (_data(id="question_id"), "data: id: 'question_id': a reference is named by its 'id'"),
        (_data(split={"seed": 3}), "data: split: an assistant's questions are all evaluated"),
        (
            _data(
                sources=[{"path": "data/questions.jsonl", "role": "evaluation", "header": False}]
            ),
            "header: only for CSV and Parquet files",
        ),
    ],
)
def test_an_assistants_data_section_is_checked(
    tmp_path: Path, manifest: dict[str, Any], expected: str
) -> None:
    message = _error(tmp_path, manifest)
    assert f"pilot.yaml: {expected}" in message or expected in message


def test_json_lines_sources_are_only_for_assistants(tmp_path: Path) -> None:
    manifest = manifest_dict()
    manifest["data"]["sources"] = [{"path": "data.csv"}, {"path": "more.jsonl"}]
    message = _error(tmp_path, manifest)
    assert "pilot.yaml: data: sources[1]: JSON Lines is only for task type assistant" in message
    manifest["data"]["sources"] = [{"path": "data.csv", "format": "jsonl"}]
    assert "sources[0]: JSON Lines is only for task type assistant" in _error(tmp_path, manifest)


def test_the_published_schema_describes_the_assistant_section() -> None:
    definitions = manifest_json_schema()["$defs"]
    config = definitions["AssistantConfig"]
    for field in ("type", "languages", "knowledge_base", "canaries", "max_answer_chars"):
        assert config["properties"][field].get("description"), field
    knowledge_base = definitions["KnowledgeBaseSection"]["properties"]
    assert knowledge_base["path"]["description"] and knowledge_base["restricted"]["description"]
    assert "jsonl" in json.dumps(definitions["DataSource"]["properties"]["format"])
