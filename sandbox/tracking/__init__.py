"""Experiment tracking behind one `Tracker` protocol.

base.py          the `Tracker` protocol and the value rules every tracker shares
memory.py        `InMemoryTracker`, for tests
mlflow.py        `MlflowTracker`, the only module that imports mlflow (lazily)
outbox.py        `QueuedTracker`: calls MLflow cannot take now wait in a durable outbox
target.py        `TrackingTarget`: where runs are tracked; opens the real tracker
sidecar.py       `SidecarTracker`: MLflow in a sidecar process, loaded while a run goes on
sidecar_main.py  the sidecar's process: requests in, answers out, in order
sidecar_server.py  the shared sidecar: one warm MLflow serving the commands that follow
sidecar_socket.py  where the shared sidecar listens (a private folder), reaching or starting it
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
