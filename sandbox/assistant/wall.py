"""What crosses the container wall for an assistant pilot, written by the host into a run folder.

- ``input/questions.jsonl``: one line per question, ``{"row_id": int, "question": str, ...}``
  with the pilot's other ``data.features`` as text; row ids are 0..n-1 in reference order, so
  the reference ids, languages, expected facts, must-decline flags and group attributes all
  stay on the host (`AssistantCrossing.row_ids` maps a row id back to its reference);
- ``input/knowledge/<document id>``: every knowledge-base document as UTF-8, restricted ones
  included (the production assistant has them too; the audit checks none is quoted or cited);
- ``input/spec.json``: the assistant's kind, entrypoint, params, seed, languages, features,
  the knowledge base's document ids (restricted ones listed apart) and ``max_answer_chars``.

Every file and folder is readable by the container's unprivileged user, whatever the umask.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from sandbox.assistant.knowledge import Knowledge
from sandbox.assistant.records import Reference
from sandbox.digests import bytes_sha256
from sandbox.errors import DataError, ManifestError
from sandbox.runtime.base import mount_folder

__all__ = ["SPEC_FIELDS", "AssistantCrossing", "write_assistant_inputs"]

#: What the caller gives for spec.json, from the manifest.
SPEC_FIELDS = ("model", "entrypoint", "params", "seed", "languages", "max_answer_chars")
#: Reference fields that never cross the wall, whatever data.features says.
HELD_BACK = frozenset({"row_id", "id", "language", "expected_facts", "must_decline"})
KNOWLEDGE_DIR = "knowledge"
CONTAINER_KNOWLEDGE = "/input/knowledge"


@dataclass(frozen=True, kw_only=True)
class AssistantCrossing:
    """The inputs written for an assistant's container and their digests."""

    input_dir: Path
    #: Every file written, by its path under the input folder ("questions.jsonl", "spec.json",
    #: "knowledge/<document id>") -> "sha256:<hex>": what a replay checks file by file.
    files: dict[str, str]
    row_ids: tuple[str, ...]  # the reference id of each row id, in row order
    rows: int


def write_assistant_inputs(
    references: Sequence[Reference],
    knowledge: Knowledge,
    *,
    features: Sequence[str],
    spec_fields: Mapping[str, Any],
    input_dir: Path,
) -> AssistantCrossing:
    """Write questions.jsonl, knowledge/ and spec.json for the container; return their digests."""
    _check_features(features)
    missing = [name for name in SPEC_FIELDS if name not in spec_fields]
    if missing:
        raise ValueError(f"spec_fields lacks {missing}")
    if not references:
        raise DataError("the evaluation set has no questions: nothing to ask the assistant")
    documents = dict(sorted(knowledge.documents.items()))
    targets = _document_paths(documents)

    mount_folder(input_dir)
    lines = [
        json.dumps(
            {"row_id": row_id, **{name: _text(reference, name) for name in features}},
            ensure_ascii=False,
        )
        for row_id, reference in enumerate(references)
    ]
    files = {
        "questions.jsonl": _write(
            input_dir / "questions.jsonl", "".join(f"{line}\n" for line in lines)
        )
    }
    folder = input_dir / KNOWLEDGE_DIR
    _mkdir(folder)
    for doc_id, text in documents.items():
        target = folder.joinpath(*targets[doc_id])
        for parent in reversed(target.relative_to(folder).parents[:-1]):
            _mkdir(folder / parent)
        files[f"{KNOWLEDGE_DIR}/{doc_id}"] = _write(target, text)
    spec = {
        "task": "assistant",
        **{name: spec_fields[name] for name in SPEC_FIELDS},
        "features": list(features),
        "knowledge_base": {
            "path": CONTAINER_KNOWLEDGE,
            "documents": list(documents),
            "restricted": sorted(knowledge.restricted & documents.keys()),
        },
    }
    spec_text = json.dumps(spec, indent=2, sort_keys=True, allow_nan=False) + "\n"
    files["spec.json"] = _write(input_dir / "spec.json", spec_text)
    return AssistantCrossing(
        input_dir=input_dir,
        files=dict(sorted(files.items())),
        row_ids=tuple(reference.id for reference in references),
        rows=len(references),
    )


def _check_features(features: Sequence[str]) -> None:
    if "question" not in features:
        raise ManifestError("data.features: must include 'question', what the assistant is asked")
    held = sorted(HELD_BACK.intersection(features))
    if held:
        raise ManifestError(
            f"data.features: {held} never cross the wall to an assistant; remove them"
        )
    if len(set(features)) != len(features):
        raise ManifestError(f"data.features: names appear twice in {list(features)}")


def _text(reference: Reference, name: str) -> str:
    """A reference's value of one feature, as the text the assistant receives."""
    value = reference.question if name == "question" else (reference.model_extra or {}).get(name)
    if value is None:  # a question without the field: the assistant gets empty text
        return ""
    text = (
        value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # an escaped lone surrogate, e.g. \ud800, read from JSON
        raise DataError(
            f"reference {reference.id!r}: field {name!r} is not valid Unicode text (an unpaired "
            "surrogate escape); fix it in the evaluation set"
        ) from None
    return text


def _document_paths(documents: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """Each document id's path parts; ids are validated when loaded, and checked again here."""
    paths: dict[str, tuple[str, ...]] = {}
    for doc_id in documents:
        parts = PurePosixPath(doc_id).parts
        if (
            not doc_id
            or doc_id.startswith("/")
            or "\\" in doc_id
            or PurePosixPath(*parts).as_posix() != doc_id
            or any(part in ("..", ".") for part in parts)
        ):
            raise DataError(
                f"knowledge base: document id {doc_id!r} is not a relative POSIX path inside "
                "the knowledge base folder"
            )
        paths[doc_id] = parts
    for doc_id, parts in paths.items():
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder in paths:
                raise DataError(
                    f"knowledge base: {folder!r} is both a document and the folder of {doc_id!r}"
                )
    return paths


def _mkdir(folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    folder.chmod(0o755)  # listable by the container's unprivileged user


def _write(path: Path, text: str) -> str:
    data = text.encode("utf-8")
    path.write_bytes(data)
    path.chmod(0o644)  # readable by the container's unprivileged user
    return bytes_sha256(data)
