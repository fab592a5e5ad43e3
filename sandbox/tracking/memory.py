"""A `Tracker` that keeps everything in dicts, for tests of the run pipeline.

It follows the same value rules as the MLflow tracker (valid names, truncation, finite
metrics, params that never change, unknown run ids refused with `TrackingRefused`) so a test
sees what MLflow would store; it asserts nothing about how it is used: tests read `runs` and
check what they expect.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from sandbox.errors import TrackingRefused
from sandbox.tracking.base import RunStatus, clean_metrics, clean_params, clean_tags

__all__ = ["InMemoryTracker", "RecordedRun"]


@dataclass(kw_only=True)
class RecordedRun:
    """Everything logged to one run (mutable: the tracker fills it in as the run goes)."""

    run_id: str
    experiment: str
    run_name: str
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    artifacts: dict[str, bytes] = field(default_factory=dict)  # "dir/name" -> content
    status: RunStatus | None = None  # None while the run is open


class InMemoryTracker:
    """Keeps runs in memory; `runs` maps run id to what was logged."""

    def __init__(self) -> None:
        self.runs: dict[str, RecordedRun] = {}
        self._ids = itertools.count(1)

    def start_run(self, *, experiment: str, run_name: str, tags: Mapping[str, str]) -> str:
        """Open a run; ids are "run-1", "run-2", ..."""
        run_id = f"run-{next(self._ids)}"
        self.runs[run_id] = RecordedRun(run_id=run_id, experiment=experiment, run_name=run_name)
        self.set_tags(run_id, tags)
        return run_id

    def _run(self, run_id: str) -> RecordedRun:
        try:
            return self.runs[run_id]
        except KeyError:
            raise TrackingRefused(f"no tracked run {run_id!r}") from None

    def log_params(self, run_id: str, params: Mapping[str, str]) -> None:
        """Record params; refuses to change a param's value, as MLflow does."""
        run = self._run(run_id)
        for key, value in clean_params(params).items():
            if run.params.get(key, value) != value:
                raise TrackingRefused(
                    f"run {run_id}: param {key!r} is already {run.params[key]!r}; "
                    "params never change, log a tag or a new run instead"
                )
            run.params[key] = value

    def log_metrics(self, run_id: str, metrics: Mapping[str, float]) -> None:
        """Record finite metrics; name the dropped ones in a tag."""
        run = self._run(run_id)
        values = clean_metrics(metrics)
        run.metrics.update(values.finite)
        self.set_tags(run_id, values.dropped_tag())

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        """Set tags; later values replace earlier ones."""
        self._run(run_id).tags.update(clean_tags(tags))

    def log_artifacts(self, run_id: str, folder: Path, artifact_path: str | None = None) -> None:
        """Keep the content of every file under `folder`."""
        run = self._run(run_id)
        if not folder.is_dir():
            raise TrackingRefused(f"{folder}: not a folder, cannot log it as artifacts")
        prefix = PurePosixPath(artifact_path or "")
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            name = prefix / PurePosixPath(file.relative_to(folder).as_posix())
            run.artifacts[str(name)] = file.read_bytes()

    def log_file(self, run_id: str, path: Path, artifact_path: str | None = None) -> None:
        """Keep the content of one file."""
        run = self._run(run_id)
        if not path.is_file():
            raise TrackingRefused(f"{path}: not a file, cannot log it as an artifact")
        run.artifacts[str(PurePosixPath(artifact_path or "") / path.name)] = path.read_bytes()

    def end_run(self, run_id: str, status: RunStatus) -> None:
        """Record the final status."""
        self._run(run_id).status = status

    def resolve(self, run_id: str) -> str:
        """Run ids are final when `start_run` answers."""
        return run_id

    def run_url(self, run_id: str) -> str:
        """A memory:// address naming the experiment and the run."""
        return f"memory://{self._run(run_id).experiment}/{run_id}"
