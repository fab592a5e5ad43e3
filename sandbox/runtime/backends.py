"""The container backends by name, and the one the settings choose (`SANDBOX_RUNTIME`).

A backend is a module path and a class that implements `Runtime`; it is imported only when
chosen, so the docker SDK is never loaded for another backend. Adding one (Kubernetes Jobs)
is one module plus one line here. `runsc` is the Docker backend under gVisor; a backend's OCI
runtime is part of the hardening every run records (`oci_runtime`).
"""

from __future__ import annotations

import importlib
from typing import Final

from sandbox.errors import UserInputError
from sandbox.runtime.base import Runtime

__all__ = ["BACKENDS", "OCI_RUNTIMES", "oci_runtime", "open_runtime"]

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
    target = BACKENDS.get(name)
    if target is None:
        raise UserInputError(
            f"SANDBOX_RUNTIME={name!r}: unknown container runtime; known: {', '.join(BACKENDS)}"
        )
    module, cls = target.split(":")
    runtime: Runtime = getattr(importlib.import_module(module), cls)()
    return runtime
