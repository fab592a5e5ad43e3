"""The MLflow `Tracker`: the only module that imports mlflow.

mlflow is imported when a tracker is built, not when this module is: importing it takes over a
second and the CLI must start at once. The tracker talks to `MlflowClient` directly (no global
"active run"), so concurrent runs in one process cannot log into each other.

- One experiment per pilot, created on first use. With `artifact_root`, its artifacts go to
  `<artifact_root>/<experiment>/`; without it, a local store would put them in `./mlartifacts`
  of whatever folder the process runs in.
- Params, metrics and tags go out with one `log_batch` call per kind, split only where MLflow's
  per-request limits require it (100 params, 1000 metrics, 100 tags, 1 MB).
- Names and values are made valid before they are sent (`sandbox.tracking.base`).
- MLflow's usage telemetry is turned off (`MLFLOW_DISABLE_TELEMETRY`), unless the operator
  set that variable, even when something imported mlflow before the tracker was built.
- For a tracking server, MLflow would print a "View run" link on stdout as each run ends;
  the sandbox prints its own (`run_url`), and stdout may be JSON, so that print is off.
- MLflow exceptions become `TrackingError` here, at the edge: `TrackingRefused` when MLflow
  refused the call itself (an invalid value, an unknown run: HTTP 4xx), which retrying cannot
  fix, and plain `TrackingError` when it could not take the call now (no connection, a locked
  database, HTTP 5xx, 401/403/408/429), which the outbox delivers later.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Final, TypeVar
from urllib.parse import urlsplit

from sandbox.errors import TrackingError, TrackingRefused
from sandbox.tracking.base import RunStatus, clean_metrics, clean_params, clean_tags

if TYPE_CHECKING:
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

__all__ = ["MlflowTracker", "preload_sql_store"]

# MLflow's LogBatch request limits (mlflow.utils.validation, 3.x).
MAX_PARAMS_PER_BATCH: Final = 100
MAX_TAGS_PER_BATCH: Final = 100
MAX_METRICS_PER_BATCH: Final = 1000
MAX_BATCH_BYTES: Final = 900_000  # under the 1 MB request cap, leaving room for the envelope

# A down tracking server must fail a call in seconds (the run queues it and goes on);
# MLflow's defaults (7 retries, exponential backoff, 120 s timeout) block for minutes.
HTTP_RETRIES: Final = 1
HTTP_TIMEOUT_S: Final = 10
HTTP_BACKOFF_FACTOR: Final = 1
# Client errors that say "not now" rather than "never": credentials, timeouts, rate limits.
_RETRYABLE_4XX: Final = frozenset({401, 403, 408, 429})
_HTTP_STATUS = re.compile(r"failed with error code (\d{3})")

_T = TypeVar("_T")

#: What a tracker sets in its process's environment unless the operator did (`setdefault`):
#: a variable at its default here means the same to MLflow as one not set.
ENVIRONMENT_DEFAULTS: Final = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": str(HTTP_RETRIES),
    "MLFLOW_HTTP_REQUEST_TIMEOUT": str(HTTP_TIMEOUT_S),
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": str(HTTP_BACKOFF_FACTOR),
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0",
}


def preload_sql_store() -> None:
    """Import MLflow's client and its SQL store (about 2 s) ahead of opening a store, so that
    only the opening itself runs under a lock that other commands wait on."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # as `MlflowTracker` does
    import mlflow.store.tracking.sqlalchemy_store
    import mlflow.tracking  # noqa: F401


