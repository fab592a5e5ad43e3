"""The pilot run: one pilot, from manifest to verdict, every stage on the record.

    manifest -> data -> pre-run policies -> inputs -> container -> evaluation
             -> post-run policies -> reports -> tracking -> audit trail

A short workflow over `RunRecorder`, which keeps the run on the record (lock, state file,
exactly one terminal record in the trail and the tracker, attestation, checkpoint) whatever
goes wrong. Each stage moves the `RunRecord` on with what it found.
"""

from __future__ import annotations

import contextlib
import importlib
import shutil
import threading
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sandbox.data.checksums import check_shipped_data
from sandbox.digests import bytes_sha256, file_sha256
from sandbox.errors import (
    DataError,
    ManifestError,
    PolicyPackError,
    SandboxError,
    TrackingError,
)
from sandbox.hostfile import HostFileError, read_pilot_file
from sandbox.manifest import MANIFEST_NAME, MAX_MANIFEST_BYTES, PilotManifest, load_manifest
from sandbox.plain_data import is_valid_text, shown_path, writable_text
from sandbox.policies.engine import check_stage, container_checks, decide, launch_gate
from sandbox.policies.hardening import effective_hardening
from sandbox.policies.impact import assess
from sandbox.policies.selection import pack_files, packs_for
from sandbox.runs.closing import RunOutcome, finish_run, rule_context
from sandbox.runs.container import HARNESS_COMMAND, run_container
from sandbox.runs.early_start import EarlyContainer, waiting_command
from sandbox.runs.pilot_kinds import PilotKind, kind_of
from sandbox.runs.record import RunRecord, new_run_id
from sandbox.runs.recorder import PILOT, Progress, RunRecorder, StageStatus, quiet, stage
from sandbox.runs.services import RunServices
from sandbox.runtime.base import ContainerSpec, Hardening

if TYPE_CHECKING:
    from sandbox.tracking.base import Tracker

__all__ = [
    "REJECTED_EXPERIMENT",
    "STAGES",
    "Progress",
    "RunOutcome",
    "RunServices",
    "StageStatus",
    "new_run_id",
    "run_pilot",
    "track_rejection",
]

STAGES = (
    "manifest",
    "data",
    "pre-run policies",
    "inputs",
    "container",
    "evaluation",
    "post-run policies",
    "reports",
    "tracking",
    "audit trail",
)
REJECTED_EXPERIMENT = "sandbox-rejected-pilots"
#: What the stages after the container import (the reports and their PDF library, the
#: tracking mapping): loaded on a second thread while the host waits for the container.
AFTER_CONTAINER_MODULES = (
    "fpdf",
    "sandbox.reports.build",
    "sandbox.reports.writer",
    "sandbox.reports.documents.pdf",
    "sandbox.tracking.mapping",
)


def run_pilot(
    pilot_dir: Path,
    services: RunServices,
    *,
    out_dir: Path | None = None,
    progress: Progress = quiet,
    run_id: str | None = None,
) -> RunOutcome:
    """Run one pilot under governance and return its outcome.

    `run_id` is the run's id when the caller noted it somewhere first (a hosted job); by
    default a new one.

    Raises UserInputError for a bad manifest, policy pack or data file (recorded as rejected
    or failed), and other SandboxErrors for failures of the sandbox itself (recorded as failed).
    A blocked, failed or crashed model is not an exception: it is an outcome with a verdict.
    """
    run_id = run_id or new_run_id()
    manifest_path = pilot_dir / MANIFEST_NAME
    try:
        with stage(progress, "manifest"):
            if not is_valid_text(str(pilot_dir)):  # it could not be written to the record
                raise ManifestError(
                    f"{shown_path(pilot_dir)}: the folder's path is not valid UTF-8; rename it"
                )
            manifest = load_manifest(pilot_dir)
            manifest_sha = _manifest_sha256(manifest_path) or ""
            packs = packs_for(manifest, pilot_dir)  # declared packs + those impact and phase add
            # Shipped data (data/SHA256SUMS) must be the published bytes before anything reads it.
            check_shipped_data(pilot_dir, manifest)
    except (ManifestError, PolicyPackError, DataError) as exc:
        _rejected(services, run_id, pilot_dir, exc, _manifest_sha256(manifest_path))
        raise
    record = RunRecord(
        run_id=run_id,
        run_dir=services.runs_dir / run_id,
        mode="container",
        name=manifest.pilot.name,
        started_at=datetime.now(UTC),
        pilot_dir=pilot_dir,
        manifest=manifest,
        manifest_sha256=manifest_sha,
        packs=tuple(packs),
        impact=assess(manifest.governance.impact_assessment),
        image=services.image,
        # The stricter of the sandbox's defaults, the pilot's request and every pack's limits.
        hardening=effective_hardening(packs, _granted_hardening(services.hardening, manifest)),
    )
    with RunRecorder(services, record, kinds=PILOT, progress=progress) as rec:
        _submit(rec)
        return _execute(rec, out_dir)


