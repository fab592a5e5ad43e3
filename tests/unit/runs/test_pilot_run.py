"""The run pipeline against in-memory edges: a fake runtime, an in-memory tracker, and a real
signed trail in a temporary folder (cheap, and the thing auditors rely on)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sandbox.audit.signing import Signer
from sandbox.audit.trail import AuditTrail, iter_records, verify_trail
from sandbox.errors import DataError, ManifestError
from sandbox.runs.pilot_run import run_pilot
from sandbox.runs.services import RunServices
from sandbox.runtime.base import ContainerSpec
from sandbox.runtime.fake import FakeOutcome, FakeRuntime
from sandbox.tracking.memory import InMemoryTracker
from tests.pilots import manifest_dict, write_pilot


def income_rule(spec: ContainerSpec) -> dict[str, bytes]:
    """A stand-in model: reads what crossed the wall and predicts from income alone."""
    score = pd.read_parquet(spec.input_dir / "score.parquet")
    prob = 1 / (1 + ((score["income"] - 3000) / 400).map(lambda z: 2.718281828**z))
    out = pd.DataFrame(
        {"row_id": score["row_id"], "prediction": (prob > 0.5).astype(int), "score": prob}
    )
    explanations = {
        "method": "permutation_importance",
        "scoring": "balanced_accuracy",
        "n_repeats": 2,
        "rows": 10,
        "features": [
            {"feature": "income", "importance_mean": 0.2, "importance_std": 0.01},
            {"feature": "household_size", "importance_mean": 0.0, "importance_std": 0.0},
        ],
    }
    return {
        "predictions.csv": out.to_csv(index=False).encode(),
        "explanations.json": json.dumps(explanations).encode(),
    }


@pytest.fixture
def services(tmp_path: Path) -> RunServices:
    signer = Signer.load_or_create(tmp_path / "keys" / "key.pem")
    return RunServices(
        runtime=FakeRuntime(income_rule),
        tracker=InMemoryTracker(),
        trail=AuditTrail(tmp_path / "audit" / "trail.jsonl", signer),
        image="runner:test",
        runs_dir=tmp_path / "runs",
        actor="tester@test",
        tracking_uri="memory://",
    )


def _kinds(services: RunServices) -> list[str]:
    return [r.kind for r in iter_records(services.trail.path)]


def _verifies(services: RunServices) -> bool:
    return verify_trail(services.trail.path, services.trail.signer.verifier()).ok


def test_a_pilot_runs_end_to_end(tmp_path: Path, services: RunServices) -> None:
    pilot = write_pilot(tmp_path / "pilot")
    events: list[tuple[str, str]] = []
    outcome = run_pilot(
        pilot,
        services,
        out_dir=tmp_path / "out",
        progress=lambda stage, status, detail: events.append((stage, status)),
    )
    assert outcome.verdict.status in ("pass", "pass_with_warnings")
    assert outcome.exit_code == 0
    assert _kinds(services) == ["run.submitted", "run.started", "run.finished"]
    assert _verifies(services)
    written = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"report.json", "report.html", "report.md", "report.pdf", "model-card.md"} <= written
    assert {
        "datasheet.json",
        "atrs.json",
        "notice.en.md",
        "notice.es.md",
        "notice.fr.md",
    } <= written
    tracked = services.tracker.runs[outcome.tracker_run_id]  # type: ignore[attr-defined,index]
    assert tracked.status == "FINISHED" and tracked.experiment == "test-pilot"
    assert tracked.tags["sandbox.verdict"] == outcome.verdict.status
    assert "fairness.group.selection_rate.difference" in tracked.metrics
    assert "perf.roc_auc" in tracked.metrics
    assert any(name.startswith("reports/report.html") for name in tracked.artifacts)
    assert any(name.startswith("audit/") for name in tracked.artifacts)
    assert ("container", "done") in events and ("audit trail", "done") in events
    spec = services.runtime.specs[0]  # type: ignore[attr-defined]
    # the harness loads its libraries, then waits for the go marker the host writes
    assert spec.command == (
        "python3",
        "/opt/sandbox/harness.py",
        "--wait-for",
        "/input/.inputs-ready",
        "--preload",  # a tabular model's libraries
    )
    assert not (spec.input_dir / ".inputs-ready").exists()  # removed once the container ended
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["provenance"]["trail_record_hash"].startswith("sha256:")


def test_blocked_pilot_never_reaches_the_runtime(tmp_path: Path, services: RunServices) -> None:
    m = manifest_dict()
    m["data"]["features"] = ["income", "household_size", "sex"]
    outcome = run_pilot(write_pilot(tmp_path / "pilot", manifest=m), services)
    assert outcome.verdict.status == "blocked" and outcome.exit_code == 3
    assert services.runtime.specs == []  # type: ignore[attr-defined]
    assert _kinds(services) == ["run.submitted", "run.blocked"]
    failed = [o for o in outcome.verdict.failures]
    assert failed[0].rule_id == "data.no-protected-features"
    assert failed[0].evidence["offending"] == {"sensitive": ["sex"]}
    assert services.tracker.runs[outcome.tracker_run_id].status == "FAILED"  # type: ignore[attr-defined,index]
    assert outcome.reports["html"].is_file()
    assert _verifies(services)


@pytest.mark.parametrize(
    ("fake", "rule"),
    [
        (
            FakeOutcome(state="failed", exit_code=1, stderr="Traceback: boom"),
            "runtime.container-succeeded",
        ),
        (FakeOutcome(state="timed_out"), "runtime.container-succeeded"),
        (FakeOutcome(state="oom_killed", exit_code=137), "runtime.container-succeeded"),
        (
            FakeOutcome(files={"predictions.csv": b"row_id,prediction\n1,7\n"}),
            "runtime.outputs-valid",
        ),
        (FakeOutcome(files={}), "runtime.outputs-valid"),
    ],
)
def test_a_misbehaving_model_fails_the_run_on_the_record(
    tmp_path: Path, services: RunServices, fake: FakeOutcome, rule: str
) -> None:
    runtime = FakeRuntime(lambda spec: fake)
    services = RunServices(**{**services.__dict__, "runtime": runtime})
    outcome = run_pilot(write_pilot(tmp_path / "pilot"), services)
    assert outcome.verdict.status == "fail" and outcome.exit_code == 3
    assert rule in [o.rule_id for o in outcome.verdict.failures]
    assert _kinds(services)[-1] == "run.finished"
    assert services.tracker.runs[outcome.tracker_run_id].status == "FAILED"  # type: ignore[attr-defined,index]
    assert _verifies(services)


def test_bad_manifest_is_rejected_on_the_record(tmp_path: Path, services: RunServices) -> None:
    m = manifest_dict()
    del m["task"]
    with pytest.raises(ManifestError, match="pilot.yaml: task: Field required"):
        run_pilot(write_pilot(tmp_path / "pilot", manifest=m), services)
    assert _kinds(services) == ["run.rejected"]
    (tracked,) = services.tracker.runs.values()  # type: ignore[attr-defined]
    assert tracked.status == "FAILED" and tracked.tags["sandbox.state"] == "rejected"
    assert _verifies(services)


def test_bad_data_fails_the_run_on_the_record(tmp_path: Path, services: RunServices) -> None:
    pilot = write_pilot(tmp_path / "pilot")
    (pilot / "data.csv").write_text("income,household_size\n1,2\n")
    with pytest.raises(DataError):
        run_pilot(pilot, services)
    assert _kinds(services) == ["run.submitted", "run.failed"]
    (tracked,) = services.tracker.runs.values()  # type: ignore[attr-defined]
    assert tracked.status == "FAILED"
    assert _verifies(services)


def test_tracker_outage_does_not_lose_the_run(tmp_path: Path, services: RunServices) -> None:
    from sandbox.errors import TrackingError

    class DownTracker(InMemoryTracker):
        def log_metrics(self, run_id: str, metrics: object) -> None:  # type: ignore[override]
            raise TrackingError("tracking server unreachable")

    services = RunServices(**{**services.__dict__, "tracker": DownTracker()})
    outcome = run_pilot(write_pilot(tmp_path / "pilot"), services)
    assert any("unreachable" in note for note in outcome.notes)
    assert _kinds(services)[-1] == "run.finished" and _verifies(services)


def test_resources_only_tighten(tmp_path: Path, services: RunServices) -> None:
    m = manifest_dict(resources={"memory_mb": 100000 // 2, "timeout_s": 30})
    run_pilot(write_pilot(tmp_path / "pilot", manifest=m), services)
    hardening = services.runtime.specs[0].hardening  # type: ignore[attr-defined]
    assert hardening.memory_mb == services.hardening.memory_mb  # asked for more: not granted
    assert hardening.timeout_s == 30  # asked for less: granted
