"""The OCI runtime (runc, or gVisor's runsc) is part of a run's hardening, set by the settings."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.errors import UserInputError
from sandbox.runs.services import default_hardening
from sandbox.runtime.backends import BACKENDS, oci_runtime
from sandbox.runtime.base import Hardening
from sandbox.runtime.docker.edge import check_oci_runtime
from sandbox.settings import Settings


class FakeEngine:
    """The one call the check makes: `docker info`, with the runtimes the engine lists."""

    def __init__(self, runtimes: dict[str, Any]) -> None:
        self.runtimes = runtimes
        self.calls = 0

    def info(self) -> dict[str, Any]:
        self.calls += 1
        return {"Runtimes": self.runtimes}


def test_sandbox_runtime_runsc_gives_every_run_a_runsc_hardening() -> None:
    assert "runsc" in BACKENDS
    assert oci_runtime("runsc") == "runsc" and oci_runtime("docker") == "runc"
    assert default_hardening(Settings(runtime="runsc")).runtime == "runsc"
    assert default_hardening(Settings()).runtime == "runc"


def test_tightening_never_drops_gvisor() -> None:
    gvisor, plain = Hardening(runtime="runsc"), Hardening(memory_mb=256)
    assert gvisor.tightened(plain).runtime == "runsc"
    assert plain.tightened(gvisor).runtime == "runsc"
    assert gvisor.tightened(plain).memory_mb == 256


def test_runc_needs_no_engine_call() -> None:
    engine = FakeEngine({})
    check_oci_runtime(engine, "runc", run_id="r1")
    assert engine.calls == 0


def test_a_registered_runsc_passes() -> None:
    check_oci_runtime(FakeEngine({"runc": {}, "runsc": {}}), "runsc", run_id="r1")


def test_an_unregistered_runsc_names_the_set_up_script() -> None:
    with pytest.raises(UserInputError, match=r"run r1: .*no 'runsc'.*bash scripts/gvisor.sh"):
        check_oci_runtime(FakeEngine({"runc": {}}), "runsc", run_id="r1")


def test_an_unknown_oci_runtime_is_refused_with_the_known_ones() -> None:
    with pytest.raises(UserInputError, match="hardening.runtime must be one of runc, runsc"):
        check_oci_runtime(FakeEngine({"kata": {}}), "kata", run_id="r1")