def _rejected(
    services: RunServices, run_id: str, pilot_dir: Path, exc: SandboxError, sha: str | None
) -> None:
    """Record a pilot that could not even be read: in the trail and in the tracker."""
    services.trail.append(
        "run.rejected",
        actor=services.actor,
        run_id=run_id,
        payload={
            "pilot_dir": shown_path(pilot_dir),
            "manifest_sha256": sha,
            "error": writable_text(str(exc)),
        },
    )
    tags = {"sandbox.run_id": run_id, "sandbox.state": "rejected"}
    track_rejection(services.tracker, run_id, tags, str(exc))


def track_rejection(tracker: Tracker, run_name: str, tags: dict[str, str], error: str) -> None:
    """A failed MLflow run in the rejected-pilots experiment for a pilot that never ran."""
    try:
        key = tracker.start_run(experiment=REJECTED_EXPERIMENT, run_name=run_name, tags=tags)
        tracker.set_tags(key, {"sandbox.error": writable_text(error)[:4000]})
        tracker.end_run(key, "FAILED")
    except TrackingError:
        pass  # the trail holds the rejection; the tracker is a convenience


def _granted_hardening(defaults: Hardening, manifest: PilotManifest) -> Hardening:
    """The stricter of the sandbox's defaults and what the pilot asks for."""
    asked = manifest.resources
    return defaults.tightened(
        Hardening(
            memory_mb=asked.memory_mb or defaults.memory_mb,
            cpus=asked.cpus or defaults.cpus,
            timeout_s=asked.timeout_s or defaults.timeout_s,
        )
    )


def _submit(rec: RunRecorder) -> None:
    """Keep the exact manifest and pack files with the run; record and track its submission."""
    from sandbox.tracking.mapping import start_tags

    r = rec.record
    if r.pilot_dir is None or r.manifest is None:
        raise SandboxError("a pilot run needs its pilot folder and manifest")
    shutil.copy2(r.pilot_dir / MANIFEST_NAME, r.run_dir / MANIFEST_NAME)
    (r.run_dir / "policy-packs").mkdir()
    pack_sources = {}
    for pack_id, source in pack_files(r.manifest, r.pilot_dir).items():
        kept = Path(shutil.copy2(source, r.run_dir / "policy-packs" / f"{pack_id}.yaml"))
        pack_sources[pack_id] = file_sha256(kept)
    rec.submit(
        {
            "pilot": r.name,
            "version": r.manifest.pilot.version,
            "manifest_sha256": r.manifest_sha256,
            "policy_packs": {p.id: p.sha256 for p in r.packs},
            "policy_pack_files": pack_sources,
        }
    )
    rec.start_tracking(experiment=r.name, tags=start_tags(r))


def _manifest_sha256(path: Path) -> str | None:
    """The manifest's digest, read with the same bounds as the manifest itself; None if unsafe."""
    try:
        return bytes_sha256(read_pilot_file(path, max_bytes=MAX_MANIFEST_BYTES))
    except HostFileError:
        return None


