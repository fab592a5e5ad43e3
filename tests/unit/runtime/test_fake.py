"""FakeRuntime: the pipeline's stand-in for an engine, checking outputs like the real one."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.errors import OutputRejected, RuntimeUnavailable
from sandbox.runtime import ContainerSpec, FakeOutcome, FakeRuntime, Runtime


def _spec(tmp_path: Path, run_id: str = "run-1") -> ContainerSpec:
    return ContainerSpec(
        run_id=run_id,
        image="ai-commons-sandbox/runner:test",
        command=("python3", "/opt/sandbox/harness.py"),
        input_dir=tmp_path / "input",
        pilot_dir=tmp_path / "pilot",
        output_dir=tmp_path / run_id / "output",
    )


def test_records_specs_and_writes_the_handler_files(tmp_path: Path) -> None:
    runtime = FakeRuntime(lambda spec: {"predictions.csv": b"row_id,prediction\n1,0\n"})
    spec = _spec(tmp_path)

    result = runtime.run(spec)

    assert isinstance(runtime, Runtime)
    assert runtime.specs == [spec]
    assert result.state == "succeeded" and result.exit_code == 0
    assert result.image_digest == runtime.image_digest(spec.image)
    assert result.image_digest.startswith("sha256:")
    assert (spec.output_dir / "predictions.csv").read_bytes() == b"row_id,prediction\n1,0\n"
    assert set(result.output_files) == {"predictions.csv"}


def test_outcome_sets_state_and_tails(tmp_path: Path) -> None:
    runtime = FakeRuntime(lambda spec: FakeOutcome(state="oom_killed", stderr="Killed"))
    result = runtime.run(_spec(tmp_path))
    assert result.state == "oom_killed" and result.exit_code is None
    assert result.stderr_tail == "Killed" and result.output_files == {}


def test_handler_files_go_through_the_same_checks(tmp_path: Path) -> None:
    runtime = FakeRuntime(lambda spec: {"../escape.csv": b"x"})
    with pytest.raises(OutputRejected, match=r"'\.\.'"):
        runtime.run(_spec(tmp_path))


def test_unknown_image_is_unavailable(tmp_path: Path) -> None:
    runtime = FakeRuntime(lambda spec: {}, images={"other:tag": "sha256:" + "0" * 64})
    with pytest.raises(RuntimeUnavailable):
        runtime.run(_spec(tmp_path))
