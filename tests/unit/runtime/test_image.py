"""The runner image recipe: pinned to the host's versions and content-addressed."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

from sandbox.runtime.docker import image


def test_pins_are_the_host_versions_of_the_closure() -> None:
    pins = image.pinned_wheels()
    for name in ("scikit-learn", "pandas", "numpy", "scipy", "joblib", "threadpoolctl"):
        assert pins[name] == importlib.metadata.version(name)
    assert "pytest" not in pins  # extras are not followed


def test_tag_is_stable_and_follows_the_harness(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tag = image.default_image_tag()
    assert tag.startswith(f"{image.IMAGE_REPOSITORY}:py311-")
    assert len(tag.rsplit("-", 1)[1]) == 12
    assert image.default_image_tag() == tag

    changed = tmp_path / "harness.py"
    changed.write_bytes(image.HARNESS_PATH.read_bytes() + b"\n# changed\n")
    monkeypatch.setattr(image, "HARNESS_PATH", changed)
    assert image.default_image_tag() != tag


def test_cache_follows_sandbox_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_HOME", str(tmp_path))
    assert image._cache_dir() == tmp_path / "cache" / "runner"