def forget_sql_store(tracking_uri: str) -> None:
    """Drop what MLflow keeps of an SQL store in this process (its engine and its store
    objects, cached by URI), so the next tracker opens the database afresh: a long-lived
    process must not write on into an SQLite file that was removed and made again."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
    from mlflow.tracking._tracking_service import utils

    engines = getattr(SqlAlchemyStore, "_engine_map", {})
    engine = engines.pop(tracking_uri, None)
    if engine is not None:
        engine.dispose()
    stores = getattr(utils._tracking_store_registry, "_get_store_with_resolved_uri", None)
    if stores is not None and hasattr(stores, "cache_clear"):
        stores.cache_clear()


def _fail_fast_http(retries: int, timeout_s: int) -> None:
    """Bound MLflow's HTTP retries and timeout, unless the operator already set them.

    MLflow reads these variables on every request, so setting them here takes effect for
    every later call of this process.
    """
    defaults = {
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": str(retries),
        "MLFLOW_HTTP_REQUEST_TIMEOUT": str(timeout_s),
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": str(HTTP_BACKOFF_FACTOR),
        "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0",
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)


def _recheck_telemetry() -> None:
    """Drop MLflow's telemetry client if telemetry is now off.

    `import mlflow` decides on telemetry once; a worker or a test may have imported it before
    MLFLOW_DISABLE_TELEMETRY was set.
    """
    from mlflow.telemetry import get_telemetry_client, set_telemetry_client
    from mlflow.telemetry.utils import is_telemetry_disabled

    if get_telemetry_client() is not None and is_telemetry_disabled():
        set_telemetry_client()  # type: ignore[no-untyped-call]  # re-reads the switch: none


@contextmanager
def _mlflow_errors(action: str) -> Iterator[None]:
    """Translate what MLflow (or the artifact copy beneath it) raises into TrackingError."""
    from mlflow.exceptions import MlflowException

    try:
        yield
    except MlflowException as exc:
        error = TrackingRefused if _refused(exc) else TrackingError
        raise error(f"MLflow could not {action}: {str(exc.message)[:2000]}") from exc
    except OSError as exc:
        # An artifact upload to a tracking server fails as requests' HTTPError (an OSError):
        # a 4xx there (a proxy's size limit, a bad path) is a refusal like any other.
        status = getattr(getattr(exc, "response", None), "status_code", None)
        refused = isinstance(status, int) and 400 <= status < 500 and status not in _RETRYABLE_4XX
        error = TrackingRefused if refused else TrackingError
        raise error(f"MLflow could not {action}: {str(exc)[:2000]}") from exc


def _refused(exc: MlflowException) -> bool:
    """Whether MLflow refused the call itself (retrying cannot help) rather than being down."""
    from mlflow.exceptions import ERROR_CODE_TO_HTTP_STATUS

    status = int(ERROR_CODE_TO_HTTP_STATUS.get(str(exc.error_code), 500))
    # A proxy's bare 4xx reaches the client as INTERNAL_ERROR; its message keeps the status.
    if found := _HTTP_STATUS.search(str(exc.message)):
        status = int(found.group(1))
    if 400 <= status < 500:
        return status not in _RETRYABLE_4XX
    # A local store wraps a value it cannot store (a ValueError) as INTERNAL_ERROR.
    return isinstance(exc.__cause__, ValueError | TypeError)


def _chunks(items: Sequence[tuple[str, _T]], *, limit: int) -> Iterator[list[tuple[str, _T]]]:
    """Split into batches of at most `limit` items and about MAX_BATCH_BYTES each."""
    batch: list[tuple[str, _T]] = []
    size = 0
    for key, value in items:
        item_size = len(key.encode()) + len(str(value).encode()) + 64
        if batch and (len(batch) == limit or size + item_size > MAX_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append((key, value))
        size += item_size
    if batch:
        yield batch


def _folder_name(experiment: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", experiment).strip(".") or "experiment"


class MlflowTracker:
    """Logs runs to an MLflow tracking store (SQLite file, PostgreSQL, or a tracking server)."""

    def __init__(
        self,
        tracking_uri: str,
        *,
        artifact_root: Path | None = None,
        ui_url: str | None = None,
        http_retries: int = HTTP_RETRIES,
        http_timeout_s: int = HTTP_TIMEOUT_S,
    ) -> None:
        """`ui_url` is the MLflow web UI serving this store, used by `run_url` when given.

        For a tracking server (http/https), `http_retries` and `http_timeout_s` bound each
        request unless the operator set MLflow's own variables: MLflow's defaults retry
        for minutes, and a run must not wait that long on a server that is down.
        """
        # MLflow 3 reports usage to its vendor by default. A city's sandbox sends nothing
        # anywhere it was not told to: off unless the operator set the variable themselves.
        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
        already_imported = "mlflow" in sys.modules
        try:
            from mlflow.tracking import MlflowClient
        except ImportError as exc:  # pragma: no cover - mlflow is a dependency
            raise TrackingError(
                f"cannot import mlflow ({exc}); install it with `pip install mlflow`"
            ) from exc
        if already_imported:
            _recheck_telemetry()
        self.tracking_uri = tracking_uri
        if urlsplit(tracking_uri).scheme in {"http", "https"}:
            _fail_fast_http(http_retries, http_timeout_s)
            os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
        self.artifact_root = artifact_root.resolve() if artifact_root is not None else None
        self.ui_url = ui_url
        with _mlflow_errors(f"open the tracking store {tracking_uri}"):
            self._client: MlflowClient = MlflowClient(tracking_uri=tracking_uri)
        self._experiment_ids: dict[str, str] = {}
        self._run_experiments: dict[str, str] = {}

    def _experiment_id(self, name: str) -> str:
        if name in self._experiment_ids:
            return self._experiment_ids[name]
        from mlflow.exceptions import MlflowException

        with _mlflow_errors(f"find or create experiment {name!r}"):
            experiment = self._client.get_experiment_by_name(name)
            if experiment is None:
                location = None
                if self.artifact_root is not None:
                    location = (self.artifact_root / _folder_name(name)).as_uri()
                try:
                    experiment_id = self._client.create_experiment(name, artifact_location=location)
                except MlflowException as exc:
                    # another process created it between our look-up and our create
                    experiment = self._client.get_experiment_by_name(name)
                    if experiment is None:
                        raise exc from None
                    experiment_id = experiment.experiment_id
            else:
                experiment_id = experiment.experiment_id
        if experiment is not None and experiment.lifecycle_stage != "active":
            raise TrackingRefused(
                f"MLflow experiment {name!r} is deleted; restore it "
                f"(`mlflow experiments restore --experiment-id {experiment.experiment_id}`) "
                "or rename the pilot"
            )
        self._experiment_ids[name] = experiment_id
        return experiment_id

    def start_run(self, *, experiment: str, run_name: str, tags: Mapping[str, str]) -> str:
        """Open a run in the pilot's experiment; returns MLflow's run id."""
        experiment_id = self._experiment_id(experiment)
        items = list(clean_tags(tags).items())
        first, *rest = list(_chunks(items, limit=MAX_TAGS_PER_BATCH)) or [[]]
        with _mlflow_errors(f"start a run in experiment {experiment!r}"):
            run = self._client.create_run(experiment_id, tags=dict(first), run_name=run_name)
        run_id: str = run.info.run_id
        self._run_experiments[run_id] = experiment_id
        for batch in rest:
            self.set_tags(run_id, dict(batch))
        return run_id

    def log_params(self, run_id: str, params: Mapping[str, str]) -> None:
        """Log params in as few batches as MLflow allows; values cut to MLflow's limit."""
        from mlflow.entities import Param

        items = list(clean_params(params).items())
        with _mlflow_errors(f"log params to run {run_id}"):
            for batch in _chunks(items, limit=MAX_PARAMS_PER_BATCH):
                self._client.log_batch(
                    run_id, params=[Param(k, v) for k, v in batch], synchronous=True
                )

    def log_metrics(self, run_id: str, metrics: Mapping[str, float]) -> None:
        """Log finite metrics in as few batches as MLflow allows; name the dropped ones."""
        from mlflow.entities import Metric

        values = clean_metrics(metrics)
        timestamp = int(time.time() * 1000)
        with _mlflow_errors(f"log metrics to run {run_id}"):
            for batch in _chunks(list(values.finite.items()), limit=MAX_METRICS_PER_BATCH):
                self._client.log_batch(
                    run_id,
                    metrics=[Metric(k, v, timestamp, 0) for k, v in batch],
                    synchronous=True,
                )
        if values.dropped:
            self.set_tags(run_id, values.dropped_tag())

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        """Set tags in as few batches as MLflow allows; values cut to MLflow's limit."""
        from mlflow.entities import RunTag

        items = list(clean_tags(tags).items())
        with _mlflow_errors(f"set tags on run {run_id}"):
            for batch in _chunks(items, limit=MAX_TAGS_PER_BATCH):
                self._client.log_batch(
                    run_id, tags=[RunTag(k, v) for k, v in batch], synchronous=True
                )

    def log_artifacts(self, run_id: str, folder: Path, artifact_path: str | None = None) -> None:
        """Copy every file under `folder` into the run's artifacts."""
        if not folder.is_dir():
            raise TrackingRefused(f"{folder}: not a folder, cannot log it as artifacts")
        with _mlflow_errors(f"log artifacts from {folder} to run {run_id}"):
            self._client.log_artifacts(run_id, str(folder), artifact_path)

    def log_file(self, run_id: str, path: Path, artifact_path: str | None = None) -> None:
        """Copy one file into the run's artifacts."""
        if not path.is_file():
            raise TrackingRefused(f"{path}: not a file, cannot log it as an artifact")
        with _mlflow_errors(f"log artifact {path} to run {run_id}"):
            self._client.log_artifact(run_id, str(path), artifact_path)

    def end_run(self, run_id: str, status: RunStatus) -> None:
        """Close the run with its final status."""
        with _mlflow_errors(f"end run {run_id}"):
            self._client.set_terminated(run_id, status=status)

    def resolve(self, run_id: str) -> str:
        """Run ids are final when `start_run` answers."""
        return run_id

    def run_url(self, run_id: str) -> str:
        """The run's page in the MLflow UI, or for a local store without a UI, its artifacts."""
        base = self.ui_url
        if base is None and urlsplit(self.tracking_uri).scheme in {"http", "https"}:
            base = self.tracking_uri
        experiment_id = self._run_experiments.get(run_id)
        if base is not None and experiment_id is not None:
            return f"{base.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"
        with _mlflow_errors(f"look up run {run_id}"):
            info = self._client.get_run(run_id).info
        if base is not None:
            return f"{base.rstrip('/')}/#/experiments/{info.experiment_id}/runs/{run_id}"
        artifact_uri: str = info.artifact_uri
        return artifact_uri
