"""The container backend is chosen by name from the settings (`SANDBOX_RUNTIME`)."""

from __future__ import annotations

import pytest

from sandbox.errors import UserInputError
from sandbox.runtime.backends import BACKENDS, DeferredRuntime, open_runtime
from sandbox.runtime.base import Runtime
from sandbox.runtime.fake import FakeRuntime
from sandbox.settings import Settings


def test_docker_is_the_default_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SANDBOX_RUNTIME", raising=False)
    assert Settings().runtime == "docker" and "docker" in BACKENDS


class ProbeRuntime(FakeRuntime):
    """A backend added by one line in BACKENDS, as gVisor or Kubernetes would be."""

    def __init__(self) -> None:
        super().__init__(lambda spec: {})


def test_the_setting_chooses_the_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_RUNTIME", "probe")
    monkeypatch.setitem(BACKENDS, "probe", f"{__name__}:ProbeRuntime")
    runtime = open_runtime(Settings().runtime)
    assert isinstance(runtime, ProbeRuntime) and isinstance(runtime, Runtime)


def test_an_unknown_backend_names_the_known_ones() -> None:
    with pytest.raises(UserInputError, match="SANDBOX_RUNTIME='gvisor'.*known: docker"):
        open_runtime("gvisor")


def test_a_deferred_backend_checks_its_name_at_once_and_opens_on_first_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(UserInputError, match="known: docker"):
        DeferredRuntime("gvisor")
    opened: list[ProbeRuntime] = []

    class Counted(ProbeRuntime):
        def __init__(self) -> None:
            super().__init__()
            opened.append(self)

    monkeypatch.setitem(BACKENDS, "probe", f"{__name__}:Counted")
    monkeypatch.setattr(f"{__name__}.Counted", Counted, raising=False)
    runtime = DeferredRuntime("probe")
    assert isinstance(runtime, Runtime) and opened == []
    runtime.remove_leftovers()
    runtime.remove_leftovers(run_id="r1")
    assert len(opened) == 1 and runtime.backend is opened[0]
