"""Predictions-only audit: the numbers equal fairlearn's MetricFrame, and it is on the record."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    count,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score, precision_score

from sandbox.audit.bundle import export_bundle, verify_bundle
from sandbox.audit.checkpoint import checkpoints_dir_for, latest_checkpoint
from sandbox.audit.signing import Signer
from sandbox.audit.trail import AuditTrail, iter_records, verify_trail
from sandbox.errors import DataError
from sandbox.runs.predictions_audit import audit_predictions
from sandbox.runs.recovery import recover_abandoned_runs
from sandbox.runs.services import RunServices
from sandbox.runs.state import read_state
from sandbox.runtime.fake import FakeRuntime
from sandbox.tracking.memory import InMemoryTracker

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.UndefinedMetricWarning",
    "ignore:y_pred contains classes not in y_true",
)

METRICS = {
    "selection_rate": selection_rate,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "fnr": false_negative_rate,
    "precision": precision_score,
    "accuracy": accuracy_score,
    "count": count,
}


def _never_called(spec):  # type: ignore[no-untyped-def]
    raise AssertionError("a predictions-only audit must not run a container")


@pytest.fixture
def services(tmp_path: Path) -> RunServices:
    signer = Signer.load_or_create(tmp_path / "keys" / "key.pem")
    return RunServices(
        runtime=FakeRuntime(_never_called),
        tracker=InMemoryTracker(),
        trail=AuditTrail(tmp_path / "audit" / "trail.jsonl", signer),
        image="unused",
        runs_dir=tmp_path / "runs",
        actor="auditor@test",
        tracking_uri="memory://",
    )


@pytest.fixture
def predictions(tmp_path: Path) -> Path:
    rng = np.random.default_rng(7)
    n = 900
    frame = pd.DataFrame(
        {
            "applicant": [f"a{i}" for i in range(n)],
            "sex": rng.choice(["female", "male"], n),
            "race": rng.choice(["A", "B", "C", "D"], n, p=[0.5, 0.3, 0.15, 0.05]),
            "eligible": rng.integers(0, 2, n),
        }
    )
    noise = rng.random(n)
    frame["score"] = (0.4 * frame["eligible"] + 0.6 * noise).round(4)
    frame["vendor_decision"] = (frame["score"] > 0.45).astype(int)
    path = tmp_path / "vendor.csv"
    frame.to_csv(path, index=False)
    return path


def test_numbers_equal_fairlearn_metricframe(
    tmp_path: Path, services: RunServices, predictions: Path
) -> None:
    outcome = audit_predictions(
        predictions,
        label="eligible",
        prediction="vendor_decision",
        score="score",
        sensitive=["sex", "race"],
        services=services,
        n_bootstrap=50,
    )
    frame = pd.read_csv(predictions)
    for attributes in (["sex"], ["race"], ["sex", "race"]):
        features = frame[attributes[0]] if len(attributes) == 1 else frame[attributes]
        expected = MetricFrame(
            metrics=METRICS,
            y_true=frame["eligible"],
            y_pred=frame["vendor_decision"],
            sensitive_features=features,
        )
        result = outcome.evaluation.attribute_set(" & ".join(attributes))
        assert len(result.groups) == len(expected.by_group)
        for group in result.groups:
            key = tuple(group.values[a] for a in attributes)
            row = expected.by_group.loc[key[0] if len(key) == 1 else key]
            assert group.count == row["count"]
            for metric in ("selection_rate", "tpr", "fpr", "fnr", "precision", "accuracy"):
                assert group.metrics[metric].value == row[metric], (attributes, key, metric)
        for metric in ("selection_rate", "tpr", "fpr"):
            disparity = result.disparities[metric]
            assert disparity.difference.value == pytest.approx(
                expected.difference()[metric], abs=1e-15
            )
            assert disparity.ratio.value == pytest.approx(expected.ratio()[metric], abs=1e-15)
    overall = MetricFrame(
        metrics=METRICS,
        y_true=frame["eligible"],
        y_pred=frame["vendor_decision"],
        sensitive_features=frame["sex"],
    ).overall
    assert outcome.evaluation.rows == overall["count"] == len(frame)


def test_the_audit_is_on_the_record(
    tmp_path: Path, services: RunServices, predictions: Path
) -> None:
    outcome = audit_predictions(
        predictions,
        label="eligible",
        prediction="vendor_decision",
        sensitive=["sex"],
        services=services,
        n_bootstrap=0,
        out_dir=tmp_path / "out",
    )
    records = list(iter_records(services.trail.path))
    assert [r.kind for r in records] == ["audit.submitted", "audit.finished"]
    assert records[0].payload["mode"] == "predictions-only"
    assert records[0].payload["container"] is None
    assert records[0].payload["data"] == {"vendor.csv": outcome.report.data.sources[0].sha256}
    assert records[1].payload["verdict"] == outcome.verdict.status
    assert verify_trail(services.trail.path, services.trail.signer.verifier()).ok
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["evaluation"]["rows"] == 900
    assert report["runtime"] is None
    tracker = services.tracker
    assert isinstance(tracker, InMemoryTracker)
    logged = tracker.runs[outcome.tracker_run_id or ""]
    assert logged.tags["sandbox.mode"] == "predictions-only"
    assert "fairness.sex.selection_rate.difference" in logged.metrics
    # A predictions-only audit exports and verifies like any run.
    bundle = export_bundle(
        outcome.run_id,
        runs_dir=services.runs_dir,
        trail=services.trail,
        keys={services.trail.signer.key_id: services.trail.signer.verifier()},
        checkpoints_dir=tmp_path / "checkpoints",
        out=tmp_path / "b.tar.gz",
    )
    result = verify_bundle(bundle)
    assert result.ok, result.problem


def test_bad_columns_name_the_file_and_the_fix(services: RunServices, predictions: Path) -> None:
    with pytest.raises(DataError, match="--label: column 'outcome' not in the file"):
        audit_predictions(
            predictions,
            label="outcome",
            prediction="vendor_decision",
            sensitive=["sex"],
            services=services,
        )
    with pytest.raises(DataError, match="--positive"):
        audit_predictions(
            predictions,
            label="race",
            prediction="vendor_decision",
            sensitive=["sex"],
            services=services,
        )


def _audit(services: RunServices, predictions: Path) -> Any:
    return audit_predictions(
        predictions,
        label="eligible",
        prediction="vendor_decision",
        sensitive=["sex"],
        services=services,
        n_bootstrap=0,
    )


def test_an_audit_keeps_the_records_a_pilot_run_keeps(
    services: RunServices, predictions: Path
) -> None:
    outcome = _audit(services, predictions)
    kept = {p.name for p in outcome.run_dir.iterdir()}
    assert {"run.lock", "run.json", "audit-record.json", "attestation.dsse.json"} <= kept
    state = read_state(outcome.run_dir)
    assert state["status"] == "finished" and state["mode"] == "predictions-only"
    assert latest_checkpoint(checkpoints_dir_for(services.trail.path)) is not None
    assert outcome.notes == ()


def test_an_audit_that_breaks_off_ends_once_as_failed(
    services: RunServices, predictions: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sandbox.runs.predictions_audit as module

    def broken(*args: object) -> None:
        raise RuntimeError("the rules could not be read")

    monkeypatch.setattr(module, "_verdict", broken)
    with pytest.raises(RuntimeError):
        _audit(services, predictions)
    records = list(iter_records(services.trail.path))
    assert [r.kind for r in records] == ["audit.submitted", "run.failed"]
    assert "the rules could not be read" in str(records[1].payload["error"])
    (run_dir,) = services.runs_dir.iterdir()
    assert read_state(run_dir)["status"] == "failed"
    (tracked,) = services.tracker.runs.values()  # type: ignore[attr-defined]
    assert tracked.status == "FAILED"


def test_a_crashed_audit_is_closed_by_recovery(
    tmp_path: Path, services: RunServices, predictions: Path
) -> None:
    # The runner dies between its first and its last record (kill -9: no handler runs).
    script = f"""
