"""The run pipeline: one pilot, from manifest to verdict, every step on the record.

    manifest -> data -> pre-run policies -> inputs -> container -> outputs
             -> evaluation -> post-run policies -> reports -> tracking -> trail

The pipeline talks to its edges through protocols (`Runtime`, `Tracker`) and an `AuditTrail`,
so it runs the same against Docker + MLflow and against in-memory fakes. Every accepted run
ends exactly once in the trail (`run.blocked`, `run.finished` or `run.failed`) and in the
tracker (never left RUNNING), whatever goes wrong.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sandbox.digests import file_sha256
from sandbox.errors import (
    ManifestError,
    PolicyPackError,
    SandboxError,
    TrackingError,
)
from sandbox.manifest import MANIFEST_NAME, PilotManifest, load_manifest
from sandbox.policies.engine import check_stage, decide
from sandbox.policies.hardening import effective_hardening
from sandbox.policies.impact import assess
from sandbox.policies.pack import PolicyPack
from sandbox.policies.rules import RuleContext
from sandbox.policies.selection import pack_files, packs_for
from sandbox.policies.verdict import (
    Verdict,
    verdict_metrics,
    verdict_record,
    verdict_tags,
)
from sandbox.reports.build import RunFacts, build_report
from sandbox.runs.container import container_outcome, evaluate_outputs, run_container
from sandbox.runs.state import RunLock, write_state
from sandbox.runtime.base import ContainerResult, ContainerSpec, Hardening, Runtime

if TYPE_CHECKING:
    from sandbox.audit.trail import AuditTrail, TrailRecord
    from sandbox.evaluation.binary import BinaryEvaluation
    from sandbox.reports.model import AuditReport
    from sandbox.tracking.base import RunStatus, Tracker

__all__ = ["STAGES", "Progress", "RunOutcome", "RunServices", "new_run_id", "run_pilot"]

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
HARNESS_COMMAND = ("python3", "/opt/sandbox/harness.py")
REJECTED_EXPERIMENT = "sandbox-rejected-pilots"

StageStatus = Literal["start", "done", "skipped", "failed"]
Progress = Callable[[str, StageStatus, str], None]


def _quiet(stage: str, status: StageStatus, detail: str) -> None:
    """The default progress sink: says nothing."""


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


@dataclass(frozen=True, kw_only=True)
class RunOutcome:
    """How one run ended, and where its evidence is."""

    run_id: str
    pilot: str
    verdict: Verdict
    report: AuditReport
    reports: dict[str, Path]
    run_dir: Path
    tracker_run_id: str | None
    trail_seq: int
    notes: tuple[str, ...] = ()

    @property
    def exit_code(self) -> int:
        """0 when the verdict lets the pilot proceed, 3 when it is fail or blocked."""
        return 0 if self.verdict.exit_ok else 3


def new_run_id(now: datetime | None = None) -> str:
    """A sortable, unique run id: UTC time plus random hex."""
    moment = now or datetime.now(UTC)
    return moment.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


class _Run:
    """State of one run in progress; the methods are the pipeline's stages."""

    def __init__(self, pilot_dir: Path, services: RunServices, progress: Progress) -> None:
        self.pilot_dir = pilot_dir
        self.s = services
        self.progress = progress
        self.run_id = new_run_id()
        self.run_dir = services.runs_dir / self.run_id
        self.started_at = datetime.now(UTC)
        self.notes: list[str] = []
        self.tracker_run: str | None = None
        self.started_record: TrailRecord | None = None
        self.lock = RunLock(self.run_dir)

    # -- edges that must never stop the run -------------------------------------------------

    def track(self, action: Callable[[], Any]) -> Any:
        """Call the tracker; a tracker failure becomes a note, the trail still records the run."""
        try:
            return action()
        except TrackingError as exc:
            self.notes.append(f"tracking: {exc}")
            return None

    def record(self, kind: str, payload: dict[str, Any]) -> TrailRecord:
        return self.s.trail.append(kind, actor=self.s.actor, run_id=self.run_id, payload=payload)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.progress(name, "start", "")
        try:
            yield
        except BaseException as exc:
            self.progress(
                name, "failed", str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            )
            raise
        self.progress(name, "done", "")


def _rejected(run: _Run, exc: SandboxError, manifest_sha: str | None) -> None:
    """Record a pilot that could not even be read: in the trail and in the tracker."""
    run.record(
        "run.rejected",
        {"pilot_dir": str(run.pilot_dir), "manifest_sha256": manifest_sha, "error": str(exc)},
    )
    tracker = run.s.tracker
    tracker_run = run.track(
        lambda: tracker.start_run(
            experiment=REJECTED_EXPERIMENT,
            run_name=run.run_id,
            tags={"sandbox.run_id": run.run_id, "sandbox.state": "rejected"},
        )
    )
    if tracker_run:
        run.track(lambda: tracker.set_tags(tracker_run, {"sandbox.error": str(exc)[:4000]}))
        run.track(lambda: tracker.end_run(tracker_run, "FAILED"))


