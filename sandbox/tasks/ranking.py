"""Ranking: top-k prioritisation with a capacity (an inspection list, a callback queue).

The manifest says ``task: {type: ranking, positive_label: violation, budget: {k: 100}}`` (or
``budget: {fraction: 0.1}``). Labels are encoded 0/1 against `positive_label`, as for binary
classification. The model scores rows (the probability of the positive class, else its
decision function, else its `predict`), the host ranks them by score, breaking ties by input row
order, and selects the top k (:mod:`sandbox.evaluation.ranking`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sandbox.errors import DataError, OutputRejected
from sandbox.evaluation.vocabulary import MetricSpec, Vocabulary
from sandbox.tasks.base import EvaluationSettings, Outcomes, PredictionSchema, TaskConfig
from sandbox.tasks.binary import BINARY_TASK, BinaryConfig
from sandbox.tasks.numbers import as_floats
from sandbox.tasks.registry import register_task

# numpy, pandas and the evaluation load when a method first needs them: importing the
# registry stays cheap.
if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from sandbox.evaluation.result import Evaluation

__all__ = ["RANKING_TASK", "Budget", "Ranking", "RankingConfig", "parse_ranking_scores"]

#: The manifest's `task.type` (`sandbox.evaluation.ranking.RANKING`, kept equal by a test).
RANKING: Final = "ranking"


class Budget(BaseModel):
    """How many rows the list may hold: `k` rows, or a `fraction` of the evaluated rows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    k: int | None = Field(default=None, ge=1, description="The number of rows selected.")
    fraction: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="The share of rows selected: k = floor(fraction x rows), at least 1.",
    )

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.k is None) == (self.fraction is None):
            raise ValueError("give exactly one of k (rows) or fraction (share of rows)")
        return self

    def rows(self, available: int) -> int:
        """k for `available` evaluated rows (a fraction rounds down, never below 1)."""
        if self.k is not None:
            return self.k
        return max(1, math.floor((self.fraction or 0.0) * available + 1e-9))

    def describe(self, available: int) -> str:
        """The budget in words, e.g. ``k = 100`` or ``fraction 0.1 of 1,200 rows = 120``."""
        if self.k is not None:
            return f"k = {self.k:,}"
        return f"fraction {self.fraction:g} of {available:,} rows = {self.rows(available):,}"


class RankingConfig(TaskConfig):
    """What the list is for: which label value the list should find, and its capacity."""

    type: Literal["ranking"] = Field(
        description="Ranking: select the top k rows by score, e.g. an inspection list."
    )
    positive_label: str | int | bool = Field(
        description="The label value the list should find (a violation, an eligible case)."
    )
    positive_meaning: str = Field(
        default="selected", max_length=200, description="What being selected means."
    )
    budget: Budget = Field(description="The list's capacity: {k: N} or {fraction: F}.")


#: Each group's share of the list and of the rows are in its metrics too (as
#: `selection_share`, `population_share`), shown beside each other, never compared as disparities.
VOCABULARY = Vocabulary(
    performance=(
        MetricSpec("precision_at_k", "Precision at k (share of the list that is positive)"),
        MetricSpec("recall_at_k", "Recall at k (share of all positives in the list)"),
        MetricSpec("lift_at_k", "Lift at k (precision at k / base rate)"),
        MetricSpec("base_rate", "Base rate (share of actual positives)"),
        MetricSpec("selection_rate_at_k", "Share of rows selected (k / rows)"),
        MetricSpec("k", "Budget k (rows selected)"),
    ),
    group=(
        MetricSpec("selection_rate_at_k", "Share of the group selected"),
        MetricSpec("recall_at_k", "Recall at k (share of the group's positives selected)"),
        MetricSpec("precision_at_k", "Precision at k (positives among the group's selected)"),
    ),
)


def parse_ranking_scores(
    values: pd.Series, *, source: str, column: str, error: type[Exception]
) -> np.ndarray:
    """Ranking scores as floats, every one a finite number; `error` names the file and rows."""
    import numpy as np

    scores = as_floats(values)
    bad = values[~np.isfinite(scores)]
    if len(bad):
        raise error(
            f"{source}: column {column!r}: ranking scores must be finite numbers (higher means "
            f"higher priority); {len(bad)} data rows hold others, e.g. "
            f"{bad.astype(str).unique().tolist()[:5]}"
        )
    return scores


class Ranking:
    """The ranking task type: a score per row, the top k selected."""

    name = RANKING
    config: type[TaskConfig] = RankingConfig
    vocabulary = VOCABULARY
    #: The prediction of a ranking is its score: any finite number, higher first.
    predictions = PredictionSchema()
    #: Suite samples: score 1 for a selected row, 0 otherwise (k = the selected rows).
    sample_cells: Mapping[str, tuple[Any, Any]] = MappingProxyType(
        {"tn": (0, 0.0), "fp": (0, 1.0), "fn": (1, 0.0), "tp": (1, 1.0)}
    )

    def encode_labels(
        self, values: pd.Series, config: TaskConfig, *, column: str, source: str, manifest: str
    ) -> np.ndarray:
        """1 for the positive label, 0 for the other, exactly as binary classification."""
        if not isinstance(config, RankingConfig):
            raise TypeError(f"expected a RankingConfig, got {type(config).__name__}")
        as_binary = BinaryConfig(type="binary_classification", positive_label=config.positive_label)
        return BINARY_TASK.encode_labels(
            values, as_binary, column=column, source=source, manifest=manifest
        )

    def encode_supplied(
        self, values: pd.Series, *, column: str, source: str, positive: str | None
    ) -> np.ndarray:
        """Supplied labels as 0/1 (as binary classification reads them)."""
        return BINARY_TASK.encode_supplied(values, column=column, source=source, positive=positive)

    def encode_supplied_prediction(
        self, values: pd.Series, *, column: str, source: str
    ) -> np.ndarray:
        """Supplied ranking scores: finite numbers, higher first."""
        return parse_ranking_scores(values, source=source, column=column, error=DataError)

    def harness_outputs(self, config: TaskConfig) -> dict[str, Any]:
        """A score per row as the prediction; importance by average precision."""
        return {"prediction": "score", "score": None, "scoring": "average_precision"}

    def parse_predictions(self, frame: pd.DataFrame, *, source: str) -> pd.DataFrame:
        """`prediction` as finite float scores."""
        import pandas as pd

        scores = parse_ranking_scores(
            frame["prediction"], source=source, column="prediction", error=OutputRejected
        )
        return pd.DataFrame({"row_id": frame["row_id"], "prediction": scores})

    def evaluate(self, outcomes: Outcomes, settings: EvaluationSettings) -> Evaluation:
        """The top-k list of the scores against the labels, overall and per group."""
        from sandbox.evaluation.ranking import evaluate_ranking

        config = settings.config
        if not isinstance(config, RankingConfig):
            raise DataError(
                "a ranking needs its budget: task.budget in pilot.yaml, or --k N / --k-fraction F"
            )
        scores = outcomes.scores if outcomes.scores is not None else outcomes.predictions
        rows = len(outcomes.labels)
        return evaluate_ranking(
            y_true=outcomes.labels,
            y_score=scores,
            sensitive=outcomes.groups,
            k=config.budget.rows(rows),
            budget=config.budget.describe(rows),
            min_group_size=settings.min_group_size,
            n_bootstrap=settings.n_bootstrap,
            confidence=settings.confidence,
            seed=settings.seed,
        )


RANKING_TASK = register_task(Ranking())
