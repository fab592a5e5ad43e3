"""Fixtures for tests against the real Docker engine (the runner image and the runtime) and a
real PostgreSQL server (`tests/integration/postgres.py`).

`tests/conftest.py` skips these tests on a laptop with no engine and fails them in CI.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sandbox.runtime import ContainerSpec, Hardening
from sandbox.runtime.docker.runtime import DockerRuntime
from tests.integration.postgres import new_schema, pg_url  # noqa: F401 - fixtures for PostgreSQL

PILOTS = Path(__file__).parents[1] / "data" / "pilots"
HARNESS_COMMAND = ("python3", "/opt/sandbox/harness.py")
FEATURES = ["age", "income", "visits"]


@pytest.fixture(scope="session")
def runner_image() -> str:
    """The runner image of this checkout, built once if the engine does not hold it yet."""
    from sandbox.runtime.docker.image import build_runner_image

    return build_runner_image(progress=lambda line: print(f"[runner image] {line}"))


@pytest.fixture
def docker_runtime() -> DockerRuntime:
    return DockerRuntime(poll_interval_s=0.1)


def write_inputs(
    folder: Path,
    *,
    entrypoint: str = "model.py:build_model",
    params: dict[str, object] | None = None,
    rows: int = 120,
    seed: int = 42,
) -> list[str]:
    """Write spec.json, train.parquet and score.parquet as the host would; returns the row ids."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 90, rows),
            "income": rng.normal(30_000, 8_000, rows).round(2),
            "visits": rng.poisson(3, rows),
        }
    )
    frame["eligible"] = ((frame["income"] < 30_000) ^ (rng.random(rows) < 0.1)).astype(int)
    train, score = frame.iloc[: rows * 3 // 4], frame.iloc[rows * 3 // 4 :]
    train.to_parquet(folder / "train.parquet", index=False)
    row_ids = [f"r{i:04d}" for i in range(len(score))]
    score[FEATURES].assign(row_id=row_ids)[["row_id", *FEATURES]].to_parquet(
        folder / "score.parquet", index=False
    )
    spec = {
        "task": "binary_classification",
        "outputs": {"prediction": "binary", "score": "probability", "scoring": "balanced_accuracy"},
        "label": "eligible",
        "features": FEATURES,
        "entrypoint": entrypoint,
        "params": params or {},
        "seed": seed,
        "explain": {"holdout_fraction": 0.25, "n_repeats": 3, "max_rows": 500},
    }
    (folder / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    return row_ids


@pytest.fixture
def make_spec(tmp_path: Path, runner_image: str) -> Callable[..., ContainerSpec]:
    """A ContainerSpec running the harness on one of tests/data/pilots/*."""

    def make(
        pilot: str,
        *,
        run_id: str,
        hardening: Hardening | None = None,
        command: tuple[str, ...] = HARNESS_COMMAND,
        params: dict[str, object] | None = None,
    ) -> ContainerSpec:
        write_inputs(tmp_path / run_id / "input", params=params)
        return ContainerSpec(
            run_id=run_id,
            image=runner_image,
            command=command,
            input_dir=tmp_path / run_id / "input",
            pilot_dir=PILOTS / pilot,
            output_dir=tmp_path / run_id / "output",
            hardening=hardening or Hardening(memory_mb=512, timeout_s=120),
        )

    return make