def run_pilot(
    pilot_dir: Path,
    services: RunServices,
    *,
    out_dir: Path | None = None,
    progress: Progress = _quiet,
) -> RunOutcome:
    """Run one pilot under governance and return its outcome.

    Raises UserInputError for a bad manifest, policy pack or data file (recorded as rejected
    or failed), and other SandboxErrors for failures of the sandbox itself (recorded as failed).
    A blocked, failed or crashed model is not an exception: it is an outcome with a verdict.
    """
    run = _Run(pilot_dir, services, progress)
    manifest_path = pilot_dir / MANIFEST_NAME
    try:
        with run.stage("manifest"):
            manifest = load_manifest(pilot_dir)
            manifest_sha = file_sha256(manifest_path)
            packs = packs_for(manifest, pilot_dir)  # declared packs + those impact and phase add
    except (ManifestError, PolicyPackError) as exc:
        _rejected(run, exc, file_sha256(manifest_path) if manifest_path.is_file() else None)
        raise
    return _accepted(run, manifest, packs, manifest_sha, out_dir)


def _accepted(
    run: _Run,
    manifest: PilotManifest,
    packs: list[PolicyPack],
    manifest_sha: str,
    out_dir: Path | None,
) -> RunOutcome:
    """Run a pilot whose manifest and packs are valid; it ends exactly once, whatever happens."""
    s = run.s
    # The stricter of the sandbox's defaults, the pilot's request and every pack's limits.
    hardening = effective_hardening(packs, _granted_hardening(s.hardening, manifest))
    pilot = manifest.pilot
    run.run_dir.mkdir(parents=True)
    run.lock.acquire()
    # The exact manifest and pack files, kept with the run for evidence bundles and replay.
    shutil.copy2(run.pilot_dir / MANIFEST_NAME, run.run_dir / MANIFEST_NAME)
    (run.run_dir / "policy-packs").mkdir()
    pack_sources = {}
    for pack_id, source in pack_files(manifest, run.pilot_dir).items():
        kept = Path(shutil.copy2(source, run.run_dir / "policy-packs" / f"{pack_id}.yaml"))
        pack_sources[pack_id] = file_sha256(kept)
    write_state(
        run.run_dir,
        run_id=run.run_id,
        pilot=pilot.name,
        pilot_dir=str(run.pilot_dir.resolve()),
        pid=os.getpid(),
        started_at=run.started_at.isoformat(),
        status="running",
    )
    run.record(
        "run.submitted",
        {
            "pilot": pilot.name,
            "version": pilot.version,
            "manifest_sha256": manifest_sha,
            "policy_packs": {p.id: p.sha256 for p in packs},
            "policy_pack_files": pack_sources,
        },
    )
    run.tracker_run = run.track(
        lambda: s.tracker.start_run(
            experiment=pilot.name,
            run_name=run.run_id,
            tags={
                "sandbox.run_id": run.run_id,
                "sandbox.pilot_version": pilot.version,
                "sandbox.manifest_sha256": manifest_sha,
                "sandbox.phase": pilot.phase,
            },
        )
    )
    write_state(run.run_dir, tracker_run_id=run.tracker_run)
    try:
        return _execute(run, manifest, packs, manifest_sha, hardening, out_dir)
    except BaseException as exc:  # the run must end on the record even on Ctrl-C
        run.record("run.failed", {"error": f"{type(exc).__name__}: {exc}"[:4000]})
        write_state(run.run_dir, status="failed")
        if run.tracker_run:
            tracker_run = run.tracker_run
            tags = {"sandbox.state": "failed", "sandbox.error": str(exc)[:4000]}
            run.track(lambda: s.tracker.set_tags(tracker_run, tags))
            status: RunStatus = "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED"
            run.track(lambda: s.tracker.end_run(tracker_run, status))
        raise
    finally:
        run.lock.release()


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


