"""The edges of a run (runtime, tracker, trail) and how the real ones are built from settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sandbox.runtime.base import Hardening, Runtime
from sandbox.settings import Settings

if TYPE_CHECKING:
    from sandbox.audit.trail import AuditTrail
    from sandbox.tracking.base import Tracker

__all__ = [
    "RunServices",
    "build_services",
    "default_hardening",
    "open_trail",
    "runner_image",
]


@dataclass(frozen=True, kw_only=True)
class RunServices:
    """The edges a run needs; built once by the CLI or API, faked in unit tests."""

    runtime: Runtime
    tracker: Tracker
    trail: AuditTrail
    image: str
    runs_dir: Path
    actor: str
    hardening: Hardening = field(default_factory=Hardening)
    tracking_uri: str | None = None
    key_path: Path | None = None  # the signing key; its keyring verifies checkpoints


def default_hardening(settings: Settings) -> Hardening:
    """The sandbox's hardening with the deployment's resource defaults."""
    return Hardening(
        memory_mb=settings.memory_mb,
        cpus=settings.cpus,
        pids_limit=settings.pids_limit,
        timeout_s=settings.timeout_s,
    )


def runner_image(settings: Settings) -> str:
    """The configured runner image, or the one `sandbox image build` builds."""
    if settings.image:
        return settings.image
    from sandbox.runtime.docker.image import default_image_tag

    return default_image_tag()


def open_trail(settings: Settings) -> AuditTrail:
    """The audit trail under the sandbox home, signing with its key (created on first use)."""
    from sandbox.audit.signing import Signer
    from sandbox.audit.trail import AuditTrail

    return AuditTrail(settings.trail_path, Signer.load_or_create(settings.key_path))


def build_services(settings: Settings) -> RunServices:
    """The configured runtime, the MLflow tracker and the signed trail, as the settings say."""
    from sandbox.runtime.backends import open_runtime
    from sandbox.tracking.mlflow import MlflowTracker
    from sandbox.tracking.outbox import QueuedTracker

    settings.runs_dir.mkdir(parents=True, exist_ok=True)
    return RunServices(
        runtime=open_runtime(settings.runtime),
        # Tracking calls that fail (MLflow down) wait in a durable outbox, delivered later.
        tracker=QueuedTracker(
            MlflowTracker(settings.tracking_uri, artifact_root=settings.artifact_root),
            settings.outbox_dir,
        ),
        trail=open_trail(settings),
        image=runner_image(settings),
        runs_dir=settings.runs_dir,
        actor=settings.who,
        hardening=default_hardening(settings),
        tracking_uri=settings.tracking_uri,
        key_path=settings.key_path,
    )