def _execute(rec: RunRecorder, out_dir: Path | None) -> RunOutcome:
    s = rec.services
    r = rec.record
    if r.pilot_dir is None or r.manifest is None:
        raise SandboxError("a pilot run needs its pilot folder and manifest")
    kind = kind_of(r.manifest)
    with rec.stage("data"):
        data = kind.load(r.pilot_dir, r.manifest)
        rec.update(data=data, data_files={src.path: src.sha256 for src in data.sources})

    with rec.stage("pre-run policies"):
        rec.update(image_digest=s.runtime.image_digest(s.image))
        gate = launch_gate(r.packs, rule_context(rec.record))  # blocked: no container
        rec.update(verdict=gate)
    if gate.status == "blocked":
        for name in STAGES[3:7]:
            rec.progress(name, "skipped", "blocked by policy")
        return finish_run(rec, out_dir)

    _launch(rec, kind)

    if rec.record.container is not None and rec.record.container.state == "succeeded":
        with rec.stage("evaluation"):
            assessed = kind.assess(rec.record, r.run_dir / "output")
            rec.update(
                evaluation=assessed.evaluation,
                explanations=assessed.explanations,
                outputs_rejected=assessed.rejected,
                scored=_scored(rec.record, assessed.scored),
            )
    else:
        rec.progress("evaluation", "skipped", "the container did not succeed")

    with rec.stage("post-run policies"):
        ctx = rule_context(rec.record)
        outcomes = [*gate.outcomes, *container_checks(r.packs, ctx)]
        if ctx.evaluation is not None:
            outcomes += check_stage(r.packs, "post_run", ctx)
        rec.update(verdict=decide(r.packs, outcomes))
    return finish_run(rec, out_dir)


def _start_container(rec: RunRecorder, kind: PilotKind) -> EarlyContainer:
    """The run's container, started now (the pre-run policies passed); its harness loads its
    libraries while the host writes the inputs, then waits for the go."""
    r = rec.record
    if r.hardening is None:
        raise SandboxError("a pilot run needs its hardening")
    spec = ContainerSpec(
        run_id=r.run_id,
        image=rec.services.image,
        command=waiting_command(HARNESS_COMMAND, preload=kind.preload),
        input_dir=r.run_dir / "input",
        pilot_dir=r.run_dir / "pilot",
        output_dir=r.run_dir / "output",
        hardening=r.hardening,
    )
    return EarlyContainer(rec.services.runtime, spec)


def _launch(rec: RunRecorder, kind: PilotKind) -> None:
    """Start the container, write what may cross the wall, record it as `run.started`, and
    give the container the go (`sandbox.runs.early_start`)."""
    from sandbox.data.wall import stage_code
    from sandbox.runs.model_files import model_record, stage_artifact

    s = rec.services
    r = rec.record
    if r.pilot_dir is None or r.manifest is None or r.hardening is None:
        raise SandboxError("a pilot run needs its pilot folder, manifest and hardening")
    early = _start_container(rec, kind)
    try:
        with rec.stage("inputs"):
            crossing = kind.cross(r.data, r.manifest, r.run_dir / "input")
            code = stage_code(r.pilot_dir, r.manifest, r.run_dir / "pilot")
            code |= stage_artifact(r.pilot_dir, r.manifest, r.run_dir / "pilot")
            started = rec.append(
                "run.started",
                {
                    "image": s.image,
                    "image_digest": r.image_digest,
                    "inputs": crossing.files,
                    "code": code,
                    "model": model_record(r.manifest, code),
                    "data": dict(r.data_files),
                    "hardening": asdict(r.hardening),
                },
            )
            rec.update(crossing=crossing, started_record=started)
    except BaseException:
        # The container never got the go: it saw no input and ran none of the pilot's code.
        with contextlib.suppress(SandboxError):  # the error that brought us here wins
            early.discard()
        raise

    with rec.stage("container"):
        # The host only waits for the container (held to its CPU quota), so the later
        # stages' imports are paid now, on a second core, rather than after it.
        threading.Thread(target=_import_quietly, name="sandbox-warm-imports", daemon=True).start()
        result, rejected = run_container(early)
        rec.update(container=result, outputs_rejected=rejected)


def _import_quietly(modules: tuple[str, ...] = AFTER_CONTAINER_MODULES) -> None:
    """Import `modules` ahead of need; a failure is left for the stage that needs the module."""
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: S112 - the stage that imports it reports the error
            continue


def _scored(record: RunRecord, predictions: Any) -> Any:
    """Write the predictions for the score sources' cases as scored.csv in the run folder."""
    from sandbox.data.roles import SCORED_NAME, write_scored

    scoring = getattr(record.crossing, "scoring", None)
    if predictions is None or scoring is None:
        return None
    return write_scored(scoring, predictions, record.run_dir / SCORED_NAME)
