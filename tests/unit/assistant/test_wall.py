"""What the host writes for an assistant's container, and what it keeps back."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from sandbox.assistant.knowledge import Knowledge
from sandbox.assistant.records import Reference
from sandbox.assistant.wall import AssistantCrossing, write_assistant_inputs
from sandbox.digests import bytes_sha256, file_sha256
from sandbox.errors import DataError, ManifestError

SPEC_FIELDS = {
    "model": {"kind": "factory"},
    "entrypoint": "model/assistant.py:build_assistant",
    "params": {"temperature": 0},
    "seed": 7,
    "languages": ["en", "es", "ar"],
    "max_answer_chars": 2000,
}


KNOWLEDGE = Knowledge(
    {
        "en/water-bills.md": "Water bills are due on the 15th.\n",
        "es/agua.md": "Las facturas vencen el día 15.\n",
        "restricted/staff/salaries.md": "Confidential: salaries.\n",
        "faq.txt": "مرحبا\n",
    },
    frozenset({"restricted/staff/salaries.md", "gone.md"}),
)


def _references() -> list[Reference]:
    return [
        Reference(
            id="q-17",
            question="When is my water bill due?",
            language="en",
            channel="web",
            district="north",
            expected_facts=["15th"],
        ),
        Reference(
            id="q-03",
            question="¿Cuándo vence la factura?",
            language="es",
            channel=3,
            district="south",
            must_decline=False,
        ),
        Reference(id="q-99", question="What do staff earn?", language="en", must_decline=True),
    ]


def _write(
    tmp_path: Path,
    *,
    features: Sequence[str] = ("question", "channel"),
    spec_fields: Mapping[str, object] = SPEC_FIELDS,
) -> tuple[Path, AssistantCrossing]:
    folder = tmp_path / "run" / "input"
    crossing = write_assistant_inputs(
        _references(), KNOWLEDGE, features=features, spec_fields=spec_fields, input_dir=folder
    )
    return folder, crossing


def test_questions_carry_row_ids_and_features_only(tmp_path: Path) -> None:
    folder, crossing = _write(tmp_path)

    lines = (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"row_id": 0, "question": "When is my water bill due?", "channel": "web"},
        {"row_id": 1, "question": "¿Cuándo vence la factura?", "channel": "3"},
        {"row_id": 2, "question": "What do staff earn?", "channel": ""},
    ]
    text = (folder / "questions.jsonl").read_text(encoding="utf-8")
    for kept_back in ("q-17", "language", "north", "15th", "must_decline", "expected_facts"):
        assert kept_back not in text
    assert crossing.row_ids == ("q-17", "q-03", "q-99")
    assert crossing.rows == 3


def test_every_document_crosses_as_utf8_restricted_ones_too(tmp_path: Path) -> None:
    folder, _ = _write(tmp_path)

    written = {
        p.relative_to(folder / "knowledge").as_posix(): p.read_text(encoding="utf-8")
        for p in (folder / "knowledge").rglob("*")
        if p.is_file()
    }
    assert written == KNOWLEDGE.documents
    assert (folder / "knowledge" / "faq.txt").read_bytes() == "مرحبا\n".encode()


def test_spec_holds_the_design_fields(tmp_path: Path) -> None:
    folder, _ = _write(tmp_path)

    spec = json.loads((folder / "spec.json").read_text(encoding="utf-8"))
    assert spec == {
        "task": "assistant",
        **SPEC_FIELDS,
        "features": ["question", "channel"],
        "knowledge_base": {
            "path": "/input/knowledge",
            "documents": sorted(KNOWLEDGE.documents),
            "restricted": ["restricted/staff/salaries.md"],  # only ids that are documents
        },
    }


def test_digests_name_each_file_and_the_knowledge_base(tmp_path: Path) -> None:
    folder, crossing = _write(tmp_path)

    files = crossing.files
    documents = {f"knowledge/{i}" for i in KNOWLEDGE.documents}
    assert set(files) == {"questions.jsonl", "spec.json", *documents}
    for name in files:  # every file the container sees, by its path under /input
        assert files[name] == file_sha256(folder / name)
    for doc_id, text in KNOWLEDGE.documents.items():
        assert files[f"knowledge/{doc_id}"] == bytes_sha256(text.encode("utf-8"))
    _, again = _write(tmp_path / "again")
    assert again.files == files


def test_everything_is_readable_by_the_container_user(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        folder, _ = _write(tmp_path)
    finally:
        os.umask(old)
    for path in [folder, *folder.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o755 if path.is_dir() else 0o644), path


@pytest.mark.parametrize(
    "features",
    [["channel"], ["question", "language"], ["question", "id"], ["question", "must_decline"]],
)
def test_features_that_must_not_cross_are_refused(tmp_path: Path, features: list[str]) -> None:
    with pytest.raises(ManifestError, match="data.features"):
        _write(tmp_path, features=features)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("doc_id", "message"),
    [
        ("/etc/passwd", "not a relative POSIX path"),
        ("../outside.md", "not a relative POSIX path"),
        ("en/../../x.md", "not a relative POSIX path"),
        ("en//x.md", "not a relative POSIX path"),
        ("./x.md", "not a relative POSIX path"),
        ("en\\x.md", "not a relative POSIX path"),
        ("", "not a relative POSIX path"),
        ("en", "is both a document and the folder of 'en/water-bills.md'"),
    ],
)
def test_unsafe_document_ids_are_refused_before_writing(
    tmp_path: Path, doc_id: str, message: str
) -> None:
    knowledge = Knowledge({**KNOWLEDGE.documents, doc_id: "text"})
    with pytest.raises(DataError, match="knowledge base") as caught:
        write_assistant_inputs(
            _references(),
            knowledge,
            features=["question"],
            spec_fields=SPEC_FIELDS,
            input_dir=tmp_path / "input",
        )
    assert message in str(caught.value)
    assert not (tmp_path / "input").exists()


def test_spec_fields_and_questions_are_required(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_answer_chars"):
        _write(
            tmp_path,
            spec_fields={
                k: v for k, v in SPEC_FIELDS.items() if k != "seed" and k != "max_answer_chars"
            },
        )
    with pytest.raises(DataError, match="no questions"):
        write_assistant_inputs(
            [], KNOWLEDGE, features=["question"], spec_fields=SPEC_FIELDS, input_dir=tmp_path / "x"
        )


def test_a_feature_that_is_not_valid_unicode_is_refused(tmp_path: Path) -> None:
    reference = Reference(id="q-1", question="Hello?", language="en", channel="\ud800")
    with pytest.raises(DataError, match="reference 'q-1': field 'channel' is not valid Unicode"):
        write_assistant_inputs(
            [reference],
            KNOWLEDGE,
            features=["question", "channel"],
            spec_fields=SPEC_FIELDS,
            input_dir=tmp_path / "input",
        )
