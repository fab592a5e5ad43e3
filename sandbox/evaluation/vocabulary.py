"""The one metric vocabulary: a metric's stable name, its display name, and its direction.

Evaluation results, policy rules, reports and MLflow metric names all use the same names, so a
task type declares its metrics once (:class:`Vocabulary`) and every consumer reads them here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["MetricSpec", "Vocabulary"]


@dataclass(frozen=True)
class MetricSpec:
    """One metric: stable name, display name, and whether a higher value is better."""

    name: str
    display: str
    greater_is_better: bool = True


@dataclass(frozen=True)
class Vocabulary:
    """A task's overall performance metrics and its per-group metrics, in report order."""

    performance: tuple[MetricSpec, ...]
    group: tuple[MetricSpec, ...]

    def __iter__(self) -> Iterator[MetricSpec]:
        return iter((*self.performance, *self.group))

    @property
    def performance_names(self) -> tuple[str, ...]:
        """Names of the overall performance metrics."""
        return tuple(m.name for m in self.performance)

    @property
    def group_names(self) -> tuple[str, ...]:
        """Names of the per-group metrics (those disparities are computed for)."""
        return tuple(m.name for m in self.group)

    def spec(self, name: str) -> MetricSpec:
        """The metric called `name` (performance first); KeyError when unknown."""
        for metric in self:
            if metric.name == name:
                return metric
        raise KeyError(name)

    def display(self, name: str) -> str:
        """The display name of `name`, or the name itself when it is not in the vocabulary."""
        try:
            return self.spec(name).display
        except KeyError:
            return name
