"""Build the real edges of a run (Docker, MLflow, the signed trail) from settings."""

from __future__ import annotations

from sandbox.runs.pilot_run import RunServices
from sandbox.runtime.base import Hardening
from sandbox.settings import Settings

__all__ = [
    "build_services",
    "default_hardening",
    "open_trail",
    "runner_image",
    "settle",
]


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


def open_trail(settings: Settings):  # type: ignore[no-untyped-def]
    """The audit trail under the sandbox home, signing with its key (created on first use)."""
    from sandbox.audit.signing import Signer
    from sandbox.audit.trail import AuditTrail

    return AuditTrail(settings.trail_path, Signer.load_or_create(settings.key_path))


def build_services(settings: Settings) -> RunServices:
    """Docker runtime, MLflow tracker and signed trail, as the settings say."""
    from sandbox.runtime.docker.runtime import DockerRuntime
    from sandbox.tracking.mlflow import MlflowTracker
    from sandbox.tracking.outbox import QueuedTracker

    settings.runs_dir.mkdir(parents=True, exist_ok=True)
    return RunServices(
        runtime=DockerRuntime(),
        # Tracking calls that fail (MLflow down) wait in a durable outbox, delivered later.
        tracker=QueuedTracker(
            MlflowTracker(settings.tracking_uri, artifact_root=settings.artifact_root),
            settings.home / "mlflow-outbox",
        ),
        trail=open_trail(settings),
        image=runner_image(settings),
        runs_dir=settings.runs_dir,
        actor=settings.who,
        hardening=default_hardening(settings),
        tracking_uri=settings.tracking_uri,
        key_path=settings.key_path,
    )


def settle(services: RunServices) -> list[str]:
    """Before and after a run: close runs whose runner died, deliver queued tracking data.

    Returns one line per thing done, for the user to read.
    """
    from sandbox.runs.recovery import recover_abandoned_runs

    done = [
        f"closed run {r.run_id}, abandoned by a runner that died, as lost"
        for r in recover_abandoned_runs(services)
    ]
    deliver = getattr(services.tracker, "deliver_pending", None)
    if callable(deliver):
        delivery = deliver()
        if delivery.delivered_calls:
            done.append(f"delivered {delivery.delivered_calls} queued tracking calls to MLflow")
    return done
