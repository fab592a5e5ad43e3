"""Binary classification: a 0/1 label, 0/1 predictions, an optional score in [0, 1].

Labels are encoded against the manifest's `positive_label` (exactly two label values); group
metrics are the confusion-count rates of :mod:`sandbox.evaluation.fairness`, equal to
fairlearn's ``MetricFrame``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal

from pydantic import Field

from sandbox.errors import DataError, OutputRejected, SandboxError
from sandbox.evaluation.vocabulary import MetricSpec, Vocabulary
from sandbox.tasks.base import (
    EvaluationSettings,
    Outcomes,
    PredictionSchema,
    TaskConfig,
)
from sandbox.tasks.numbers import as_floats
from sandbox.tasks.registry import register_task

# numpy, pandas and the evaluation load when a method first needs them, so that importing the
# registry (every command line start, every manifest) stays cheap.
if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from sandbox.evaluation.result import Evaluation

__all__ = ["BINARY_TASK", "BinaryClassification", "BinaryConfig", "parse_scores"]

#: The manifest's `task.type` (`sandbox.evaluation.binary.BINARY`, kept equal by a test).
BINARY: Final = "binary_classification"

_TRUE: Final = frozenset({"1", "true", "yes"})
_FALSE: Final = frozenset({"0", "false", "no"})


class BinaryConfig(TaskConfig):
    """What the model predicts: which label value is the positive (selected) outcome."""

    type: Literal["binary_classification"] = Field(
        description="Binary classification: a label with exactly two values."
    )
    positive_label: str | int | bool = Field(
        description="The label value that means the positive (selected) outcome."
    )
    positive_meaning: str = Field(
        default="selected", max_length=200, description="What a positive prediction means."
    )


VOCABULARY = Vocabulary(
    performance=(
        MetricSpec("accuracy", "Accuracy"),
        MetricSpec("balanced_accuracy", "Balanced accuracy"),
        MetricSpec("precision", "Precision"),
        MetricSpec("recall", "Recall (true positive rate)"),
        MetricSpec("f1", "F1 score"),
        MetricSpec("roc_auc", "ROC AUC"),
        MetricSpec("base_rate", "Base rate (share of actual positives)"),
        MetricSpec("selection_rate", "Selection rate (share predicted positive)"),
    ),
    group=(
        MetricSpec("selection_rate", "Selection rate"),
        MetricSpec("tpr", "True positive rate"),
        MetricSpec("fpr", "False positive rate", greater_is_better=False),
        MetricSpec("fnr", "False negative rate", greater_is_better=False),
        MetricSpec("precision", "Precision"),
        MetricSpec("accuracy", "Accuracy"),
    ),
)


class BinaryClassification:
    """The binary classification task type."""

    name = BINARY
    config: type[TaskConfig] = BinaryConfig
    vocabulary = VOCABULARY
    predictions = PredictionSchema(optional=("score",))
    sample_cells: Mapping[str, tuple[Any, Any]] = MappingProxyType(
        {"tn": (0, 0), "fp": (0, 1), "fn": (1, 0), "tp": (1, 1)}
    )

    def encode_labels(
        self, values: pd.Series, config: TaskConfig, *, column: str, source: str, manifest: str
    ) -> np.ndarray:
        """1 for the positive label, 0 for the other; exactly two label values."""
        import numpy as np

        from sandbox.tasks.label_text import distinct_text, row_text

        if not isinstance(config, BinaryConfig):
            raise TypeError(f"expected a BinaryConfig, got {type(config).__name__}")
        missing = int(values.isna().sum())
        if missing:
            raise DataError(
                f"{source}: label column {column!r} has {missing} missing values (empty cells "
                "or missing-value markers); fill or drop those rows"
            )
        positive = str(config.positive_label).strip().lower()
        # The text of each distinct value, not of each row: a column has a handful of values.
        distinct = distinct_text(values, lower=True)
        as_text = row_text(values, lower=True) if distinct is None else distinct[1]
        found = sorted(set(as_text))
        if len(found) != 2:
            raise DataError(
                f"{source}: label column {column!r} has {len(found)} distinct values "
                f"({', '.join(found[:5])}); binary classification needs exactly two"
            )
        if positive not in found:
            raise DataError(
                f"{manifest}: task.positive_label: {config.positive_label!r} is not a value of "
                f"column {column!r} (values: {', '.join(found)}); quote it in YAML, e.g. 'yes'"
            )
        encoded: np.ndarray = (as_text == positive).to_numpy(dtype=np.int8)
        return encoded if distinct is None else encoded[distinct[0]]

    def encode_supplied(
        self, values: pd.Series, *, column: str, source: str, positive: str | None
    ) -> np.ndarray:
        """0/1 outcomes from a column: 0/1, booleans, or `positive` against everything else."""
        import numpy as np

        if values.isna().any():
            row = int(np.flatnonzero(values.isna().to_numpy())[0])
            raise DataError(f"{source}: column {column!r}: missing value in data row {row + 1}")
        text = values.astype(str).str.strip().str.lower()
        if positive is not None:
            chosen: np.ndarray = (text == positive.strip().lower()).to_numpy(dtype=np.int8)
            return chosen
        seen = set(text.unique())
        if seen <= _TRUE | _FALSE | {"1.0", "0.0"}:
            known: np.ndarray = text.isin(_TRUE | {"1.0"}).to_numpy(dtype=np.int8)
            return known
        shown = ", ".join(sorted(seen)[:5])
        raise DataError(
            f"{source}: column {column!r}: values {shown} are not binary (0/1, true/false); "
            "say which value is the positive outcome with --positive VALUE"
        )

    def harness_outputs(self, config: TaskConfig) -> dict[str, Any]:
        """0/1 predictions, the probability of class 1 as score, balanced-accuracy importances."""
        return {"prediction": "binary", "score": "probability", "scoring": "balanced_accuracy"}

    def parse_predictions(self, frame: pd.DataFrame, *, source: str) -> pd.DataFrame:
        """`prediction` as 0/1 integers and `score` (when present) as floats in [0, 1]."""
        import pandas as pd

        bad = frame.loc[~frame["prediction"].isin(["0", "1"]), "prediction"].unique().tolist()
        if bad:
            raise OutputRejected(f"{source}: prediction must be 0 or 1, found {bad[:5]}")
        result = pd.DataFrame(
            {"row_id": frame["row_id"], "prediction": frame["prediction"].astype("int64")}
        )
        if "score" in frame.columns:
            result["score"] = parse_scores(
                frame["score"], source=source, column="score", error=OutputRejected
            )
        return result

    def evaluate(self, outcomes: Outcomes, settings: EvaluationSettings) -> Evaluation:
        """Performance and confusion-count group fairness, with score intervals."""
        from sandbox.evaluation.binary import evaluate_binary

        return evaluate_binary(
            y_true=outcomes.labels,
            y_pred=outcomes.predictions,
            y_score=outcomes.scores,
            sensitive=outcomes.groups,
            min_group_size=settings.min_group_size,
            n_bootstrap=settings.n_bootstrap,
            confidence=settings.confidence,
            seed=settings.seed,
        )


def parse_scores(
    values: pd.Series,
    *,
    source: str,
    column: str,
    error: type[SandboxError],
    fix: str = "write the probability of class 1 (predict_proba), or no score column",
) -> np.ndarray:
    """Scores as floats, each a finite number in [0, 1]; `error` names the file and the rows.

    The one check of scores, for a container's predictions (OutputRejected) and for a file of
    supplied predictions (DataError) alike.
    """
    import numpy as np

    parsed = as_floats(values)
    with np.errstate(invalid="ignore"):
        invalid = ~((parsed >= 0.0) & (parsed <= 1.0))  # NaN is neither
    if invalid.any():
        rows = np.flatnonzero(invalid)
        found = values.iloc[rows].astype(str).unique().tolist()[:5]
        shown = ", ".join(str(r + 1) for r in rows[:5]) + (", ..." if len(rows) > 5 else "")
        raise error(
            f"{source}: column {column!r}: scores must be finite numbers in [0, 1] (the "
            f"probability of the positive outcome), found {found} in {len(rows)} data rows "
            f"({shown}); {fix}"
        )
    return parsed


BINARY_TASK = register_task(BinaryClassification())
