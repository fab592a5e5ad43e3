"""Multiclass classification: one of several classes per row (a 311 request's department).

Labels and predictions are the class values as written in the data (compared as text); the
container's harness writes predicted class values (prediction kind ``label``). The manifest may
list the classes (``task.classes``); every label must then be one of them, otherwise the
classes are the label values found. Group metrics are accuracy and, for each class, the share
predicted as that class and that class's recall (one-vs-rest), from
:mod:`sandbox.evaluation.multiclass`, equal to fairlearn's ``MetricFrame``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal

from pydantic import Field, field_validator

from sandbox.errors import DataError, OutputRejected
from sandbox.evaluation.vocabulary import MetricSpec, Vocabulary
from sandbox.tasks.base import EvaluationSettings, Outcomes, PredictionSchema, TaskConfig
from sandbox.tasks.registry import register_task

# numpy, pandas and the evaluation load when a method first needs them: importing the
# registry stays cheap.
if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from sandbox.evaluation.result import Evaluation

__all__ = [
    "MULTICLASS_TASK",
    "MulticlassClassification",
    "MulticlassConfig",
    "class_names",
    "missing_classes",
]

#: The manifest's `task.type` (`sandbox.evaluation.multiclass.MULTICLASS`, kept equal by a test).
MULTICLASS: Final = "multiclass_classification"

#: Most classes a pilot may declare or its labels may hold: beyond this, per-class group
#: rates rest on too few rows to assess and the report becomes unreadable.
MAX_CLASSES = 50


class MulticlassConfig(TaskConfig):
    """What the model predicts: one of several classes, optionally listed."""

    type: Literal["multiclass_classification"] = Field(
        description="Multiclass classification: a label with two or more class values."
    )
    classes: tuple[str | int, ...] | None = Field(
        default=None,
        min_length=2,
        max_length=MAX_CLASSES,
        description="The label's class values; default: the values found in the label column.",
    )

    @field_validator("classes")
    @classmethod
    def _distinct(cls, value: tuple[str | int, ...] | None) -> tuple[str | int, ...] | None:
        if value is not None and len({str(v).strip() for v in value}) != len(value):
            raise ValueError("classes must be distinct")
        return value


VOCABULARY = Vocabulary(
    performance=(
        MetricSpec("accuracy", "Accuracy"),
        MetricSpec("balanced_accuracy", "Balanced accuracy (mean recall of the classes)"),
        MetricSpec("macro_f1", "Macro-F1 (mean F1 of the classes)"),
    ),
    group=(MetricSpec("accuracy", "Accuracy"),),
)


def class_names(evaluation: Evaluation) -> dict[str, str]:
    """Display names of the per-class group metrics of one evaluation (``recall.<key>``)."""
    matrix = evaluation.confusion_matrix
    if matrix is None:
        return {}
    names: dict[str, str] = {}
    for value, key in zip(matrix.classes, matrix.keys, strict=True):
        names[f"selection_rate.{key}"] = f"Share predicted \u2018{value}\u2019"
        names[f"recall.{key}"] = f"Recall of \u2018{value}\u2019"
    return names


def missing_classes(count: int, first: int, *, column: str, source: str) -> DataError:
    """The refusal of a class column with `count` missing values, the first at row `first`.

    Also raised by the columnar read of a predictions file, which counts them from its codes.
    """
    return DataError(
        f"{source}: column {column!r}: {count} missing values (first in data row "
        f"{first + 1}); every row needs its class: fill or drop those rows"
    )


def _as_text(values: pd.Series, *, column: str, source: str) -> pd.Series:
    """Class values as stripped text; DataError on a missing value."""
    import numpy as np

    missing = values.isna()
    if missing.any():
        rows = np.flatnonzero(missing.to_numpy())
        raise missing_classes(len(rows), int(rows[0]), column=column, source=source)
    return values.astype(str).str.strip()


class MulticlassClassification:
    """The multiclass classification task type."""

    name = MULTICLASS
    config: type[TaskConfig] = MulticlassConfig
    vocabulary = VOCABULARY
    predictions = PredictionSchema()
    #: Classes are the pilot's own, so a suite sample declares its cells in evaluation.yaml.
    sample_cells: Mapping[str, tuple[Any, Any]] = MappingProxyType({})

    def encode_labels(
        self, values: pd.Series, config: TaskConfig, *, column: str, source: str, manifest: str
    ) -> np.ndarray:
        """The class values as text; two or more classes, each a declared one if listed."""
        from sandbox.tasks.label_text import distinct_text

        if not isinstance(config, MulticlassConfig):
            raise TypeError(f"expected a MulticlassConfig, got {type(config).__name__}")
        # The text of each distinct value, not of each row: a column has a handful of classes.
        distinct = None if values.isna().any() else distinct_text(values, lower=False)
        if distinct is None:
            text = _as_text(values, column=column, source=source)
            labels: np.ndarray = text.to_numpy(dtype=object)
        else:
            text = distinct[1]
            labels = text.to_numpy(dtype=object)[distinct[0]]
        found = sorted(set(text))
        if config.classes is not None:
            declared = [str(c).strip() for c in config.classes]
            unknown = [v for v in found if v not in declared]
            if unknown:
                raise DataError(
                    f"{manifest}: task.classes: label column {column!r} has values not listed "
                    f"({', '.join(map(repr, unknown[:5]))}); add them to task.classes, or "
                    "leave task.classes out to take the classes from the data"
                )
        if len(found) < 2 or len(found) > MAX_CLASSES:
            raise DataError(
                f"{source}: label column {column!r} has {len(found)} distinct values; "
                f"multiclass classification needs from 2 to {MAX_CLASSES}"
            )
        return labels

    def encode_supplied(
        self, values: pd.Series, *, column: str, source: str, positive: str | None
    ) -> np.ndarray:
        """Labels or predicted classes from a file, as text (`positive` has no meaning here)."""
        encoded: np.ndarray = _as_text(values, column=column, source=source).to_numpy(dtype=object)
        return encoded

    def harness_outputs(self, config: TaskConfig) -> dict[str, Any]:
        """Predicted class values, no score, balanced-accuracy importances."""
        return {"prediction": "label", "score": None, "scoring": "balanced_accuracy"}

    def parse_predictions(self, frame: pd.DataFrame, *, source: str) -> pd.DataFrame:
        """`prediction` as class values (text); an empty prediction is refused."""
        import pandas as pd

        predicted = frame["prediction"]
        empty = predicted.isna() | (predicted.astype(str).str.strip() == "")
        if empty.any():
            raise OutputRejected(
                f"{source}: prediction is empty in {int(empty.sum())} rows; the model must "
                "predict a class for every row"
            )
        return pd.DataFrame(
            {"row_id": frame["row_id"], "prediction": predicted.astype(str).str.strip()}
        )

    def evaluate(self, outcomes: Outcomes, settings: EvaluationSettings) -> Evaluation:
        """Performance, the confusion matrix, and per-class group fairness with intervals."""
        from sandbox.evaluation.multiclass import evaluate_multiclass

        return evaluate_multiclass(
            y_true=outcomes.labels,
            y_pred=outcomes.predictions,
            sensitive=outcomes.groups,
            min_group_size=settings.min_group_size,
            n_bootstrap=settings.n_bootstrap,
            confidence=settings.confidence,
            seed=settings.seed,
        )

    def metric_names(self, evaluation: Evaluation) -> dict[str, str]:
        """Display names of every group metric of `evaluation`, per-class ones included."""
        return {"accuracy": "Accuracy", **class_names(evaluation)}


MULTICLASS_TASK = register_task(MulticlassClassification())
