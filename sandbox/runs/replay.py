"""Replay a recorded run: same inputs, same code, same image, same hardening; compare.

`replay_run` takes a run's signed records as the specification of what ran:

1. every file that crossed the wall (`run.started` inputs) and every staged code file is
   re-hashed in the run folder; a file whose hash no longer matches, a missing file or an
   extra one is refused, naming the file;
2. the runner image is taken by its recorded digest (not its tag, which may have moved);
3. the container runs again with the recorded hardening, on copies of the checked files;
4. the new outputs' hashes are compared with the `run.finished` record: predictions and
   explanations must be identical bit for bit (a deterministic model reproduces exactly);
5. with the pilot folder (`--pilot`), the recorded manifest and source data are checked by
   hash, the held-back labels and groups are rebuilt, and the replayed predictions are
   re-evaluated and compared with the metrics in the run's report.json;
6. an `audit.replayed` record with the outcome is appended to the trail.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from sandbox.digests import file_sha256
from sandbox.errors import AuditError, UserInputError
from sandbox.runs.container import HARNESS_COMMAND
from sandbox.runs.pilot_kinds import kind_of
from sandbox.runs.record import RunRecord
from sandbox.runs.recorder import REPLAY, RunRecorder
from sandbox.runtime.base import ContainerSpec, Hardening

if TYPE_CHECKING:
    from sandbox.audit.trail import TrailRecord
    from sandbox.runs.services import RunServices

__all__ = ["FileComparison", "ReplayOutcome", "replay_run"]

#: Outputs that must reproduce bit for bit; the opaque model file is compared but not required.
KEY_OUTPUTS: Final = ("predictions.csv", "explanations.json", "answers.jsonl")


@dataclass(frozen=True, kw_only=True)
class FileComparison:
    """One output file: its recorded and replayed hash."""

    name: str
    recorded: str | None
    replayed: str | None

    @property
    def same(self) -> bool:
        """Whether the replayed file is identical to the recorded one."""
        return self.recorded == self.replayed


@dataclass(frozen=True, kw_only=True)
class ReplayOutcome:
    """Whether a run reproduced, file by file and metric by metric."""

    run_id: str
    replay_dir: Path
    image_digest: str
    container_state: str
    outputs: tuple[FileComparison, ...]
    metrics_compared: int | None  # None: not re-evaluated (no pilot folder)
    metrics_differing: tuple[str, ...]
    record_seq: int
    notes: tuple[str, ...] = ()

    @property
    def predictions_reproduced(self) -> bool:
        """Every key output (predictions, explanations, answers) the run recorded is bit-for-bit
        equal."""
        key = [c for c in self.outputs if c.name in KEY_OUTPUTS and c.recorded is not None]
        return bool(key) and all(c.same for c in key)

    @property
    def reproduced(self) -> bool:
        """Predictions reproduced and, where re-evaluated, every metric equal."""
        return self.predictions_reproduced and not self.metrics_differing


def _records(services: RunServices, run_id: str) -> tuple[TrailRecord, TrailRecord, TrailRecord]:
    records = services.trail.records_for_run(run_id)
    if not records:
        raise UserInputError(f"run {run_id}: no record in {services.trail.location}")
    by_kind = {r.kind: r for r in records}
    missing = [k for k in ("run.submitted", "run.started", "run.finished") if k not in by_kind]
    if missing:
        ended = next((r.kind for r in reversed(records) if r.kind.startswith("run.")), "?")
        raise UserInputError(
            f"run {run_id}: cannot be replayed: it has no {', '.join(missing)} record (it "
            f"ended as {ended}); only a run whose container ran to the end can be replayed"
        )
    return by_kind["run.submitted"], by_kind["run.started"], by_kind["run.finished"]


def _refuse(run_id: str, message: str) -> AuditError:
    return AuditError(f"refusing to replay run {run_id}: {message}")


def _check_folder(run_id: str, folder: Path, recorded: object, what: str) -> dict[str, str]:
    """The recorded hashes of `folder`'s files, after checking every file still matches."""
    if not isinstance(recorded, dict) or not recorded:
        raise _refuse(run_id, f"the run.started record holds no {what} hashes")
    for relative, sha in sorted(recorded.items()):
        path = folder / relative
        if path.is_symlink() or not path.is_file():
            raise _refuse(run_id, f"{path}: missing (recorded as {sha} in run.started)")
        actual = file_sha256(path)
        if actual != sha:
            raise _refuse(
                run_id,
                f"{path}: its sha256 {actual} no longer matches the recorded {sha}: the "
                "file was changed after the run",
            )
    present = {
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink()
    }
    extra = sorted(present - set(recorded))
    if extra:
        raise _refuse(run_id, f"{folder / extra[0]}: not among the recorded {what} files")
    return {str(k): str(v) for k, v in recorded.items()}


