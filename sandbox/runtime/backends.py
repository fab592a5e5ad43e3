"""The container backends by name, and the one the settings choose (`SANDBOX_RUNTIME`).

A backend is a module path and a class that implements `Runtime`; it is imported only when
chosen, so the docker SDK is never loaded for another backend. Adding one (gVisor, Kubernetes
Jobs) is one module plus one line here.
"""

from __future__ import annotations

import importlib
from typing import Final

from sandbox.errors import UserInputError
from sandbox.runtime.base import Runtime

__all__ = ["BACKENDS", "open_runtime"]

#: name -> "module:Class"
BACKENDS: Final = {
    "docker": "sandbox.runtime.docker.runtime:DockerRuntime",
}


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
