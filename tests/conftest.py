"""Shared test configuration.

Tests marked `docker` need a running engine. On a laptop without one they skip; in CI
(`CI=true`) a missing engine is a failure, so the isolation tests can never silently vanish.
"""

from __future__ import annotations

import os

import pytest


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
