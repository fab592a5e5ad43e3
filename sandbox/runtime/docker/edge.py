"""What the Docker backend shares at its edge: translated engine errors, bounded output, and the
check that the OCI runtime a hardening names (runc, or gVisor's runsc) is one the engine has."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import docker.errors
import requests.exceptions

from sandbox.errors import ContainerError, RuntimeUnavailable, UserInputError

__all__ = [
    "ENGINE_FIX",
    "GVISOR_FIX",
    "IMAGE_FIX",
    "OCI_RUNTIMES",
    "TAIL_BYTES",
    "OutputTail",
    "check_oci_runtime",
    "map_docker_errors",
]

ENGINE_FIX = "start an engine: bash scripts/engine.sh (Debian/Ubuntu, as root)"
IMAGE_FIX = "build the runner image: sandbox image build"
GVISOR_FIX = "register gVisor with the engine: sudo bash scripts/gvisor.sh"
TAIL_BYTES = 64 * 1024
#: The OCI runtimes a hardening may name; runc is every engine's own.
OCI_RUNTIMES = ("runc", "runsc")


def check_oci_runtime(api: Any, name: str, *, run_id: str) -> None:
    """Refuse an unknown OCI runtime, or one the engine has not registered (`docker info`)."""
    if name not in OCI_RUNTIMES:
        raise UserInputError(
            f"run {run_id}: hardening.runtime must be one of {', '.join(OCI_RUNTIMES)}, "
            f"got {name!r}"
        )
    if name == "runc":
        return
    with map_docker_errors("listing the engine's runtimes"):
        registered = api.info().get("Runtimes") or {}
    if name not in registered:
        raise UserInputError(
            f"run {run_id}: the Docker engine has no {name!r} runtime "
            f"(SANDBOX_RUNTIME={name}); {GVISOR_FIX}"
        )


@contextlib.contextmanager
def map_docker_errors(action: str, *, image_digest: str | None = None) -> Iterator[None]:
    """Translate docker-py and transport exceptions into the sandbox's error tree."""
    try:
        yield
    except docker.errors.ImageNotFound as exc:
        raise RuntimeUnavailable(
            f"{action}: image not found ({exc.explanation}); {IMAGE_FIX}"
        ) from exc
    except docker.errors.APIError as exc:
        raise ContainerError(
            f"{action}: the engine refused: {exc.explanation or exc}",
            image_digest=image_digest,
        ) from exc
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise RuntimeUnavailable(
            f"{action}: the Docker engine is not reachable ({exc}); {ENGINE_FIX}"
        ) from exc
    except docker.errors.DockerException as exc:
        raise RuntimeUnavailable(f"{action}: Docker is not usable ({exc}); {ENGINE_FIX}") from exc


class OutputTail:
    """The last `limit` bytes written to it: a noisy pilot cannot exhaust the host's memory."""

    def __init__(self, limit: int = TAIL_BYTES) -> None:
        self._limit = limit
        self._buffer = bytearray()
        self.total = 0

    def feed(self, chunk: bytes | None) -> None:
        if not chunk:
            return
        self.total += len(chunk)
        self._buffer += chunk[-self._limit :]
        del self._buffer[: max(0, len(self._buffer) - self._limit)]

    def text(self) -> str:
        return bytes(self._buffer).decode("utf-8", errors="replace")
