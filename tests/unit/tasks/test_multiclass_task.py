"""The multiclass task type: manifest, labels, predictions, a run against fakes, an audit."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sandbox.audit.signing import Signer
from sandbox.audit.trail import AuditTrail
from sandbox.errors import DataError, ManifestError, OutputRejected
from sandbox.manifest import load_manifest, manifest_json_schema
from sandbox.policies.pack import load_pack
from sandbox.runs.pilot_run import RunServices, run_pilot
from sandbox.runs.predictions_audit import audit_predictions
from sandbox.runtime.base import ContainerSpec
from sandbox.runtime.fake import FakeRuntime
from sandbox.tasks import get_task
from sandbox.tasks.multiclass import MulticlassConfig
from sandbox.tracking.memory import InMemoryTracker
from tests.routing import DEPARTMENTS, KEYWORDS, make_requests, write_routing_pilot

TASK = get_task("multiclass_classification")


def _services(tmp_path: Path, handler: object) -> RunServices:
    signer = Signer.load_or_create(tmp_path / "keys" / "key.pem")
    return RunServices(
        runtime=FakeRuntime(handler),  # type: ignore[arg-type]
        tracker=InMemoryTracker(),
        trail=AuditTrail(tmp_path / "audit" / "trail.jsonl", signer),
        image="runner:test",
        runs_dir=tmp_path / "runs",
        actor="tester@test",
        tracking_uri="memory://",
    )


def route_by_keywords(spec: ContainerSpec) -> dict[str, bytes]:
    """A stand-in model: the department whose keywords the request mentions most."""
    written = json.loads((spec.input_dir / "spec.json").read_text())
    assert written["outputs"] == {
        "prediction": "label",
        "score": None,
        "scoring": "balanced_accuracy",
    }
    train = pd.read_parquet(spec.input_dir / "train.parquet")
    assert set(train["department"]) == set(DEPARTMENTS)  # class values as written
    score = pd.read_parquet(spec.input_dir / "score.parquet")
    assert set(score.columns) == {"row_id", "request_hour", *KEYWORDS}
    best = score[list(KEYWORDS)].to_numpy().argmax(axis=1)
    out = pd.DataFrame({"row_id": score["row_id"], "prediction": np.array(DEPARTMENTS)[best]})
    return {"predictions.csv": out.to_csv(index=False).encode()}


def test_the_manifest_section_and_its_schema(tmp_path: Path) -> None:
    pilot = write_routing_pilot(tmp_path / "p", classes=["parks", "roads", "water"])
    assert load_manifest(pilot).task == MulticlassConfig(
        type="multiclass_classification", classes=("parks", "roads", "water")
    )
    schema = manifest_json_schema()
    assert "multiclass_classification" in schema["properties"]["task"]["discriminator"]["mapping"]
    bad = write_routing_pilot(tmp_path / "q", classes=["parks", "parks"])
    with pytest.raises(ManifestError, match="classes must be distinct"):
        load_manifest(bad)


def test_labels_are_class_values_checked_against_the_declared_classes() -> None:
    config = MulticlassConfig(type="multiclass_classification", classes=("parks", "roads"))
    values = pd.Series(["parks", " roads", "roads"])
    encoded = TASK.encode_labels(values, config, column="d", source="data.csv", manifest="p.yaml")
    assert list(encoded) == ["parks", "roads", "roads"]
    with pytest.raises(DataError, match=r"task.classes: .*'water'"):
        TASK.encode_labels(
            pd.Series(["parks", "water"]), config, column="d", source="data.csv", manifest="p.yaml"
        )
    free = MulticlassConfig(type="multiclass_classification")
    with pytest.raises(DataError, match="1 distinct values"):
        TASK.encode_labels(
            pd.Series(["parks"] * 3), free, column="d", source="data.csv", manifest="p.yaml"
        )
    with pytest.raises(DataError, match="missing values"):
        TASK.encode_labels(
            pd.Series(["parks", None]), free, column="d", source="data.csv", manifest="p.yaml"
        )


def test_predictions_must_name_a_class_for_every_row() -> None:
    frame = pd.DataFrame({"row_id": ["1", "2"], "prediction": ["parks", " water"]})
    parsed = TASK.parse_predictions(frame, source="predictions.csv")
    assert list(parsed["prediction"]) == ["parks", "water"]
    with pytest.raises(OutputRejected, match="empty in 1 rows"):
        TASK.parse_predictions(
            pd.DataFrame({"row_id": ["1", "2"], "prediction": ["parks", None]}), source="p.csv"
        )


def test_a_routing_pilot_that_routes_well_passes_baseline(tmp_path: Path) -> None:
    pilot = write_routing_pilot(tmp_path / "pilot", classes=list(DEPARTMENTS))
    services = _services(tmp_path, route_by_keywords)
    outcome = run_pilot(pilot, services, out_dir=tmp_path / "out")

    rules = {o.rule_id: o.outcome for o in outcome.verdict.outcomes}
    baseline = {r.id for r in load_pack("baseline").rules}
    assert not [o.rule_id for o in outcome.verdict.failures if o.rule_id in baseline]
    assert outcome.verdict.status in ("pass", "pass_with_warnings")  # phase rules may warn
    assert rules["performance.balanced-accuracy-floor"] == "passed"
    assert rules["performance.macro-f1-floor"] == "passed"
    assert rules["fairness.class-recall-difference"] == "passed"
    assert rules["fairness.four-fifths"] == "not_applicable"
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    ev = report["evaluation"]
    assert ev["task"] == "multiclass_classification"
    assert set(ev["performance"]) >= {"accuracy", "balanced_accuracy", "macro_f1"}
    assert ev["confusion_matrix"]["classes"] == list(DEPARTMENTS)
    assert sum(map(sum, ev["confusion_matrix"]["matrix"])) == ev["rows"]
    district = next(s for s in ev["attribute_sets"] if s["name"] == "district")
    assert {"accuracy", "recall.water", "selection_rate.roads"} <= set(district["disparities"])
    html = (tmp_path / "out" / "report.html").read_text()
    assert "Confusion matrix" in html and "Recall of \u2018water\u2019" in html
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert "| Actual \\ predicted | parks | roads | water | Rows |" in markdown
    tracked = services.tracker.runs[outcome.tracker_run_id]  # type: ignore[attr-defined,index]
    assert "perf.macro_f1" in tracked.metrics
    assert "fairness.district.group.north.recall.water" in tracked.metrics


def test_class_values_from_the_pilot_are_escaped_in_every_report(tmp_path: Path) -> None:
    frame = make_requests()
    hostile = {"water": "<b>water</b> | *leak*", "parks": "parks", "roads": "roads"}
    frame["department"] = frame["department"].map(hostile)
    pilot = write_routing_pilot(tmp_path / "pilot", frame=frame)

    def predict(spec: ContainerSpec) -> dict[str, bytes]:
        score = pd.read_parquet(spec.input_dir / "score.parquet")
        best = score[list(KEYWORDS)].to_numpy().argmax(axis=1)
        labels = np.array([hostile[d] for d in DEPARTMENTS])[best]
        out = pd.DataFrame({"row_id": score["row_id"], "prediction": labels})
        return {"predictions.csv": out.to_csv(index=False).encode()}

    run_pilot(pilot, _services(tmp_path, predict), out_dir=tmp_path / "out")
    html = (tmp_path / "out" / "report.html").read_text()
    assert "<b>water</b>" not in html and "&lt;b&gt;water&lt;/b&gt;" in html
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert not re.search(r"(?<!\\)<b>water", markdown)
    assert "\\<b>water\\</b> \\| \\*leak\\*" in markdown


def test_a_predictions_only_audit_equals_the_evaluation(tmp_path: Path) -> None:
    frame = make_requests(rows=600, seed=4)
    rng = np.random.default_rng(4)
    frame["routed_to"] = np.where(
        rng.random(len(frame)) < 0.8, frame["department"], rng.choice(DEPARTMENTS, len(frame))
    )
    data = tmp_path / "routed.csv"
    frame.to_csv(data, index=False)
    services = _services(tmp_path, route_by_keywords)
    audit = audit_predictions(
        data,
        label="department",
        prediction="routed_to",
        sensitive=["district", "language"],
        services=services,
        task="multiclass_classification",
        out_dir=tmp_path / "out",
    )
    from sklearn.metrics import balanced_accuracy_score, f1_score

    perf = audit.evaluation.performance
    assert perf["balanced_accuracy"] == pytest.approx(
        balanced_accuracy_score(frame["department"], frame["routed_to"])
    )
    assert perf["macro_f1"] == pytest.approx(
        f1_score(frame["department"], frame["routed_to"], average="macro")
    )
    assert audit.verdict.status in ("pass", "pass_with_warnings")
    report = yaml.safe_load((tmp_path / "out" / "report.json").read_text())
    assert report["evaluation"]["confusion_matrix"]["classes"] == list(DEPARTMENTS)
