"""Regression: a numeric label (days to resolve, riders per stop), numeric predictions.

The manifest says `task: {type: regression, unit: days}` (the unit is for display only).
Labels and predictions are finite numbers; the harness writes a `number` prediction and ranks
feature importance by the drop in negative mean absolute error. Group metrics (count, mean
label, mean prediction, mean error, MAE, RMSE) equal fairlearn's ``MetricFrame`` and carry
t-intervals (:mod:`sandbox.evaluation.regression`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal

from pydantic import Field

from sandbox.errors import DataError, OutputRejected, SandboxError
from sandbox.evaluation.vocabulary import MetricSpec, Vocabulary
from sandbox.tasks.base import EvaluationSettings, Outcomes, PredictionSchema, TaskConfig
from sandbox.tasks.numbers import as_floats
from sandbox.tasks.registry import register_task

# numpy, pandas and the evaluation load when a method first needs them: importing the
# registry stays cheap.
if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from sandbox.evaluation.result import Evaluation

__all__ = ["REGRESSION_TASK", "Regression", "RegressionConfig", "parse_numbers"]

#: The manifest's `task.type` (`sandbox.evaluation.regression.REGRESSION`, kept equal by a test).
REGRESSION: Final = "regression"

#: The scikit-learn scoring the harness ranks feature importance by.
SCORING: Final = "neg_mean_absolute_error"


class RegressionConfig(TaskConfig):
    """What the model predicts: a number, optionally in a named unit."""

    type: Literal["regression"] = Field(
        description="Regression: a numeric label, such as days to resolve or riders per day."
    )
    unit: str | None = Field(
        default=None,
        max_length=40,
        description="The label's unit, shown beside errors in reports (e.g. 'days').",
    )


VOCABULARY = Vocabulary(
    performance=(
        MetricSpec("mae", "Mean absolute error (MAE)", greater_is_better=False),
        MetricSpec("rmse", "Root mean squared error (RMSE)", greater_is_better=False),
        MetricSpec("r2", "R² (share of the label's variance explained)"),
        MetricSpec("mean_error", "Mean error (prediction - label)", greater_is_better=False),
        MetricSpec("mean_label", "Mean label"),
    ),
    group=(
        MetricSpec("mae", "Mean absolute error", greater_is_better=False),
        MetricSpec("mean_error", "Mean error (prediction - label)", greater_is_better=False),
        MetricSpec("rmse", "Root mean squared error", greater_is_better=False),
        MetricSpec("mean_label", "Mean label"),
        MetricSpec("mean_prediction", "Mean prediction"),
    ),
)


def parse_numbers(
    values: pd.Series, *, source: str, column: str, error: type[SandboxError], fix: str
) -> np.ndarray:
    """Values as finite floats; `error` names the file, the column and the first bad rows."""
    import numpy as np

    numbers = as_floats(values)
    invalid = ~np.isfinite(numbers)
    if invalid.any():
        rows = np.flatnonzero(invalid)
        found = values.iloc[rows].astype(str).unique().tolist()[:5]
        shown = ", ".join(str(r + 1) for r in rows[:5]) + (", ..." if len(rows) > 5 else "")
        raise error(
            f"{source}: column {column!r}: regression needs finite numbers, found {found} in "
            f"{len(rows)} data rows ({shown}); {fix}"
        )
    return numbers


class Regression:
    """The regression task type."""

    name = REGRESSION
    config: type[TaskConfig] = RegressionConfig
    vocabulary = VOCABULARY
    predictions = PredictionSchema()
    #: Suite samples give each group's rows by cell: a label value and a prediction, low
    #: (10) and high (20) labels each predicted exactly, 2 or 6 over, or 2 or 6 under.
    sample_cells: Mapping[str, tuple[Any, Any]] = MappingProxyType(
        {
            f"{level}_{name}": (base, base + shift)
            for level, base in (("low", 10.0), ("high", 20.0))
            for name, shift in (
                ("exact", 0.0),
                ("over", 2.0),
                ("under", -2.0),
                ("far_over", 6.0),
                ("far_under", -6.0),
            )
        }
    )

    def encode_labels(
        self, values: pd.Series, config: TaskConfig, *, column: str, source: str, manifest: str
    ) -> np.ndarray:
        """The label as finite floats; a label with a single value cannot be assessed."""
        import numpy as np

        if not isinstance(config, RegressionConfig):
            raise TypeError(f"expected a RegressionConfig, got {type(config).__name__}")
        missing = int(values.isna().sum())
        if missing:
            raise DataError(
                f"{source}: label column {column!r} has {missing} missing values (empty cells "
                "or missing-value markers); fill or drop those rows"
            )
        labels = parse_numbers(
            values,
            source=source,
            column=column,
            error=DataError,
            fix=f"a regression label is a number; check {manifest}: data.label, or use a "
            "classification task type for categories",
        )
        if len(labels) and np.ptp(labels) == 0:
            raise DataError(
                f"{source}: label column {column!r} has the single value {labels[0]:g} in every "
                "row; a regression needs a label that varies"
            )
        return labels

    def encode_supplied(
        self, values: pd.Series, *, column: str, source: str, positive: str | None
    ) -> np.ndarray:
        """Labels or predictions from a file, as finite floats."""
        if positive is not None:
            raise DataError(
                f"{source}: --positive names a positive class; a regression has none, leave it out"
            )
        return parse_numbers(
            values,
            source=source,
            column=column,
            error=DataError,
            fix="fill or drop those rows",
        )

    def harness_outputs(self, config: TaskConfig) -> dict[str, Any]:
        """Numeric predictions, no score, importances by negative mean absolute error."""
        return {"prediction": "number", "score": None, "scoring": SCORING}

    def parse_predictions(self, frame: pd.DataFrame, *, source: str) -> pd.DataFrame:
        """`prediction` as finite floats."""
        import pandas as pd

        numbers = parse_numbers(
            frame["prediction"],
            source=source,
            column="prediction",
            error=OutputRejected,
            fix="predict() must return finite numbers",
        )
        return pd.DataFrame({"row_id": frame["row_id"], "prediction": numbers})

    def evaluate(self, outcomes: Outcomes, settings: EvaluationSettings) -> Evaluation:
        """Overall and group errors, with t-intervals and simultaneous disparity intervals."""
        from sandbox.evaluation.regression import evaluate_regression

        return evaluate_regression(
            y_true=outcomes.labels,
            y_pred=outcomes.predictions,
            sensitive=outcomes.groups,
            min_group_size=settings.min_group_size,
            n_bootstrap=settings.n_bootstrap,
            confidence=settings.confidence,
            seed=settings.seed,
        )


REGRESSION_TASK = register_task(Regression())
