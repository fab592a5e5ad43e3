"""The container stage: write what may cross the wall, launch the container, then read and
assess what it handed back.

Outputs that break the container contract are evidence for the `runtime.outputs-valid` rule,
not a crash of the run. Valid predictions are joined with the held-back labels and groups, on
the host, and assessed by the pilot's task type.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from sandbox.errors import DataError, OutputRejected
from sandbox.runtime.base import ContainerResult, StartedContainer

if TYPE_CHECKING:
    from sandbox.manifest import PilotManifest

__all__ = [
    "HARNESS_COMMAND",
    "AssessedOutputs",
    "assess_outputs",
    "cross_wall",
    "output_reason",
    "run_container",
]

#: The built-in harness in the runner image: it runs the pilot's entrypoint on /input.
HARNESS_COMMAND: Final = ("python3", "/opt/sandbox/harness.py")
MAX_REASON_CHARS: Final = 2000


def cross_wall(
    data: Any, manifest: PilotManifest, input_dir: Path, *, draw_holdout: bool = True
) -> Any:
    """Split the pilot's rows (as its roles and `data.split` say) and write what the model sees.

    Returns the `sandbox.data.wall.WallCrossing`: the input files' hashes and the held-back rows.
    """
    from sandbox.data.split import plan_split
    from sandbox.data.wall import write_inputs

    if data.table.label is None:
        raise DataError(f"{manifest.pilot.name}: the pilot's data has no label to split on")
    split = plan_split(data, manifest)
    return write_inputs(data, split, manifest, input_dir, draw_holdout=draw_holdout)


def run_container(started: StartedContainer) -> tuple[ContainerResult | None, str | None]:
    """Run a started container to its end; outputs that break the contract become evidence,
    not a crash."""
    try:
        return started.finish(), None
    except OutputRejected as exc:
        return None, output_reason(exc)


@dataclass(frozen=True, kw_only=True)
class AssessedOutputs:
    """The evaluation of valid outputs, or why they were rejected."""

    evaluation: Any = None
    explanations: Any = None
    rejected: str | None = None
    scored: Any = None  # pandas frame: the predictions for the score sources' cases


def assess_outputs(manifest: PilotManifest, crossing: Any, output_dir: Path) -> AssessedOutputs:
    """Join validated predictions with the held-back labels and groups; assess them."""
    from sandbox.runtime.outputs import read_explanations, read_predictions
    from sandbox.tasks.evaluate import evaluate_predictions

    try:
        predictions = read_predictions(
            output_dir / "predictions.csv",
            expected_row_ids=crossing.expected_row_ids,
            task=manifest.task.type,
        )
        explanations_path = output_dir / "explanations.json"
        explanations = (
            read_explanations(explanations_path, features=list(manifest.data.features))
            if explanations_path.is_file()
            else None
        )
    except OutputRejected as exc:
        return AssessedOutputs(rejected=output_reason(exc))
    except Exception as exc:
        # Whatever the container wrote, reading it must end the run on the record, with a
        # failed `runtime.outputs-valid`, never with a traceback.
        return AssessedOutputs(rejected=output_reason(f"the outputs could not be read ({exc!r})"))
    # read_predictions returns the rows in the order of expected_row_ids: the held-back
    # evaluation rows first, then the scored cases, which have no label to evaluate.
    evaluated = len(crossing.held_back)
    evaluation = evaluate_predictions(manifest, crossing.held_back, predictions.iloc[:evaluated])
    scored = predictions.iloc[evaluated:] if crossing.scored_rows else None
    return AssessedOutputs(evaluation=evaluation, explanations=explanations, scored=scored)


def output_reason(error: object) -> str:
    """Why outputs were rejected, bounded: it goes into the verdict, the reports and the trail."""
    text = str(error)
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 3] + "..."
