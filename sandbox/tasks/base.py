"""What every task type provides: the `Task` protocol and the values that cross it.

A task type is one module that defines its manifest section (a :class:`TaskConfig`
subclass), its metric vocabulary, its prediction schema, how labels are encoded, what the
in-container harness writes, and how predictions are evaluated; it registers one `Task` object
with :func:`sandbox.tasks.registry.register_task`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:  # annotations only: the registry imports no numerical library
    import numpy as np
    import pandas as pd

    from sandbox.evaluation.result import Evaluation
    from sandbox.evaluation.vocabulary import Vocabulary

__all__ = [
    "EvaluationSettings",
    "Outcomes",
    "PredictionSchema",
    "Task",
    "TaskConfig",
]


class TaskConfig(BaseModel):
    """Base of every task type's manifest section (`task:` in pilot.yaml), keyed by `type`."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    type: str


@dataclass(frozen=True)
class PredictionSchema:
    """The columns a predictions file holds: `row_id`, the prediction, optional ones."""

    required: tuple[str, ...] = ("row_id", "prediction")
    optional: tuple[str, ...] = ()

    @property
    def allowed(self) -> list[str]:
        """Every column a predictions file may have, in order."""
        return [*self.required, *self.optional]


@dataclass(frozen=True, kw_only=True)
class Outcomes:
    """Labels, predictions, optional scores and group attributes of the evaluated rows."""

    labels: np.ndarray
    predictions: np.ndarray
    scores: np.ndarray | None
    groups: pd.DataFrame
    #: An assistant's knowledge base and canaries (a `sandbox.assistant.knowledge.Knowledge`);
    #: None when there is neither, and for every other task type.
    knowledge: Any = None


@dataclass(frozen=True, kw_only=True)
class EvaluationSettings:
    """How an evaluation is computed: minimum group size, intervals, seed, the task section."""

    min_group_size: int = 30
    n_bootstrap: int = 1000
    confidence: float = 0.95
    seed: int = 0
    #: The task type's manifest section, for task types whose evaluation depends on it (a
    #: ranking's budget); None when there is none (a predictions-only audit without options).
    config: TaskConfig | None = None

    @classmethod
    def of(cls, manifest: Any) -> EvaluationSettings:
        """The settings a pilot's manifest declares (seeded by its split seed).

        `manifest` is a `sandbox.manifest.PilotManifest`, which itself builds on this package.
        """
        cfg = manifest.evaluation
        return cls(
            min_group_size=cfg.min_group_size,
            n_bootstrap=cfg.bootstrap,
            confidence=cfg.confidence,
            seed=manifest.data.split.seed,
            config=manifest.task,
        )


@runtime_checkable
class Task(Protocol):
    """One task type, from the manifest section to the evaluation result."""

    #: The manifest's `task.type` value, e.g. ``"binary_classification"``.
    name: str
    #: The pydantic model of this task type's manifest section.
    config: type[TaskConfig]
    #: The columns of a predictions file.
    predictions: PredictionSchema
    #: Suite samples give each group's counts by cell; a cell is a (label, prediction) pair.
    sample_cells: Mapping[str, tuple[Any, Any]]

    @property
    def vocabulary(self) -> Vocabulary:
        """Overall performance metrics and per-group metrics: names, display names, direction.

        Read-only: a task type may give it as a class attribute or compute it on first use.
        """
        ...

    def encode_labels(
        self, values: pd.Series, config: TaskConfig, *, column: str, source: str, manifest: str
    ) -> np.ndarray:
        """The label column of pilot data, encoded for training and evaluation; DataError."""
        ...

    def encode_supplied(
        self, values: pd.Series, *, column: str, source: str, positive: str | None
    ) -> np.ndarray:
        """Labels or predictions as supplied in a file for a predictions-only audit."""
        ...

    def harness_outputs(self, config: TaskConfig) -> dict[str, Any]:
        """What the in-container harness writes (`outputs` of spec.json)."""
        ...

    def parse_predictions(self, frame: pd.DataFrame, *, source: str) -> pd.DataFrame:
        """Typed `prediction` (and optional) columns from text; OutputRejected when invalid."""
        ...

    def evaluate(self, outcomes: Outcomes, settings: EvaluationSettings) -> Evaluation:
        """Performance and group fairness of the outcomes."""
        ...
