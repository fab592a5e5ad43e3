"""The model files of a run, as the host handles them: copied, hashed, never opened.

A vendor's trained model (`model.artifact`) crosses the wall beside the pilot's code, into the
read-only /pilot; the host copies its bytes and records their SHA-256 in the trail's
`run.started` record and the report. Loading it (ONNX Runtime, skops, joblib) happens only
inside the container, as does everything the container writes to /output/model/.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sandbox.digests import file_sha256
from sandbox.errors import ManifestError

if TYPE_CHECKING:
    from sandbox.manifest import PilotManifest

__all__ = ["MAX_ARTIFACT_BYTES", "model_record", "stage_artifact"]

#: A trained model file larger than this is refused (the runner's memory is capped anyway).
MAX_ARTIFACT_BYTES = 2 * 1024**3


def stage_artifact(pilot_dir: Path, manifest: PilotManifest, dest: Path) -> dict[str, str]:
    """Copy the trained model file (if any) into the staged /pilot; return path -> sha256."""
    relative = manifest.model.artifact
    if relative is None:
        return {}
    where = f"{pilot_dir / 'pilot.yaml'}: model.artifact"
    source = pilot_dir / relative
    # The manifest's paths were confined when it was loaded; a link is still never followed.
    if source.is_symlink() or not source.is_file():
        raise ManifestError(f"{where}: {relative!r} is not a regular file in the pilot folder")
    size = source.stat().st_size
    if size > MAX_ARTIFACT_BYTES:
        raise ManifestError(
            f"{where}: {relative!r} is {size} bytes, more than the {MAX_ARTIFACT_BYTES} allowed"
        )
    target = dest / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.parent.chmod(0o755)
    shutil.copyfile(source, target)  # bytes only: the host never deserialises a model
    target.chmod(0o644)
    return {relative: file_sha256(target)}


def model_record(manifest: PilotManifest, code: dict[str, str]) -> dict[str, Any]:
    """The `model` entry of the trail's `run.started` record: kind, and the artifact's hash."""
    model = manifest.model
    record: dict[str, Any] = {"kind": model.kind, "description": model.describe()}
    if model.artifact is not None:
        record |= {
            "artifact": model.artifact,
            "format": model.artifact_format,
            "artifact_sha256": code.get(model.artifact),
            "allow_pickle": model.allow_pickle,
        }
    if model.command is not None:
        record["command"] = list(model.command)
    return record
