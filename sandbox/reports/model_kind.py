"""The report's `model` section: which kind of model ran, and what a reader must know of it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.reports import model as r

if TYPE_CHECKING:
    from sandbox.runs.record import RunRecord

__all__ = ["model_section"]


def model_section(record: RunRecord) -> r.ModelSection:
    """The declared model, the trained model file's staged hash, and the notes it calls for."""
    if record.manifest is None:
        raise ValueError(f"run {record.run_id}: a report needs the manifest")
    model = record.manifest.model
    notes = list(model.notes())
    skipped = getattr(record.explanations, "skipped", None)
    if skipped:
        notes.append(f"Feature importance was not measured: {skipped}")
    started = record.started_record
    staged = getattr(started, "payload", None) or {}
    code = staged.get("code") if isinstance(staged, dict) else None
    return r.ModelSection(
        entrypoint=model.entrypoint if model.kind == "factory" else model.describe(),
        params=dict(model.params),
        seed=model.seed,
        importance_holdout=model.importance_holdout if model.kind == "factory" else None,
        kind=model.kind,
        artifact=model.artifact,
        artifact_format=model.artifact_format,
        artifact_sha256=(code or {}).get(model.artifact) if model.artifact else None,
        command=model.command,
        notes=tuple(notes),
    )