def _execute(
    run: _Run,
    manifest: PilotManifest,
    packs: list[PolicyPack],
    manifest_sha: str,
    hardening: Hardening,
    out_dir: Path | None,
) -> RunOutcome:
    from sandbox.data.dataset import load_pilot_data, split_rows
    from sandbox.data.wall import stage_code, write_inputs

    s = run.s
    with run.stage("data"):
        data = load_pilot_data(run.pilot_dir, manifest)

    with run.stage("pre-run policies"):
        image_digest = s.runtime.image_digest(s.image)
        ctx = RuleContext(
            manifest=manifest, hardening=hardening, data=data, image_digest=image_digest
        )
        outcomes = check_stage(packs, "pre_run", ctx) + check_stage(packs, "runtime", ctx)
        verdict = decide(packs, outcomes, started=False)  # a failed block rule: no container
    if verdict.status == "blocked":
        for name in STAGES[3:7]:
            run.progress(name, "skipped", "blocked by policy")
        return _finish(run, manifest, packs, manifest_sha, verdict, data=data, out_dir=out_dir)

    with run.stage("inputs"):
        split_cfg = manifest.data.split
        split = split_rows(
            data.frame["y"].to_numpy(),
            evaluation_fraction=split_cfg.evaluation_fraction,
            seed=split_cfg.seed,
            stratify=split_cfg.stratify,
        )
        crossing = write_inputs(data, split, manifest, run.run_dir / "input")
        code = stage_code(run.pilot_dir, manifest, run.run_dir / "pilot")
        run.started_record = run.record(
            "run.started",
            {
                "image": s.image,
                "image_digest": image_digest,
                "inputs": crossing.files,
                "code": code,
                "data": {src.path: src.sha256 for src in data.sources},
                "hardening": asdict(hardening),
            },
        )

    with run.stage("container"):
        output_dir = run.run_dir / "output"
        output_dir.mkdir(parents=True)
        spec = ContainerSpec(
            run_id=run.run_id,
            image=s.image,
            command=HARNESS_COMMAND,
            input_dir=crossing.input_dir,
            pilot_dir=run.run_dir / "pilot",
            output_dir=output_dir,
            hardening=hardening,
        )
        result, rejected = run_container(s.runtime, spec)
        runtime_outcomes = [container_outcome(result, rejected)]

    evaluation = None
    explanations = None
    if runtime_outcomes[0].outcome == "passed":
        with run.stage("evaluation"):
            evaluation, explanations, problem = evaluate_outputs(manifest, crossing, output_dir)
            if problem is not None:
                runtime_outcomes.append(problem)
    else:
        run.progress("evaluation", "skipped", "the container did not succeed")

    with run.stage("post-run policies"):
        outcomes = outcomes + runtime_outcomes
        if evaluation is not None:
            ctx = RuleContext(
                manifest=manifest,
                hardening=hardening,
                data=data,
                image_digest=image_digest,
                evaluation=evaluation,
                explanations=explanations,
            )
            outcomes += check_stage(packs, "post_run", ctx)
        verdict = decide(packs, outcomes)

    return _finish(
        run,
        manifest,
        packs,
        manifest_sha,
        verdict,
        data=data,
        out_dir=out_dir,
        crossing=crossing,
        result=result,
        hardening=hardening,
        evaluation=evaluation,
        explanations=explanations,
    )


def _finish(
    run: _Run,
    manifest: PilotManifest,
    packs: list[PolicyPack],
    manifest_sha: str,
    verdict: Verdict,
    *,
    data: Any,
    out_dir: Path | None,
    crossing: Any = None,
    result: ContainerResult | None = None,
    hardening: Hardening | None = None,
    evaluation: BinaryEvaluation | None = None,
    explanations: Any = None,
) -> RunOutcome:
    """Write the reports, log the run, and close it in the trail: the last step of every run."""
    from sandbox.reports.writer import write_reports

    s = run.s
    with run.stage("reports"):
        facts = RunFacts(
            run_id=run.run_id,
            started_at=run.started_at,
            image=s.image,
            tracker_run_id=run.tracker_run,
            tracking_uri=s.tracking_uri,
            trail_path=s.trail.path,
            started_record=run.started_record,
            notes=tuple(run.notes),
        )
        report = build_report(
            facts,
            manifest,
            packs,
            manifest_sha,
            verdict,
            data,
            crossing,
            result,
            hardening,
            evaluation,
            explanations,
        )
        report_dir = run.run_dir / "reports"
        reports = write_reports(report, report_dir)
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            reports = {
                kind: Path(shutil.copy2(path, out_dir / path.name))
                for kind, path in reports.items()
            }

    with run.stage("tracking"):
        if run.tracker_run:
            _log_to_tracker(run, run.tracker_run, manifest, verdict, evaluation, report_dir, result)

    with run.stage("audit trail"):
        kind = "run.blocked" if verdict.status == "blocked" else "run.finished"
        record = run.record(
            kind,
            {
                "verdict": verdict.status,
                "failed_rules": [o.rule_id for o in verdict.failures],
                "governance": verdict_record(verdict),
                "container_state": result.state if result else None,
                "outputs": dict(result.output_files) if result else {},
                "reports": {p.name: file_sha256(p) for p in sorted(report_dir.iterdir())},
                "mlflow_run_id": run.tracker_run,
            },
        )
        write_state(run.run_dir, status=kind.removeprefix("run."))
        records = _run_records(run)
        audit_path = run.run_dir / "audit-record.json"
        audit_path.write_text(
            json.dumps([r.to_dict() for r in records], indent=2, sort_keys=True) + "\n",
            encoding="utf-8",
        )
        _attest_and_checkpoint(run, records)
        if run.tracker_run:
            tracker_run = run.tracker_run
            run.track(lambda: s.tracker.log_file(tracker_run, audit_path, "audit"))
            ended: RunStatus = "FINISHED" if verdict.exit_ok else "FAILED"
            run.track(lambda: s.tracker.end_run(tracker_run, ended))

    return RunOutcome(
        run_id=run.run_id,
        pilot=manifest.pilot.name,
        verdict=verdict,
        report=report,
        reports=reports,
        run_dir=run.run_dir,
        tracker_run_id=run.tracker_run,
        trail_seq=record.seq,
        notes=tuple(run.notes),
    )


