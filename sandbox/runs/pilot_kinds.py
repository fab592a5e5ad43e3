"""The two kinds of pilot a run knows: a tabular model's and a resident assistant's.

They share every stage of `sandbox.runs.pilot_run` but three: how the pilot's data is read,
what crosses the container wall, and how the container's outputs are assessed. A `PilotKind`
supplies those three; :func:`kind_of` picks it from the manifest's task type.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sandbox.runs.container import AssessedOutputs, assess_outputs, cross_wall

if TYPE_CHECKING:
    from sandbox.manifest import PilotManifest
    from sandbox.runs.record import RunRecord

__all__ = ["ASSISTANT_TASK", "TABULAR", "PilotKind", "kind_of"]

#: The task type whose pilots answer questions in words rather than predict a column.
ASSISTANT_TASK = "assistant"


class PilotKind(Protocol):
    """The stages in which kinds of pilot differ."""

    #: Whether the harness loads a tabular model's libraries (scikit-learn) while it waits.
    preload: bool

    def load(self, pilot_dir: Path, manifest: PilotManifest) -> Any:
        """The pilot's data, read and checked on the host; it has `sources` (path, sha256)."""
        ...

    def cross(
        self, data: Any, manifest: PilotManifest, input_dir: Path, *, legacy: bool = False
    ) -> Any:
        """Write what the container may see; the crossing has `files` (name -> sha256).

        `legacy` writes the files as runs recorded before the current layout did (a replay
        rebuilds those); a kind whose layout never changed ignores it."""
        ...

    def assess(self, record: RunRecord, output_dir: Path) -> AssessedOutputs:
        """The evaluation of the container's outputs, or why they were rejected."""
        ...


class Tabular:
    """A model trained and scored on rows of a table (every task type but the assistant)."""

    preload = True

    def load(self, pilot_dir: Path, manifest: PilotManifest) -> Any:
        """The pilot's table, read once from its sources."""
        from sandbox.data.dataset import load_pilot_data

        return load_pilot_data(pilot_dir, manifest)

    def cross(
        self, data: Any, manifest: PilotManifest, input_dir: Path, *, legacy: bool = False
    ) -> Any:
        """train.parquet, score.parquet and spec.json: the split, the model's columns only
        (`legacy`: the training rows in file order, as before the host drew the hold-back)."""
        return cross_wall(data, manifest, input_dir, draw_holdout=not legacy)

    def assess(self, record: RunRecord, output_dir: Path) -> AssessedOutputs:
        """Predictions joined with the held-back labels and groups."""
        if record.manifest is None:
            raise ValueError("assessing outputs needs the manifest")
        return assess_outputs(record.manifest, record.crossing, output_dir)


TABULAR = Tabular()


def kind_of(manifest: PilotManifest) -> PilotKind:
    """The kind of pilot the manifest's task type makes."""
    if manifest.task.type == ASSISTANT_TASK:
        from sandbox.runs.assistant_pilot import ASSISTANT

        return ASSISTANT
    return TABULAR
