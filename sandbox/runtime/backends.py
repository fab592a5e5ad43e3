"""The container backends by name, and the one the settings choose (`SANDBOX_RUNTIME`).

A backend is a module path and a class that implements `Runtime`; it is imported only when
chosen, so the docker SDK is never loaded for another backend. Adding one (Kubernetes Jobs)
is one module plus one line here. `runsc` is the Docker backend under gVisor; a backend's OCI
runtime is part of the hardening every run records (`oci_runtime`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Final

from sandbox.errors import UserInputError
from sandbox.runtime.base import Runtime

if TYPE_CHECKING:
    from sandbox.runtime.base import (
        ContainerResult,
        ContainerSpec,
        LeftoverResources,
        StartedContainer,
    )

__all__ = ["BACKENDS", "OCI_RUNTIMES", "DeferredRuntime", "oci_runtime", "open_runtime"]

#: name -> "module:Class"
BACKENDS: Final = {
    "docker": "sandbox.runtime.docker.runtime:DockerRuntime",
    "runsc": "sandbox.runtime.docker.gvisor:GVisorRuntime",
}

#: name -> the OCI runtime its containers run under (`Hardening.runtime`); runc otherwise
OCI_RUNTIMES: Final = {"runsc": "runsc"}


def oci_runtime(name: str) -> str:
    """The OCI runtime of backend `name`, for the hardening of every run it starts."""
    return OCI_RUNTIMES.get(name, "runc")


def open_runtime(name: str) -> Runtime:
    """The runtime backend called `name`; UserInputError names the known ones."""
    module, cls = _target(name).split(":")
    runtime: Runtime = getattr(importlib.import_module(module), cls)()
    return runtime


def _target(name: str) -> str:
    target = BACKENDS.get(name)
    if target is None:
        raise UserInputError(
            f"SANDBOX_RUNTIME={name!r}: unknown container runtime; known: {', '.join(BACKENDS)}"
        )
    return target


class DeferredRuntime:
    """Backend `name`, imported on its first use.

    The name is checked at once; the backend's module (the docker SDK and its HTTP stack, a
    fifth of a second) loads only when a container is about to start. A predictions-only
    audit never starts one, so it never pays for it.
    """

    def __init__(self, name: str) -> None:
        _target(name)
        self.name = name
        self._runtime: Runtime | None = None

    @property
    def backend(self) -> Runtime:
        """The backend itself, opened now if it was not yet."""
        if self._runtime is None:
            self._runtime = open_runtime(self.name)
        return self._runtime

    def image_digest(self, image: str) -> str:
        return self.backend.image_digest(image)

    def run(self, spec: ContainerSpec) -> ContainerResult:
        return self.backend.run(spec)

    def start(self, spec: ContainerSpec) -> StartedContainer:
        return self.backend.start(spec)

    def remove_leftovers(self, *, run_id: str | None = None) -> LeftoverResources:
        return self.backend.remove_leftovers(run_id=run_id)