import os
from pathlib import Path
import sandbox.runs.predictions_audit as module
from sandbox.audit.signing import Signer
from sandbox.audit.trail import AuditTrail
from sandbox.runs.services import RunServices
from sandbox.runtime.fake import FakeRuntime
from sandbox.tracking.memory import InMemoryTracker

module._verdict = lambda *args: os._exit(9)
tmp = Path({str(tmp_path)!r})
services = RunServices(
    runtime=FakeRuntime(lambda spec: {{}}),
    tracker=InMemoryTracker(),
    trail=AuditTrail(
        tmp / "audit" / "trail.jsonl", Signer.load_or_create(tmp / "keys" / "key.pem")
    ),
    image="unused",
    runs_dir=tmp / "runs",
    actor="auditor@test",
)
module.audit_predictions(
    Path({str(predictions)!r}), label="eligible", prediction="vendor_decision",
    sensitive=["sex"], services=services, n_bootstrap=0,
)
"""
    died = subprocess.run([sys.executable, "-c", script], check=False, timeout=120)
    assert died.returncode == 9
    (run_dir,) = services.runs_dir.iterdir()
    assert read_state(run_dir)["status"] == "running"

    (closed,) = recover_abandoned_runs(services)
    assert closed.run_dir == run_dir and closed.trail_seq is not None
    kinds = [r.kind for r in iter_records(services.trail.path)]
    assert kinds == ["audit.submitted", "run.lost"]
    assert read_state(run_dir)["status"] == "lost"
    assert recover_abandoned_runs(services) == []  # closed exactly once
    assert verify_trail(services.trail.path, services.trail.signer.verifier()).ok


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda f: f.iloc[:1], "1 evaluation row; at least 20 are needed"),
        (lambda f: f.assign(eligible=1), "900 of the positive outcome (1/true) and 0 of the"),
        (lambda f: f.assign(sex="female"), "--sensitive[0]: column 'sex' has a single group"),
        (lambda f: f.assign(score=np.where(f.index == 3, 1.5, -0.2)), "must be finite numbers"),
        (
            lambda f: f.assign(sex=np.where(f.index < 5, "(missing)", f["sex"])),
            "holds the value '(missing)' in 5 rows",
        ),
    ],
    ids=["one row", "one class", "one group", "scores outside [0, 1]", "a '(missing)' value"],
)
def test_degenerate_inputs_are_refused_on_the_record(
    tmp_path: Path, services: RunServices, predictions: Path, change: Any, expected: str
) -> None:
    path = tmp_path / "degenerate.csv"
    change(pd.read_csv(predictions)).to_csv(path, index=False)
    with pytest.raises(DataError) as caught:
        audit_predictions(
            path,
            label="eligible",
            prediction="vendor_decision",
            score="score",
            sensitive=["sex"],
            services=services,
            n_bootstrap=0,
        )
    assert expected in str(caught.value) and "degenerate.csv" in str(caught.value)
    records = list(iter_records(services.trail.path))
    assert [r.kind for r in records] == ["audit.submitted", "run.failed"]
    assert expected in str(records[1].payload["error"])
    assert verify_trail(services.trail.path, services.trail.signer.verifier()).ok
