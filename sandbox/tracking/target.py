"""Where runs are tracked: one small value that builds the real tracker, here or in a sidecar."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.tracking.outbox import QueuedTracker

__all__ = ["TrackingTarget"]

_SQLITE = "sqlite:///"


@dataclass(frozen=True, kw_only=True)
class TrackingTarget:
    """An MLflow store (URI and, for a store this process writes, an artifact folder) and the
    outbox where calls wait while it is down."""

    tracking_uri: str
    artifact_root: Path | None
    outbox_dir: Path

    def open(self) -> QueuedTracker:
        """The tracker: MLflow behind the durable outbox (imports mlflow: about 2 s)."""
        from sandbox.tracking.mlflow import MlflowTracker

        with self._store_lock():
            tracker = MlflowTracker(self.tracking_uri, artifact_root=self.artifact_root)
        return QueuedTracker(tracker, self.outbox_dir)

    @property
    def sqlite_file(self) -> Path | None:
        """The database file of an SQLite store; None for any other store."""
        if not self.tracking_uri.startswith(_SQLITE):
            return None
        return Path(self.tracking_uri.removeprefix(_SQLITE))

    @contextlib.contextmanager
    def _store_lock(self) -> Iterator[None]:
        """For an SQLite store, one process at a time opens it: the first opening creates
        its tables, and MLflow's migrations fail when two processes run them at once."""
        database = self.sqlite_file
        if database is None:
            yield
            return
        from sandbox.tracking.mlflow import preload_sql_store

        preload_sql_store()  # outside the lock: concurrent commands import in parallel
        database.parent.mkdir(parents=True, exist_ok=True)
        with open(database.with_name(database.name + ".lock"), "a") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            yield

    def to_dict(self) -> dict[str, Any]:
        """As JSON, for the sidecar's first line."""
        root = str(self.artifact_root) if self.artifact_root is not None else None
        return {
            "tracking_uri": self.tracking_uri,
            "artifact_root": root,
            "outbox_dir": str(self.outbox_dir),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrackingTarget:
        """Back from `to_dict`."""
        root = data.get("artifact_root")
        return cls(
            tracking_uri=str(data["tracking_uri"]),
            artifact_root=Path(root) if root is not None else None,
            outbox_dir=Path(data["outbox_dir"]),
        )
