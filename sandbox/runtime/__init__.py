"""Container backends behind one `Runtime` protocol, the runner image and its checks.

`DockerRuntime`, the image build, the fake runtime and the output readers are loaded on first
use, so importing this package (and starting the CLI) imports neither the docker SDK nor
numpy and pydantic: a command that tracks its run starts its MLflow sidecar before those.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.runtime.base import (
    ContainerResult,
    ContainerSpec,
    Hardening,
    LeftoverResources,
    OutputLimits,
    Runtime,
    TerminalState,
)

if TYPE_CHECKING:
    from sandbox.runtime.backends import open_runtime
    from sandbox.runtime.docker.image import build_runner_image, default_image_tag, image_exists
    from sandbox.runtime.docker.runtime import DockerRuntime
    from sandbox.runtime.fake import FakeOutcome, FakeRuntime
    from sandbox.runtime.outputs import (
        Explanations,
        FeatureImportance,
        copy_out,
        read_explanations,
        read_predictions,
    )

__all__ = [
    "ContainerResult",
    "ContainerSpec",
    "DockerRuntime",
    "Explanations",
    "FakeOutcome",
    "FakeRuntime",
    "FeatureImportance",
    "Hardening",
    "LeftoverResources",
    "OutputLimits",
    "Runtime",
    "TerminalState",
    "build_runner_image",
    "copy_out",
    "default_image_tag",
    "image_exists",
    "open_runtime",
    "read_explanations",
    "read_predictions",
]

_LAZY = {
    "FakeOutcome": "sandbox.runtime.fake",
    "FakeRuntime": "sandbox.runtime.fake",
    "Explanations": "sandbox.runtime.outputs",
    "FeatureImportance": "sandbox.runtime.outputs",
    "copy_out": "sandbox.runtime.outputs",
    "read_explanations": "sandbox.runtime.outputs",
    "read_predictions": "sandbox.runtime.outputs",
    "DockerRuntime": "sandbox.runtime.docker.runtime",
    "open_runtime": "sandbox.runtime.backends",
    "build_runner_image": "sandbox.runtime.docker.image",
    "default_image_tag": "sandbox.runtime.docker.image",
    "image_exists": "sandbox.runtime.docker.image",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
