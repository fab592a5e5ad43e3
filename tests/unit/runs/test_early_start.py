"""The container started early: the go marker, the fallback, and discarding it unused."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sandbox.errors import RuntimeUnavailable
from sandbox.runs.early_start import READY_NAME, EarlyContainer, waiting_command
from sandbox.runtime.base import ContainerResult, ContainerSpec
from sandbox.runtime.fake import FakeRuntime


def _spec(tmp_path: Path) -> ContainerSpec:
    return ContainerSpec(
        run_id="r1",
        image="runner:test",
        command=waiting_command(("python3", "/opt/sandbox/harness.py"), preload=True),
        input_dir=tmp_path / "input",
        pilot_dir=tmp_path / "pilot",
        output_dir=tmp_path / "output",
    )


@dataclass
class _Started:
    """A started container that notes what happened to it."""

    spec: ContainerSpec
    events: list[str] = field(default_factory=list)

    def finish(self) -> ContainerResult:
        # the go marker is there while the command runs
        self.events.append(f"finish:{(self.spec.input_dir / READY_NAME).exists()}")
        return FakeRuntime(lambda spec: {"predictions.csv": b"row_id,prediction\n1,0\n"}).run(
            self.spec
        )

    def discard(self) -> None:
        self.events.append("discard")


class _Runtime(FakeRuntime):
    def __init__(self, *, fail_start: bool = False) -> None:
        super().__init__(lambda spec: {"predictions.csv": b"row_id,prediction\n1,0\n"})
        self.started: list[_Started] = []
        self.fail_start = fail_start

    def start(self, spec: ContainerSpec) -> _Started:  # type: ignore[override]
        if self.fail_start:
            raise RuntimeUnavailable("the engine is not running")
        self.started.append(_Started(spec))
        return self.started[-1]


def test_the_harness_command_waits_for_the_marker_in_input() -> None:
    wait = ("python3", "h.py", "--wait-for", f"/input/{READY_NAME}")
    assert waiting_command(("python3", "h.py"), preload=False) == wait  # an assistant
    assert waiting_command(("python3", "h.py"), preload=True) == (*wait, "--preload")


def test_finish_gives_the_go_then_removes_the_marker(tmp_path: Path) -> None:
    runtime = _Runtime()
    early = EarlyContainer(runtime, _spec(tmp_path))
    (tmp_path / "input" / "spec.json").write_text("{}")  # the host fills the mounted folders

    result = early.finish()
    early.discard()  # after the finish: nothing left to discard

    assert result.state == "succeeded"
    assert runtime.started[0].events == ["finish:True"]
    assert sorted(p.name for p in (tmp_path / "input").iterdir()) == ["spec.json"]


def test_an_unused_container_is_discarded(tmp_path: Path) -> None:
    runtime = _Runtime()
    early = EarlyContainer(runtime, _spec(tmp_path))
    early.discard()
    assert runtime.started[0].events == ["discard"]
    assert not (tmp_path / "input" / READY_NAME).exists()


def test_a_container_that_could_not_start_early_starts_at_the_go(tmp_path: Path) -> None:
    runtime = _Runtime(fail_start=True)
    early = EarlyContainer(runtime, _spec(tmp_path))
    result = early.finish()  # FakeRuntime.run: the error of a real start would surface here
    assert result.state == "succeeded"
    assert runtime.specs == [early.spec]


def test_the_mounted_folders_must_be_new(tmp_path: Path) -> None:
    (tmp_path / "input").mkdir()
    (tmp_path / "input" / "left-over.csv").write_text("x\n")
    with pytest.raises(FileExistsError, match="not empty"):
        EarlyContainer(_Runtime(), _spec(tmp_path))
