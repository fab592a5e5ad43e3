"""Experiment tracking behind one `Tracker` protocol.

`InMemoryTracker` serves tests; `MlflowTracker` (imported lazily from
`sandbox.tracking.mlflow`, the only module that imports mlflow) logs to a real store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.tracking.base import (
    DROPPED_METRICS_TAG,
    MAX_PARAM_VALUE_LENGTH,
    MAX_TAG_VALUE_LENGTH,
    RunStatus,
    Tracker,
    clean_metrics,
)
from sandbox.tracking.memory import InMemoryTracker, RecordedRun

if TYPE_CHECKING:
    from sandbox.tracking.mlflow import MlflowTracker

__all__ = [
    "DROPPED_METRICS_TAG",
    "MAX_PARAM_VALUE_LENGTH",
    "MAX_TAG_VALUE_LENGTH",
    "InMemoryTracker",
    "MlflowTracker",
    "RecordedRun",
    "RunStatus",
    "Tracker",
    "clean_metrics",
]


def __getattr__(name: str) -> Any:
    # The MLflow tracker module itself is light (mlflow is imported when a tracker is built),
    # but resolving it on demand keeps `import sandbox.tracking` minimal.
    if name == "MlflowTracker":
        from sandbox.tracking.mlflow import MlflowTracker

        return MlflowTracker
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
