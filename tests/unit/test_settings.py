"""Settings: where a store this process writes puts its artifacts."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.settings import Settings


@pytest.mark.parametrize(
    "uri",
    [
        None,
        "sqlite:////srv/sandbox/mlflow.db",
        "postgresql+psycopg://mlflow@127.0.0.1:5432/mlflow",
    ],
)
def test_a_store_the_process_writes_keeps_artifacts_under_the_home(
    tmp_path: Path, uri: str | None
) -> None:
    # Never MLflow's default `./mlruns`, relative to whatever folder the command runs in.
    settings = Settings(home=tmp_path, mlflow_tracking_uri=uri)
    assert settings.artifact_root == tmp_path / "mlflow" / "artifacts"


@pytest.mark.parametrize("uri", ["http://127.0.0.1:5000", "HTTPS://mlflow.example.org"])
def test_a_tracking_server_decides_where_artifacts_go(tmp_path: Path, uri: str) -> None:
    assert Settings(home=tmp_path, mlflow_tracking_uri=uri).artifact_root is None
