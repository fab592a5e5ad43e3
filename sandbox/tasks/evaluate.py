"""One way from a run's held-back rows and its predictions to the task's evaluation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.tasks.base import EvaluationSettings, Outcomes
from sandbox.tasks.registry import get_task

if TYPE_CHECKING:
    import pandas as pd

    from sandbox.data.table import PilotTable
    from sandbox.evaluation.result import Evaluation

__all__ = ["evaluate_predictions", "join_predictions"]


def join_predictions(held_back: PilotTable, predictions: pd.DataFrame) -> Outcomes:
    """Pair checked predictions (in the order of `held_back.row_ids`) with labels and groups."""
    scores = predictions["score"].to_numpy() if "score" in predictions.columns else None
    return Outcomes(
        labels=held_back.label,
        predictions=predictions["prediction"].to_numpy(),
        scores=scores,
        groups=held_back.groups.reset_index(drop=True),
    )


def evaluate_predictions(
    manifest: Any, held_back: PilotTable, predictions: pd.DataFrame
) -> Evaluation:
    """Evaluate a pilot's predictions with its task type and evaluation settings.

    `manifest` is a `sandbox.manifest.PilotManifest` (which builds on this package).
    """
    task = get_task(manifest.task.type)
    return task.evaluate(join_predictions(held_back, predictions), EvaluationSettings.of(manifest))
