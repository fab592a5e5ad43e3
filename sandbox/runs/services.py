"""The edges of a run (runtime, tracker, trail) and how the real ones are built from settings."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sandbox.runtime.base import Hardening, Runtime
from sandbox.settings import Settings, prepare_home

if TYPE_CHECKING:
    from sandbox.audit.trail import AuditTrail
    from sandbox.reports.documents.pdf_process import PdfProcess
    from sandbox.tracking.base import Tracker

__all__ = [
    "RunServices",
    "build_services",
    "configured_tenant",
    "default_hardening",
    "open_tracker",
    "open_trail",
    "runner_image",
]


@dataclass(frozen=True, kw_only=True)
class RunServices:
    """The edges a run needs; built once by the CLI or API, faked in unit tests."""

    runtime: Runtime
    tracker: Tracker
    trail: AuditTrail
    image: str  # the runner image; "" where nothing runs in a container
    runs_dir: Path
    actor: str
    hardening: Hardening = field(default_factory=Hardening)
    tracking_uri: str | None = None
    key_path: Path | None = None  # the signing key; its keyring verifies checkpoints
    # Where a run's closing checkpoint goes; None: beside the trail file.
    checkpoints_dir: Path | None = None
    # The tenant every run is recorded for (see sandbox.runs.tenant); None: served to nobody.
    tenant: str | None = None
    shared_read: bool = False  # run folders readable by the owner's group (SANDBOX_SHARED_READ)
    # The sandbox home: reports name places under it as `$SANDBOX_HOME/...`, never a host path.
    home: Path | None = None
    # A process started early that renders the report's PDF (None: rendered in-process).
    pdf: PdfProcess | None = None


def default_hardening(settings: Settings) -> Hardening:
    """The sandbox's hardening with the deployment's resource defaults and OCI runtime."""
    from sandbox.runtime.backends import oci_runtime

    return Hardening(
        runtime=oci_runtime(settings.runtime),
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
    """The audit trail (the file under the home, or SANDBOX_TRAIL_URL's database), signing
    with the home's key (created on first use)."""
    from sandbox.audit.signing import Signer
    from sandbox.audit.store import open_store
    from sandbox.audit.trail import AuditTrail

    store = open_store(settings.trail_url, default=settings.trail_path)
    return AuditTrail(store, Signer.load_or_create(settings.key_path))


def open_tracker(settings: Settings, *, sidecar: bool = False) -> Tracker:
    """The MLflow tracker of the settings; calls that fail (MLflow down) wait in a durable
    outbox under the home and are delivered later.

    With `sidecar` (and `settings.tracking_sidecar`), MLflow is loaded in a sidecar process
    while the run goes on, unless this process has loaded it already (then nothing would
    overlap: a worker or a server keeps one tracker in-process). By default ("auto") only when
    a core is idle as the command starts, or when a shared sidecar with MLflow loaded already
    listens: on busy cores (runs started at once) loading MLflow in another process would only
    compete with them. The sidecar is shared and stays for `tracking_sidecar_idle_s` after its
    last command, so the commands that follow find MLflow loaded.
    """
    from sandbox.tracking.target import TrackingTarget

    target = TrackingTarget(
        tracking_uri=settings.tracking_uri,
        artifact_root=settings.artifact_root,
        outbox_dir=settings.outbox_dir,
    )
    wanted = settings.tracking_sidecar
    if sidecar and wanted and _command():
        from sandbox.tracking.sidecar import SidecarTracker, spare_core

        idle_s = settings.tracking_sidecar_idle_s
        if wanted is True or spare_core():
            return SidecarTracker(target, shared_idle_s=idle_s)
        warm = SidecarTracker.warm(target) if idle_s > 0 else None
        if warm is not None:  # MLflow is loaded already: nothing competes with the run
            return warm
    return target.open()


def _command() -> bool:
    """Whether this process is a command started for a run, not a worker or a server: those
    keep MLflow and the other libraries loaded, so helper processes would gain them nothing."""
    return "mlflow" not in sys.modules


def _spare_core() -> bool:
    from sandbox.tracking.sidecar import spare_core

    return spare_core()


def _pdf_process() -> PdfProcess:
    from sandbox.reports.documents.pdf_process import PdfProcess

    return PdfProcess.start()


def build_services(settings: Settings, *, container: bool = True) -> RunServices:
    """The configured runtime, the MLflow tracker and the signed trail, as the settings say.

    `container=False` for work that runs no container (a predictions-only audit): its image
    is then not looked up (about 0.1 s of reading installed packages' metadata) and is "".
    """
    from sandbox.runtime.backends import DeferredRuntime

    tenant = configured_tenant(settings)  # a bad name is refused before anything starts
    prepare_home(settings)  # nothing under it is reachable by other users unless configured
    settings.runs_dir.mkdir(parents=True, exist_ok=True)
    settings.runs_dir.chmod(0o777 & ~settings.umask)
    spare = _command() and _spare_core()  # asked before this command starts helpers
    tracker = open_tracker(settings, sidecar=True)  # first: a sidecar loads MLflow meanwhile
    # Then the PDF's process, on the idle core, unless a sidecar now loads MLflow on it.
    loading = getattr(tracker, "loading", False)
    return RunServices(
        pdf=_pdf_process() if spare and not loading else None,
        runtime=DeferredRuntime(settings.runtime),
        tracker=tracker,
        trail=open_trail(settings),
        image=runner_image(settings) if container else "",
        runs_dir=settings.runs_dir,
        actor=settings.who,
        hardening=default_hardening(settings),
        tracking_uri=settings.tracking_uri,
        key_path=settings.key_path,
        checkpoints_dir=settings.checkpoints_dir,
        tenant=tenant,
        shared_read=settings.shared_read,
        home=settings.home,
    )


def configured_tenant(settings: Settings) -> str | None:
    """The operator's tenant (`SANDBOX_TENANT`, `--tenant`), checked; None when not set."""
    from sandbox.runs.tenant import check_tenant

    if settings.tenant is None:
        return None
    return check_tenant(settings.tenant, where="SANDBOX_TENANT / --tenant")