def _attest_and_checkpoint(run: _Run, records: list[TrailRecord]) -> None:
    """Sign the run's in-toto attestation and a checkpoint of the whole trail.

    Both can be rebuilt later (`sandbox audit checkpoint`, `export`), so a failure here is a
    note on the run, not a failed run.
    """
    from sandbox.audit.attestation import write_attestation
    from sandbox.audit.checkpoint import checkpoints_dir_for, write_checkpoint
    from sandbox.audit.keyring import load_keyring

    trail = run.s.trail
    try:
        write_attestation(run.run_dir, records, trail.signer)
        keys = load_keyring(run.s.key_path) if run.s.key_path else None
        write_checkpoint(trail, trail.signer, checkpoints_dir_for(trail.path), keys=keys)
    except SandboxError as exc:
        run.notes.append(f"audit: {exc}")


def _run_records(run: _Run) -> list[TrailRecord]:
    from sandbox.audit.trail import records_for_run

    return records_for_run(run.s.trail.path, run.run_id)


def _log_to_tracker(
    run: _Run,
    tracker_run: str,
    manifest: PilotManifest,
    verdict: Verdict,
    evaluation: BinaryEvaluation | None,
    report_dir: Path,
    result: ContainerResult | None,
) -> None:
    """Params, metrics and tags in one batch each; then the evidence as artifacts."""
    from sandbox.evaluation.binary import flat_metrics

    tracker = run.s.tracker
    params = {f"model.{k}": json.dumps(v) for k, v in manifest.model.params.items()}
    params |= {
        "model.entrypoint": manifest.model.entrypoint,
        "model.seed": str(manifest.model.seed),
        "data.label": manifest.data.label,
        "data.features": ",".join(manifest.data.features),
        "data.sensitive": ",".join(manifest.data.sensitive),
        "split.seed": str(manifest.data.split.seed),
        "split.evaluation_fraction": str(manifest.data.split.evaluation_fraction),
        "policy_packs": ",".join(manifest.governance.policy_packs),
    }
    run.track(lambda: tracker.log_params(tracker_run, params))
    metrics = flat_metrics(evaluation) if evaluation is not None else {}
    metrics |= verdict_metrics(verdict)
    if result is not None:
        metrics["runtime.duration_s"] = result.duration_s
    run.track(lambda: tracker.log_metrics(tracker_run, metrics))
    tags = {
        "sandbox.verdict": verdict.status,
        "sandbox.state": result.state if result else "blocked",
        "sandbox.failed_rules": ",".join(o.rule_id for o in verdict.failures) or "none",
        **verdict_tags(verdict),
    }
    level = assess(manifest.governance.impact_assessment).level
    if level is not None:
        tags["governance.impact_level"] = level
    if run.started_record is not None:
        payload = run.started_record.payload
        tags["sandbox.image_digest"] = str(payload.get("image_digest"))
        data_hashes = payload.get("data")
        if isinstance(data_hashes, dict):
            tags |= {f"sandbox.data_sha256.{k}"[:250]: str(v) for k, v in data_hashes.items()}
    run.track(lambda: tracker.set_tags(tracker_run, tags))
    run.track(lambda: tracker.log_artifacts(tracker_run, report_dir, "reports"))
    run.track(lambda: tracker.log_file(tracker_run, run.pilot_dir / MANIFEST_NAME, "pilot"))
    for name in ("predictions.csv", "explanations.json"):
        path = run.run_dir / "output" / name
        if path.is_file():
            run.track(partial(tracker.log_file, tracker_run, path, "outputs"))
