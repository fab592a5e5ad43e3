"""map_docker_errors: vendor exceptions become the sandbox's own, with the fix (no engine)."""

from __future__ import annotations

import docker.errors
import pytest
import requests

from sandbox.errors import ContainerError, RuntimeUnavailable
from sandbox.runtime.docker.edge import OutputTail, map_docker_errors


def test_connection_error_names_the_fix() -> None:
    with (
        pytest.raises(RuntimeUnavailable, match=r"bash scripts/engine\.sh"),
        map_docker_errors("starting"),
    ):
        raise requests.exceptions.ConnectionError("refused")


def test_missing_image_names_the_build_command() -> None:
    with (
        pytest.raises(RuntimeUnavailable, match="sandbox image build"),
        map_docker_errors("inspecting"),
    ):
        raise docker.errors.ImageNotFound("no such image", explanation="no such image: x")


def test_api_error_is_a_container_error_with_evidence() -> None:
    with (
        pytest.raises(ContainerError, match="invalid mount") as caught,
        map_docker_errors("creating", image_digest="sha256:abc"),
    ):
        raise docker.errors.APIError("500", explanation="invalid mount config")
    assert caught.value.image_digest == "sha256:abc"


def test_tail_keeps_only_the_last_bytes() -> None:
    tail = OutputTail(limit=8)
    for chunk in (b"0123", b"456789", None, b"abcdefghijkl"):
        tail.feed(chunk)
    assert tail.text() == "efghijkl"
    assert tail.total == 22
