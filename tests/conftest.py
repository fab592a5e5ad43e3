"""Shared test configuration.

Tests marked `docker` need a running engine. On a laptop without one they skip; in CI
(`CI=true`) a missing engine is a failure, so the isolation tests can never silently vanish.
"""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _mlflow_loaded() -> None:
    """The test process keeps MLflow loaded, as a worker or a server does, so the commands it
    runs in-process track in-process (`open_tracker`): one import, not a tracking sidecar
    loading MLflow again for each command. Commands run as subprocesses use the sidecar as a
    user's do; `tests/integration/test_tracking_sidecar.py` tests it directly."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # as the tracker sets it
    import mlflow.tracking  # noqa: F401


def _engine_reachable() -> bool:
    try:
        import docker

        docker.from_env(timeout=5).ping()
    except Exception:
        return False
    return True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any("docker" in item.keywords for item in items) or _engine_reachable():
        return
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        raise pytest.UsageError(
            "CI=true but no Docker engine is reachable: the docker-marked tests must run in CI. "
            "Start one with `bash scripts/engine.sh`."
        )
    skip = pytest.mark.skip(reason="no Docker engine reachable (start one: bash scripts/engine.sh)")
    for item in items:
        if "docker" in item.keywords:
            item.add_marker(skip)
