"""The runner image recipe: pinned to the host's versions and content-addressed."""

from __future__ import annotations

import importlib.metadata
import os
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


def test_the_image_carries_the_model_libraries_city_teams_use() -> None:
    pins = image.pinned_wheels()
    for name in ("lightgbm", "xgboost-cpu", "onnxruntime", "skops", "pyarrow"):
        assert pins[name] == importlib.metadata.version(name)
    assert "xgboost" not in pins  # the CPU-only wheel, without the CUDA libraries


def test_extra_wheels_change_the_tag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(image.EXTRA_WHEELS_VARIABLE, raising=False)
    plain = image.default_image_tag()
    wheel = tmp_path / "citylib-1.0-py3-none-any.whl"
    wheel.write_bytes(b"first build")
    monkeypatch.setenv(image.EXTRA_WHEELS_VARIABLE, str(tmp_path))
    first = image.default_image_tag()
    wheel.write_bytes(b"second build")
    assert len({plain, first, image.default_image_tag()}) == 3


def test_extra_wheels_must_be_a_folder_of_wheels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sandbox.errors import UserInputError

    monkeypatch.setenv(image.EXTRA_WHEELS_VARIABLE, str(tmp_path / "missing"))
    with pytest.raises(UserInputError, match="not a folder"):
        image.extra_wheels()
    monkeypatch.setenv(image.EXTRA_WHEELS_VARIABLE, str(tmp_path))
    with pytest.raises(UserInputError, match=r"no \.whl"):
        image.extra_wheels()


def test_the_sandbox_tree_is_readable_by_the_container_user_whatever_the_umask(
    tmp_path: Path,
) -> None:
    ours = tmp_path / "opt" / "sandbox"
    (ours / "lib" / "pkg").mkdir(parents=True, mode=0o700)
    harness = ours / "harness.py"
    harness.write_text("print()\n")
    harness.chmod(0o600)
    module = ours / "lib" / "pkg" / "__init__.py"
    module.write_text("")
    module.chmod(0o600)
    other = tmp_path / "usr" / "bin" / "tool"
    other.parent.mkdir(parents=True)
    other.write_text("")
    other.chmod(0o4755)  # setuid: stripped
    image._harden_tree(tmp_path)
    assert harness.stat().st_mode & 0o777 == 0o644
    assert module.stat().st_mode & 0o777 == 0o644
    assert (ours / "lib" / "pkg").stat().st_mode & 0o777 == 0o755
    assert other.stat().st_mode & 0o7777 == 0o755


def test_the_build_runs_under_a_readable_umask() -> None:
    previous = os.umask(0o077)
    try:
        with image._image_umask():
            assert os.umask(0o022) == 0o022
        assert os.umask(0o077) == 0o077
    finally:
        os.umask(previous)