def _copy_checked(run_id: str, source: Path, dest: Path, recorded: dict[str, str]) -> None:
    """Copy the checked files, then hash the copies: what runs is what was checked."""
    dest.mkdir(parents=True)
    dest.chmod(0o755)
    for relative in sorted(recorded):
        target = dest / relative
        for folder in reversed(target.relative_to(dest).parents[:-1]):  # nested inputs too
            (dest / folder).mkdir(exist_ok=True)
            (dest / folder).chmod(0o755)  # traversable by the container's user
        shutil.copyfile(source / relative, target)
        target.chmod(0o644)
        if file_sha256(target) != recorded[relative]:
            raise _refuse(run_id, f"{source / relative}: changed while being copied")


def _hardening(run_id: str, recorded: object) -> Hardening:
    if not isinstance(recorded, dict):
        raise _refuse(run_id, "the run.started record holds no hardening")
    known = {f.name for f in fields(Hardening)}
    unknown = sorted(set(recorded) - known)
    if unknown:
        raise _refuse(run_id, f"the recorded hardening has fields this sandbox lacks: {unknown}")
    return Hardening(**recorded)


def replay_run(
    run_id: str, services: RunServices, *, pilot_dir: Path | None = None
) -> ReplayOutcome:
    """Re-run a recorded run from its records and compare; see the module docstring.

    Raises AuditError (refusal) when an input, the code, the manifest or the data no longer
    hash to what the run recorded, and RuntimeUnavailable when the recorded image is gone.
    """
    if "/" in run_id or run_id.startswith("."):
        raise UserInputError(f"run id {run_id!r}: expected a name like 20261122T105929Z-f7ea02")
    run_dir = services.runs_dir / run_id
    if not run_dir.is_dir():
        raise UserInputError(f"{run_dir}: no such run folder")
    submitted, started, finished = _records(services, run_id)
    inputs = _check_folder(run_id, run_dir / "input", started.payload.get("inputs"), "input")
    code = _check_folder(run_id, run_dir / "pilot", started.payload.get("code"), "code")
    hardening = _hardening(run_id, started.payload.get("hardening"))
    held_back = None
    if pilot_dir is not None:
        held_back = _held_back(run_id, pilot_dir, submitted, started)
    digest = str(started.payload.get("image_digest"))
    current = services.runtime.image_digest(digest)  # by digest: a moved tag cannot fool us
    if current != digest:
        raise _refuse(run_id, f"the engine's image {digest} now has id {current}")

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    record = RunRecord(
        run_id=run_id,
        run_dir=run_dir / "replays" / f"{stamp}-{os.urandom(2).hex()}",
        mode="replay",
        name=str(submitted.payload.get("pilot") or run_id),
        started_at=datetime.now(UTC),
        image=digest,
        image_digest=digest,
        hardening=hardening,
    )
    with RunRecorder(services, record, kinds=REPLAY) as rec:
        _copy_checked(run_id, run_dir / "input", rec.record.run_dir / "input", inputs)
        _copy_checked(run_id, run_dir / "pilot", rec.record.run_dir / "pilot", code)
        return _replay(rec, held_back, started, finished, pilot_given=pilot_dir is not None)


