"""A command loads MLflow in a sidecar only when a core is idle, unless told otherwise."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sandbox.runs import services
from sandbox.settings import Settings
from sandbox.tracking import sidecar
from sandbox.tracking.sidecar import spare_core


def _loadavg(tmp_path: Path, running: int) -> Path:
    path = tmp_path / "loadavg"
    path.write_text(f"0.52 0.58 0.59 {running}/412 12345\n", encoding="ascii")
    return path


def test_a_core_is_spare_while_fewer_tasks_run_than_cores(tmp_path: Path) -> None:
    cores = os.cpu_count() or 1
    assert spare_core(_loadavg(tmp_path, cores - 1)) is (cores > 1)
    assert not spare_core(_loadavg(tmp_path, cores))
    assert spare_core(tmp_path / "absent")  # unknown: as if idle
    (tmp_path / "odd").write_text("garbage\n")
    assert spare_core(tmp_path / "odd")


@pytest.mark.parametrize(
    ("setting", "idle", "expected"),
    [("auto", True, True), ("auto", False, False), (True, False, True), (False, True, False)],
)
def test_the_setting_and_the_load_choose_the_tracker(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    setting: object,
    idle: bool,
    expected: bool,
) -> None:
    chosen: list[str] = []
    monkeypatch.setattr(sidecar, "spare_core", lambda: idle)
    monkeypatch.setattr(sidecar.SidecarTracker, "__init__", lambda self, target: None)
    monkeypatch.delitem(__import__("sys").modules, "mlflow", raising=False)
    monkeypatch.setattr(
        "sandbox.tracking.target.TrackingTarget.open", lambda self: chosen.append("in-process")
    )
    settings = Settings(home=tmp_path, tracking_sidecar=setting)
    tracker = services.open_tracker(settings, sidecar=True)
    assert isinstance(tracker, sidecar.SidecarTracker) is expected
    assert chosen == ([] if expected else ["in-process"])


def test_the_environment_takes_auto_true_and_false(monkeypatch: pytest.MonkeyPatch) -> None:
    for raw, value in (("auto", "auto"), ("true", True), ("1", True), ("false", False)):
        monkeypatch.setenv("SANDBOX_TRACKING_SIDECAR", raw)
        assert Settings().tracking_sidecar == value
