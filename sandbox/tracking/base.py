"""What the run pipeline asks of an experiment tracker: one small `Tracker` protocol.

Implementations: `InMemoryTracker` (tests) and `MlflowTracker` (the only module that imports
mlflow). Both share the value rules below, so a run logs the same way whichever is used, and a
name or value from a pilot (a data file `data/./x.csv`, a group label of any length or
alphabet) never makes MLflow refuse a call:

- names become valid MLflow keys (`tracker_key`): MLflow's characters only, no `.`, `..` or
  empty path parts, at most 250 characters; a name that had to change gets a short hash of
  the original, so two names never collide;
- parameter and tag values are cut to MLflow's limits, with lone surrogates and NUL escaped;
- metrics must be finite numbers; the names of dropped non-finite metrics are kept in the
  `DROPPED_METRICS_TAG` tag.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, Protocol, runtime_checkable

from sandbox.plain_data import writable_text

__all__ = [
    "DROPPED_METRICS_TAG",
    "MAX_KEY_LENGTH",
    "MAX_PARAM_VALUE_LENGTH",
    "MAX_TAG_VALUE_LENGTH",
    "PROVISIONAL_PREFIX",
    "MetricValues",
    "RunStatus",
    "Tracker",
    "clean_metrics",
    "clean_params",
    "clean_tags",
    "tracker_key",
    "truncate",
]

RunStatus = Literal["FINISHED", "FAILED", "KILLED"]

# MLflow's limits (mlflow.utils.validation, 3.x); a tracking server refuses longer values.
MAX_PARAM_VALUE_LENGTH: Final = 6000
MAX_TAG_VALUE_LENGTH: Final = 8000
MAX_KEY_LENGTH: Final = 250  # MAX_ENTITY_KEY_LENGTH: param, metric and tag names
# MLflow's key characters (validate_param_and_metric_name) without the colon, which a
# tracking server on Windows refuses.
_NOT_KEY_CHAR = re.compile(r"[^\w./\- ]")
_HEAD = 160  # of a name cut to MAX_KEY_LENGTH: its start, a hash, and its end

#: A run key a tracker answers before the tracker itself has the run (`Tracker.resolve`).
PROVISIONAL_PREFIX: Final = "starting:"

#: Tag listing the metrics dropped because their value was NaN or infinite.
DROPPED_METRICS_TAG: Final = "sandbox.dropped_metrics"


def truncate(value: str, limit: int) -> str:
    """`value`, cut to `limit` characters with a visible marker when it was longer."""
    if len(value) <= limit:
        return value
    marker = "...[truncated]"
    return value[: limit - len(marker)] + marker


def tracker_key(name: str) -> str:
    """`name` as a param, metric or tag key MLflow accepts; unchanged when it already is one."""
    clean = _NOT_KEY_CHAR.sub("_", name)
    # MLflow refuses a key that a path normalisation would change (`a/./b`, `a//b`, `../a`).
    parts = ["__" if part == ".." else part for part in clean.split("/") if part not in ("", ".")]
    clean = "/".join(parts) or "_"
    if clean.startswith(".."):
        clean = "_" + clean
    if clean == name and len(name) <= MAX_KEY_LENGTH:
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    mark = f"--{digest}"
    if len(clean) + len(mark) <= MAX_KEY_LENGTH:
        return clean + mark
    tail = MAX_KEY_LENGTH - _HEAD - len(mark)
    return clean[:_HEAD] + mark + clean[-tail:]


def _value(value: object, limit: int) -> str:
    # NUL and lone surrogates cannot be stored by every backend (PostgreSQL, SQLite's UTF-8).
    return truncate(writable_text(str(value)).replace("\x00", "\\x00"), limit)


def clean_params(params: Mapping[str, object]) -> dict[str, str]:
    """Params with valid keys and values cut to MAX_PARAM_VALUE_LENGTH."""
    return {tracker_key(k): _value(v, MAX_PARAM_VALUE_LENGTH) for k, v in params.items()}


def clean_tags(tags: Mapping[str, object]) -> dict[str, str]:
    """Tags with valid keys and values cut to MAX_TAG_VALUE_LENGTH."""
    return {tracker_key(k): _value(v, MAX_TAG_VALUE_LENGTH) for k, v in tags.items()}


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
            finite[tracker_key(key)] = number
        else:
            dropped.append(writable_text(key))
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

    def resolve(self, run_id: str) -> str:
        """The tracker's own id of a run `start_run` answered with `run_id` (a tracker that
        answers at once returns it unchanged; one that answers later waits for it here)."""
        ...
