"""A command loads MLflow in a sidecar only when a core is idle, unless told otherwise."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sandbox.runs import services
from sandbox.settings import Settings
from sandbox.tracking import sidecar
from sandbox.tracking.sidecar import spare_core
from sandbox.tracking.target import TrackingTarget


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
    ("setting", "idle", "warm", "expected"),
    [
        ("auto", True, False, "started"),
        ("auto", False, False, "in-process"),
        ("auto", False, True, "warm"),  # a shared sidecar has MLflow loaded: nothing competes
        (True, False, False, "started"),
        (False, True, True, "in-process"),
    ],
)
def test_the_setting_and_the_load_choose_the_tracker(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    setting: object,
    idle: bool,
    warm: bool,
    expected: str,
) -> None:
    chosen: list[str] = []

    def started(self: sidecar.SidecarTracker, target: object, **options: object) -> None:
        chosen.append("started")
        assert options == {"shared_idle_s": 600.0}

    def warm_one(target: object) -> sidecar.SidecarTracker | None:
        if not warm:
            return None
        chosen.append("warm")
        return sidecar.SidecarTracker.__new__(sidecar.SidecarTracker)

    monkeypatch.setattr(sidecar, "spare_core", lambda: idle)
    monkeypatch.setattr(sidecar.SidecarTracker, "__init__", started)
    monkeypatch.setattr(sidecar.SidecarTracker, "warm", staticmethod(warm_one))
    monkeypatch.delitem(__import__("sys").modules, "mlflow", raising=False)
    monkeypatch.setattr(
        "sandbox.tracking.target.TrackingTarget.open", lambda self: chosen.append("in-process")
    )
    settings = Settings(home=tmp_path, tracking_sidecar=setting)
    services.open_tracker(settings, sidecar=True)
    assert chosen == [expected]


def test_no_idle_time_means_no_shared_sidecar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options: list[dict[str, object]] = []
    monkeypatch.setattr(sidecar, "spare_core", lambda: False)
    monkeypatch.setattr(sidecar.SidecarTracker, "warm", staticmethod(lambda target: 1 / 0))
    monkeypatch.setattr(
        sidecar.SidecarTracker, "__init__", lambda self, target, **kw: options.append(kw)
    )
    monkeypatch.delitem(__import__("sys").modules, "mlflow", raising=False)
    monkeypatch.setattr("sandbox.tracking.target.TrackingTarget.open", lambda self: None)
    busy = Settings(home=tmp_path, tracking_sidecar_idle_s=0)
    services.open_tracker(busy, sidecar=True)  # a busy core, no shared sidecar asked for
    assert options == []
    services.open_tracker(busy.model_copy(update={"tracking_sidecar": True}), sidecar=True)
    assert options == [{"shared_idle_s": 0.0}]


def test_the_environment_takes_auto_true_and_false(monkeypatch: pytest.MonkeyPatch) -> None:
    for raw, value in (("auto", "auto"), ("true", True), ("1", True), ("false", False)):
        monkeypatch.setenv("SANDBOX_TRACKING_SIDECAR", raw)
        assert Settings().tracking_sidecar == value


class _Channel:
    """A sidecar connection that takes requests and never answers."""

    def write(self, data: bytes) -> None:
        pass

    def fileno(self) -> int:
        return -1

    def gone(self) -> bool:
        return False

    def close(self, *, wait: bool) -> None:
        pass


@pytest.mark.parametrize(("listening", "loading"), [(True, False), (False, True)])
def test_a_sidecar_started_for_the_command_keeps_a_core_busy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listening: bool, loading: bool
) -> None:
    asked: list[bool] = []

    def shared(target: object, idle_s: float, *, start: bool) -> _Channel | None:
        asked.append(start)
        return _Channel() if listening or start else None

    monkeypatch.setattr(sidecar, "_shared", shared)
    target = TrackingTarget(tracking_uri="x", artifact_root=None, outbox_dir=tmp_path)
    tracker = sidecar.SidecarTracker(target, shared_idle_s=60.0)
    assert tracker.loading is loading  # the PDF's process is started only if it is not
    assert asked == ([False] if listening else [False, True])
