"""What the Docker backend shares at its edge: translated engine errors and bounded output."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import docker.errors
import requests.exceptions

from sandbox.errors import ContainerError, RuntimeUnavailable

__all__ = ["ENGINE_FIX", "IMAGE_FIX", "TAIL_BYTES", "OutputTail", "map_docker_errors"]

ENGINE_FIX = "start an engine: bash scripts/engine.sh (Debian/Ubuntu, as root)"
IMAGE_FIX = "build the runner image: sandbox image build"
TAIL_BYTES = 64 * 1024


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