def _replay(
    rec: RunRecorder,
    held_back: _HeldBack | None,
    started: TrailRecord,
    finished: TrailRecord,
    *,
    pilot_given: bool,
) -> ReplayOutcome:
    """Run the checked copies again, compare, and end the replay with `audit.replayed`."""
    r = rec.record
    replay_dir, digest = r.run_dir, str(r.image_digest)
    spec = ContainerSpec(
        run_id=f"{r.run_id}-replay",
        image=digest,
        command=HARNESS_COMMAND,
        input_dir=replay_dir / "input",
        pilot_dir=replay_dir / "pilot",
        output_dir=replay_dir / "output",
        hardening=r.hardening or Hardening(),
    )
    result = rec.services.runtime.run(spec)
    rec.update(container=result)
    recorded_outputs = finished.payload.get("outputs")
    recorded = recorded_outputs if isinstance(recorded_outputs, dict) else {}
    names = sorted(set(recorded) | set(result.output_files))
    outputs = tuple(
        FileComparison(
            name=n,
            recorded=str(recorded[n]) if n in recorded else None,
            replayed=result.output_files.get(n),
        )
        for n in names
    )
    compared: int | None = None
    differing: tuple[str, ...] = ()
    if held_back is not None and result.state == "succeeded":
        compared, differing = _compare_metrics(rec.record, held_back, replay_dir / "output")
    elif not pilot_given:
        rec.note(
            "metrics not re-evaluated: the held-back labels stay with the pilot's data; pass "
            "the pilot folder (--pilot) to re-evaluate"
        )
    outcome = ReplayOutcome(
        run_id=r.run_id,
        replay_dir=replay_dir,
        image_digest=digest,
        container_state=result.state,
        outputs=outputs,
        metrics_compared=compared,
        metrics_differing=differing,
        record_seq=-1,
        notes=rec.record.notes,
    )
    compared_outputs = {c.name: {"recorded": c.recorded, "replayed": c.replayed} for c in outputs}
    record = rec.finish(
        "audit.replayed",
        {
            "status": "finished",
            "replay_dir": replay_dir.name,
            "reproduced": outcome.reproduced,
            "predictions_reproduced": outcome.predictions_reproduced,
            "image_digest": digest,
            "container_state": result.state,
            "outputs": compared_outputs,
            "metrics_compared": compared,
            "metrics_differing": list(differing[:50]),
            "replay_of": {"run.started": started.hash, "run.finished": finished.hash},
        },
        ok=outcome.reproduced,
    )
    summary = {
        "run_id": r.run_id,
        "reproduced": outcome.reproduced,
        "predictions_reproduced": outcome.predictions_reproduced,
        "container_state": result.state,
        "outputs": compared_outputs,
        "metrics_compared": compared,
        "metrics_differing": list(differing),
        "trail_seq": record.seq,
        "notes": list(outcome.notes),
    }
    (replay_dir / "replay.json").write_text(
        json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return replace(outcome, record_seq=record.seq)


@dataclass(frozen=True, kw_only=True)
class _HeldBack:
    """What re-evaluating needs: the manifest, the pilot's data and what crossed the wall."""

    manifest: Any
    data: Any  # the pilot kind's data: its held-back labels and groups, or its references
    crossing: Any  # the kind's wall crossing, rebuilt and checked against run.started


def _held_back(
    run_id: str, pilot_dir: Path, submitted: TrailRecord, started: TrailRecord
) -> _HeldBack:
    """Rebuild the evaluation rows from the pilot folder, proving it is the recorded one."""
    from sandbox.manifest import MANIFEST_NAME, load_manifest

    manifest_path = pilot_dir / MANIFEST_NAME
    if not manifest_path.is_file():
        raise UserInputError(f"{manifest_path}: no pilot.yaml in the pilot folder")
    recorded = submitted.payload.get("manifest_sha256")
    if file_sha256(manifest_path) != recorded:
        raise _refuse(run_id, f"{manifest_path}: does not hash to the recorded manifest {recorded}")
    manifest = load_manifest(pilot_dir)
    kind = kind_of(manifest)
    data = kind.load(pilot_dir, manifest)
    recorded_data = started.payload.get("data")
    recorded_data = recorded_data if isinstance(recorded_data, dict) else {}
    for source in data.sources:
        if recorded_data.get(source.path) != source.sha256:
            raise _refuse(
                run_id,
                f"{pilot_dir / source.path}: its sha256 {source.sha256} no longer matches the "
                f"recorded {recorded_data.get(source.path)}",
            )
    recorded_inputs = started.payload.get("inputs")
    for legacy in (False, True):  # a run recorded before the current layout: its own layout
        with tempfile.TemporaryDirectory(prefix="sandbox-replay-") as tmp:
            crossing = kind.cross(data, manifest, Path(tmp) / "input", legacy=legacy)
        if crossing.files == recorded_inputs:
            break
    else:
        raise _refuse(
            run_id, "the pilot folder's data no longer crosses the wall as the recorded input files"
        )
    return _HeldBack(manifest=manifest, data=data, crossing=crossing)


def _leaves(value: Any, path: str = "") -> dict[str, Any]:
    """Every leaf of a JSON value by its path (`attribute_sets[0].groups[2].metrics.tpr.value`)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out |= _leaves(item, f"{path}.{key}" if path else str(key))
        return out
    if isinstance(value, list):
        out = {}
        for index, item in enumerate(value):
            out |= _leaves(item, f"{path}[{index}]")
        return out
    return {path: value}


def _compare_metrics(
    record: RunRecord, held_back: _HeldBack, output_dir: Path
) -> tuple[int, tuple[str, ...]]:
    """Re-evaluate the replayed outputs; compare every number with the run's report.json.

    The outputs are assessed by the pilot's kind exactly as the run assessed them. Both sides
    go through the same JSON form (report.json sorts keys), so a float compares bit for bit.
    """
    run_dir = record.run_dir.parents[1]
    report = json.loads((run_dir / "reports" / "report.json").read_text(encoding="utf-8"))
    if not report.get("evaluation"):
        return 0, ("the run's report holds no evaluation",)
    again = replace(
        record, manifest=held_back.manifest, data=held_back.data, crossing=held_back.crossing
    )
    assessed = kind_of(held_back.manifest).assess(again, output_dir)
    if assessed.evaluation is None:
        return 0, (f"the replayed outputs were rejected: {assessed.rejected}",)
    replayed = json.loads(json.dumps(assessed.evaluation.model_dump(mode="json"), sort_keys=True))
    before, after = _leaves(report["evaluation"]), _leaves(replayed)
    names = set(before) | set(after)
    differing = sorted(k for k in names if before.get(k, ...) != after.get(k, ...))
    return len(names), tuple(differing)
