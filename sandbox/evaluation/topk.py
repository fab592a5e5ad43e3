"""The top-k section of a ranking's evaluation: the budget, how rows were chosen, the curve.

A ranking pilot selects the k highest-scored rows (its capacity: inspectors, caseworkers).
:class:`TopK` records how k was set, how ties at the cut-off were broken, and precision, recall
and lift at k and at a few budgets around it, each with its counts and interval, so the report
can show what a larger or smaller capacity would have found.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["ORDERING", "BudgetPoint", "TopK"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")

#: How rows are chosen, in words (shown in every ranking report).
ORDERING = (
    "Rows are ranked by their score, highest first; rows with equal scores keep the order of "
    "the input rows (a stable sort), so a tie at the cut-off is broken by row order. The top k "
    "rows are selected."
)


class BudgetPoint(BaseModel):
    """Precision, recall and lift of the top `k` rows, with counts and intervals."""

    model_config = _FROZEN

    #: How this budget relates to the pilot's: "k/2", "k", "2k".
    label: str
    k: int
    true_positives: int
    precision: float
    precision_ci: tuple[float | None, float | None]
    recall: float | None
    recall_ci: tuple[float | None, float | None]
    #: precision / base rate; its interval comes from the rates inside and outside the list.
    lift: float | None
    lift_ci: tuple[float | None, float | None]


class TopK(BaseModel):
    """How the list was cut, and what it found at its budget and around it."""

    model_config = _FROZEN

    k: int
    #: The budget as the pilot declared it ("k = 100", "fraction 0.1 of 1,200 rows").
    budget: str
    rows: int
    positives: int
    base_rate: float
    ordering: str = ORDERING
    #: Rows whose score equals the k-th row's score, and how many of them were selected.
    tied_at_cutoff: int = 0
    tied_selected: int = 0
    curve: tuple[BudgetPoint, ...]

    def at(self, label: str) -> BudgetPoint:
        """The point of the curve called `label` ("k", "k/2", "2k")."""
        for point in self.curve:
            if point.label == label:
                return point
        raise KeyError(label)
