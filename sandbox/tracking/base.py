"""What the run pipeline asks of an experiment tracker: one small `Tracker` protocol.

Implementations: `InMemoryTracker` (tests) and `MlflowTracker` (the only module that imports
mlflow). Both share the value rules below, so a run logs the same way whichever is used:
parameter and tag values are cut to MLflow's limits, and metrics must be finite numbers; the
names of dropped non-finite metrics are kept in the `DROPPED_METRICS_TAG` tag.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, Protocol, runtime_checkable

__all__ = [
    "DROPPED_METRICS_TAG",
    "MAX_PARAM_VALUE_LENGTH",
    "MAX_TAG_VALUE_LENGTH",
    "MetricValues",
    "RunStatus",
    "Tracker",
    "clean_metrics",
    "truncate",
]

RunStatus = Literal["FINISHED", "FAILED", "KILLED"]

# MLflow's limits (mlflow.utils.validation, 3.x); a tracking server refuses longer values.
MAX_PARAM_VALUE_LENGTH: Final = 6000
MAX_TAG_VALUE_LENGTH: Final = 8000

#: Tag listing the metrics dropped because their value was NaN or infinite.
DROPPED_METRICS_TAG: Final = "sandbox.dropped_metrics"


def truncate(value: str, limit: int) -> str:
    """`value`, cut to `limit` characters with a visible marker when it was longer."""
    if len(value) <= limit:
        return value
    marker = "...[truncated]"
    return value[: limit - len(marker)] + marker


@dataclass(frozen=True, kw_only=True)
class MetricValues:
    """Metrics split into the finite values to log and the names that had none."""

    finite: dict[str, float]
    dropped: tuple[str, ...]

    def dropped_tag(self) -> dict[str, str]:
        """The tag that records the dropped names (empty when nothing was dropped)."""
        if not self.dropped:
            return {}
        return {DROPPED_METRICS_TAG: truncate(",".join(self.dropped), MAX_TAG_VALUE_LENGTH)}


def clean_metrics(metrics: Mapping[str, float]) -> MetricValues:
    """Keep finite numbers as floats; name the NaN and infinite ones.

    A fairness ratio is undefined (0/0) when a group has no positive outcome: the report says
    so, and the tracker must not store NaN as if it were a measurement.
    """
    finite: dict[str, float] = {}
    dropped: list[str] = []
    for key, value in metrics.items():
        number = float(value)
        if math.isfinite(number):
            finite[key] = number
        else:
            dropped.append(key)
    return MetricValues(finite=finite, dropped=tuple(sorted(dropped)))


@runtime_checkable
class Tracker(Protocol):
    """An experiment tracker: one experiment per pilot, one tracked run per sandbox run."""

    def start_run(self, *, experiment: str, run_name: str, tags: Mapping[str, str]) -> str:
        """Open a run in `experiment` (created on first use); returns the tracker's run id."""
        ...

    def log_params(self, run_id: str, params: Mapping[str, str]) -> None:
        """Record parameters (values cut to MAX_PARAM_VALUE_LENGTH); a param never changes."""
        ...

    def log_metrics(self, run_id: str, metrics: Mapping[str, float]) -> None:
        """Record metrics; NaN or infinite values are dropped and named in a tag."""
        ...

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        """Set tags (values cut to MAX_TAG_VALUE_LENGTH); a later value replaces an earlier one."""
        ...

    def log_artifacts(self, run_id: str, folder: Path, artifact_path: str | None = None) -> None:
        """Copy every file under `folder` into the run's artifacts (below `artifact_path`)."""
        ...

    def log_file(self, run_id: str, path: Path, artifact_path: str | None = None) -> None:
        """Copy one file into the run's artifacts (below `artifact_path`)."""
        ...

    def end_run(self, run_id: str, status: RunStatus) -> None:
        """Close the run with its final status."""
        ...

    def run_url(self, run_id: str) -> str:
        """Where a person can look at the run (a web page, or a folder for a local store)."""
        ...
