"""`sandbox doctor`: what the sandbox needs, whether it is there, and how to fix it."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from sandbox.settings import Settings

__all__ = ["Check", "run_checks"]


@dataclass(frozen=True)
class Check:
    """One prerequisite and its state."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def _engine() -> Check:
    try:
        import docker

        version = docker.from_env(timeout=5).version().get("Version", "?")
    except Exception as exc:
        fix = "bash scripts/engine.sh (installs docker.io and starts dockerd; Debian/Ubuntu, root)"
        return Check("docker engine", False, f"not reachable ({type(exc).__name__})", fix)
    return Check("docker engine", True, f"reachable, version {version}")


def _image(settings: Settings) -> Check:
    from sandbox.runs.services import runner_image

    tag = runner_image(settings)
    try:
        from sandbox.runtime.docker.runtime import DockerRuntime

        digest = DockerRuntime().image_digest(tag)
    except Exception:
        return Check("runner image", False, f"{tag} not found", "sandbox image build")
    return Check("runner image", True, f"{tag} ({digest[:19]})")


def _builder() -> Check:
    missing = [tool for tool in ("debootstrap",) if shutil.which(tool) is None]
    if missing or os.geteuid() != 0:
        return Check(
            "image builder",
            False,
            "debootstrap and root are needed to build the runner image",
            "apt-get install debootstrap, and build as root",
        )
    return Check("image builder", True, "debootstrap available, running as root")


def _store(settings: Settings) -> Check:
    uri = settings.tracking_uri
    if uri.startswith("sqlite:///"):
        folder = settings.home / "mlflow"
        state = "exists" if (folder / "mlflow.db").is_file() else "created on first run"
        return Check("mlflow store", True, f"{uri} ({state})")
    return Check("mlflow store", True, f"{uri} (remote; reached at run time)")


def _key(settings: Settings) -> Check:
    path = settings.key_path
    if not path.exists():
        return Check("signing key", True, f"{path} (created on first run, mode 0600)")
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        return Check("signing key", False, f"{path} has mode {mode:o}", f"chmod 600 {path}")
    return Check("signing key", True, f"{path} (mode 600)")


def run_checks(settings: Settings) -> list[Check]:
    """Every check, in the order a new user meets them."""
    return [_engine(), _image(settings), _builder(), _store(settings), _key(settings)]
