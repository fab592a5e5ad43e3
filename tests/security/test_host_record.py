"""Host-side attacks on the record: container output and pilot input that used to break it.

Each attack runs the real pipeline with a fake container (its outputs are the attack), a real
MLflow store (SQLite under the test's folder) behind the durable outbox, and a real signed
trail. What must hold after every attack:

- the run ends exactly once on the record: rejected (exit 2) for bad input, or finished with
  a verdict, its reports and a FINISHED/FAILED MLflow run for hostile outputs;
- nothing MLflow refuses is treated as "MLflow is down": no call is queued for ever, and a
  later, benign run is tracked under a real MLflow id;
- the trail verifies.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sandbox.audit.events import TERMINAL_KINDS
from sandbox.audit.signing import Signer
from sandbox.audit.trail import AuditTrail, iter_records, verify_trail
from sandbox.errors import ManifestError, TrackingRefused
from sandbox.runs.container import MAX_REASON_CHARS
from sandbox.runs.pilot_run import RunOutcome, run_pilot
from sandbox.runs.services import RunServices
from sandbox.runtime.base import ContainerSpec
from sandbox.runtime.fake import FakeRuntime
from sandbox.tracking.base import MAX_KEY_LENGTH, MAX_TAG_VALUE_LENGTH
from sandbox.tracking.mlflow import MlflowTracker
from sandbox.tracking.outbox import LOCAL_ID_PREFIX, REFUSED_DIR, QueuedTracker
from tests.pilots import make_frame, manifest_dict, write_pilot

Files = dict[str, bytes]


def _predictions(spec: ContainerSpec) -> pd.DataFrame:
    score = pd.read_parquet(spec.input_dir / "score.parquet")
    return pd.DataFrame(
        {"row_id": score["row_id"], "prediction": (score["income"] < 3000).astype(int)}
    )


def benign(spec: ContainerSpec) -> Files:
    """A stand-in model that honours the container contract."""
    return {"predictions.csv": _predictions(spec).to_csv(index=False).encode()}


def _with(extra: Callable[[ContainerSpec], Files]) -> Callable[[ContainerSpec], Files]:
    return lambda spec: benign(spec) | extra(spec)


def _long_column(spec: ContainerSpec) -> Files:
    frame = _predictions(spec)
    frame["x" * 200_000] = 1
    return {"predictions.csv": frame.to_csv(index=False).encode()}


def _bad_quoting(spec: ContainerSpec) -> Files:
    rows = "".join(f'{r},"0\n' for r in _predictions(spec)["row_id"])
    return {"predictions.csv": b"row_id,prediction\n" + rows.encode()}


def _quoted_giant_field(spec: ContainerSpec) -> Files:
    giant = "\n".join(["y" * 1000] * 300)  # short lines, one field of 300 KB
    return {"predictions.csv": f'row_id,prediction\n1,"{giant}"\n'.encode()}


def _not_utf8(spec: ContainerSpec) -> Files:
    return {"predictions.csv": b"row_id,prediction\n\xff\xfe,0\n"}


def _too_many_rows(spec: ContainerSpec) -> Files:
    rows = "".join(f"{i},0\n" for i in range(10**6, 10**6 + 20_000))
    return {"predictions.csv": ("row_id,prediction\n" + rows).encode()}


def _huge_explanations(spec: ContainerSpec) -> Files:
    item = {"feature": "income", "importance_mean": 0.1, "importance_std": 0.0}
    body = {"method": "permutation_importance", "features": [item] * 40_000}
    return {"explanations.json": json.dumps(body).encode()}


def _deep_explanations(spec: ContainerSpec) -> Files:
    return {"explanations.json": b'{"method": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"}


def _long_key_explanations(spec: ContainerSpec) -> Files:
    return {"explanations.json": json.dumps({"method": "x", "k" * 500_000: 1}).encode()}


def _name_not_utf8(spec: ContainerSpec) -> Files:
    return {os.fsdecode(b"notes-\xff.txt"): b"hello"}


HOSTILE_OUTPUTS: dict[str, tuple[Callable[[ContainerSpec], Files], str]] = {
    "200 KB column name": (_long_column, "predictions.csv: line 1 is over"),
    "malformed CSV quoting": (_bad_quoting, "predictions.csv: malformed CSV"),
    "quoted field over many lines": (_quoted_giant_field, "predictions.csv: malformed CSV"),
    "predictions not UTF-8": (_not_utf8, "not UTF-8"),
    "20,000 unexpected rows": (_too_many_rows, "more than"),
    "huge explanations.json": (_with(_huge_explanations), "bytes, over the"),
    "200,000-deep explanations.json": (_with(_deep_explanations), "recursion limit"),
    "500 KB key in explanations.json": (_with(_long_key_explanations), "explanations.json"),
    "output file name not UTF-8": (_with(_name_not_utf8), "not valid UTF-8"),
}


@dataclass
class Host:
    """The edges of a run: a fake container, real MLflow behind the outbox, a signed trail."""

    services: RunServices
    tracker: QueuedTracker
    uri: str
    tmp: Path

    def run(self, pilot: Path, handler: Callable[[ContainerSpec], Files] = benign) -> RunOutcome:
        self.services.runtime.handler = handler  # type: ignore[attr-defined]
        return run_pilot(pilot, self.services)

    def mlflow_run(self, run_id: str | None) -> Any:
        from mlflow.tracking import MlflowClient

        assert run_id is not None and not run_id.startswith(LOCAL_ID_PREFIX), run_id
        return MlflowClient(self.uri).get_run(run_id)

    def kinds(self, run_id: str) -> list[str]:
        return [r.kind for r in iter_records(self.services.trail.path) if r.run_id == run_id]

    def verifies(self) -> bool:
        trail = self.services.trail
        return verify_trail(trail.path, trail.signer.verifier()).ok

    def refused_calls(self) -> list[dict[str, Any]]:
        folder = self.tracker.outbox_dir / REFUSED_DIR
        files = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
        return [json.loads(line) for f in files for line in f.read_text().splitlines()]

    def check_benign_run_is_tracked(self) -> None:
        """A later, benign run: real MLflow id in its signed record, nothing left queued."""
        outcome = self.run(write_pilot(self.tmp / "later-benign"))
        terminal = [
            r for r in iter_records(self.services.trail.path) if r.run_id == outcome.run_id
        ][-1]
        assert terminal.payload["mlflow_run_id"] == outcome.tracker_run_id
        assert self.mlflow_run(outcome.tracker_run_id).info.status == "FINISHED"
        assert self.tracker.pending() == []


@pytest.fixture(scope="module")
def mlflow_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture
def host(tmp_path: Path, mlflow_uri: str) -> Host:
    tracker = QueuedTracker(
        MlflowTracker(mlflow_uri, artifact_root=tmp_path / "artifacts"), tmp_path / "outbox"
    )
    services = RunServices(
        runtime=FakeRuntime(benign),
        tracker=tracker,
        trail=AuditTrail(tmp_path / "audit" / "trail.jsonl", Signer.load_or_create(tmp_path / "k")),
        image="runner:test",
        runs_dir=tmp_path / "runs",
        actor="tester@test",
        tracking_uri=mlflow_uri,
    )
    return Host(services=services, tracker=tracker, uri=mlflow_uri, tmp=tmp_path)


# --- class 4: container output that breaks the host ------------------------------------------


@pytest.mark.parametrize("attack", sorted(HOSTILE_OUTPUTS))
def test_hostile_output_fails_the_run_on_the_record(host: Host, attack: str) -> None:
    handler, reason = HOSTILE_OUTPUTS[attack]
    outcome = host.run(write_pilot(host.tmp / "pilot"), handler)

    assert outcome.verdict.status == "fail" and outcome.exit_code == 3
    rule = {o.rule_id: o for o in outcome.verdict.outcomes}["runtime.outputs-valid"]
    assert rule.outcome == "failed"
    assert reason in rule.message, rule.message
    assert len(rule.message) <= MAX_REASON_CHARS + 40  # bounded evidence, not the payload
    assert host.kinds(outcome.run_id) == ["run.submitted", "run.started", "run.finished"]
    assert {"json", "html", "pdf"} <= set(outcome.reports)
    tracked = host.mlflow_run(outcome.tracker_run_id)
    assert tracked.info.status == "FAILED"
    assert tracked.data.tags["sandbox.verdict"] == "fail"
    assert host.tracker.pending() == [] and host.refused_calls() == []
    assert host.verifies()


# --- class 5: input that breaks the record or the reports ------------------------------------


def _rejected(host: Host, pilot: Path, match: str) -> str:
    with pytest.raises(ManifestError, match=match) as raised:
        host.run(pilot)
    assert raised.value.exit_code == 2
    records = list(iter_records(host.services.trail.path))
    assert [r.kind for r in records] == ["run.rejected"]
    assert host.verifies()
    return str(records[0].payload["pilot_dir"])


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"when": pd.Timestamp("2024-01-01").date()}, r"model\.params: when: a date is not JSON"),
        ({"C": "\ud800"}, r"model\.params\.C: text is not valid UTF-8"),
        ({"grid": [1.0, float("nan")]}, r"grid\[1\]: nan is not a JSON number"),
        ({"class_weight": {0: 1.0, 1: 2.0}}, r"class_weight: keys must be text"),
        ({"deep": [[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}, r"nested deeper than 16"),
    ],
    ids=["date", "lone-surrogate", "nan", "int-keys", "deep"],
)
def test_params_that_are_not_json_data_are_rejected(
    host: Host, params: dict[str, Any], match: str
) -> None:
    manifest = manifest_dict()
    manifest["model"]["params"] = params
    _rejected(host, write_pilot(host.tmp / "pilot", manifest=manifest), match)


def test_a_lone_surrogate_anywhere_in_the_manifest_is_rejected(host: Host) -> None:
    manifest = manifest_dict()
    manifest["pilot"]["purpose"] = "Screen \udc80 residents."
    _rejected(host, write_pilot(host.tmp / "pilot", manifest=manifest), r"pilot\.purpose")


def test_a_folder_name_that_is_not_utf8_is_rejected_with_an_escaped_path(host: Host) -> None:
    pilot = write_pilot(Path(os.fsdecode(bytes(host.tmp) + b"/pilot-\xff")))
    shown = _rejected(host, pilot, r"pilot-\\xff: the folder's path is not valid UTF-8")
    assert shown.endswith("pilot-\\xff")


def test_the_cli_rejects_a_folder_name_that_is_not_utf8_with_exit_2(tmp_path: Path) -> None:
    pilot = write_pilot(Path(os.fsdecode(bytes(tmp_path) + b"/pilot-\xfe")))
    env = {**os.environ, "SANDBOX_HOME": str(tmp_path / "home"), "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run(
        [sys.executable, "-m", "sandbox", "run", pilot],
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert b"Traceback" not in done.stdout + done.stderr
    trail = (tmp_path / "home" / "audit" / "trail.jsonl").read_text(encoding="utf-8")
    record = json.loads(trail.splitlines()[-1])
    assert record["kind"] == "run.rejected"
    assert record["payload"]["pilot_dir"].endswith("pilot-\\xfe")


def test_a_data_path_with_a_dot_part_is_tracked_under_a_valid_key(host: Host) -> None:
    manifest = manifest_dict()
    manifest["data"]["sources"] = [{"path": "data/./x.csv"}]
    pilot = write_pilot(host.tmp / "pilot", manifest=manifest)
    (pilot / "data").mkdir()
    (pilot / "data.csv").rename(pilot / "data" / "x.csv")

    outcome = host.run(pilot)

    tracked = host.mlflow_run(outcome.tracker_run_id)
    assert tracked.info.status == "FINISHED"
    assert tracked.data.tags["sandbox.verdict"] == outcome.verdict.status
    keys = [k for k in tracked.data.tags if k.startswith("sandbox.data_sha256.")]
    assert keys and all("/./" not in k for k in keys)
    assert not outcome.notes, outcome.notes
    assert host.tracker.pending() == [] and host.refused_calls() == []
    host.check_benign_run_is_tracked()


def test_a_4000_character_group_label_leaves_reports_and_tracking_whole(host: Host) -> None:
    frame = make_frame()
    frame["group"] = frame["group"].replace({"c": "L" * 4000})

    outcome = host.run(write_pilot(host.tmp / "pilot", frame=frame))

    assert host.kinds(outcome.run_id)[-1] == "run.finished"
    written = {p.name for p in outcome.reports.values()}
    assert {"report.pdf", "model-card.md", "datasheet.md", "notice.en.md"} <= written
    tracked = host.mlflow_run(outcome.tracker_run_id)
    assert tracked.info.status == "FINISHED"
    assert all(len(k) <= MAX_KEY_LENGTH for k in tracked.data.metrics)
    long = [k for k in tracked.data.metrics if "LLLL" in k]
    assert long and len(set(long)) == len([k for k in long])  # distinct, not collapsed
    assert not outcome.notes, outcome.notes
    assert host.verifies()


def test_over_long_names_and_values_reach_mlflow_valid(host: Host) -> None:
    key = host.tracker.start_run(experiment="attack-values", run_name="r", tags={})
    host.tracker.set_tags(key, {"a//b/../c:d (e)": "v" * 100_000, "nul": "a\x00b\udcff"})
    host.tracker.log_params(key, {"p" * 1000: "x" * 100_000})
    host.tracker.end_run(key, "FINISHED")

    tracked = host.mlflow_run(key)
    assert tracked.info.status == "FINISHED"
    assert all(len(v) <= MAX_TAG_VALUE_LENGTH for v in tracked.data.tags.values())
    assert any(v.endswith("[truncated]") for v in tracked.data.tags.values())
    assert host.tracker.pending() == [] and host.refused_calls() == []


def test_a_refused_call_is_set_aside_not_queued_and_the_tracker_stays_up(host: Host) -> None:
    key = host.tracker.start_run(experiment="attack-refusal", run_name="r", tags={})
    host.tracker.log_params(key, {"p": "1"})
    with pytest.raises(TrackingRefused):
        host.tracker.log_params(key, {"p": "2"})  # MLflow: a param never changes

    assert host.tracker.pending() == []
    assert [c["method"] for c in host.refused_calls()] == ["log_params"]
    host.tracker.end_run(key, "FINISHED")  # the run's later calls still go through
    assert host.mlflow_run(key).info.status == "FINISHED"
    later = host.tracker.start_run(experiment="attack-refusal", run_name="r2", tags={})
    assert not later.startswith(LOCAL_ID_PREFIX)


def test_a_queued_call_mlflow_refuses_is_set_aside_on_delivery(host: Host) -> None:
    key = host.tracker.start_run(experiment="attack-outbox", run_name="r", tags={})
    host.tracker.log_params(key, {"p": "1"})
    outbox = host.tracker.outbox_dir
    outbox.mkdir(parents=True, exist_ok=True)
    # What an earlier version queued when it took a refusal for an outage.
    calls = [
        {"method": "log_params", "args": {"params": {"p": "2"}}},
        {"method": "set_tags", "args": {"tags": {"sandbox.verdict": "pass"}}},
        {"method": "end_run", "args": {"status": "FINISHED"}},
    ]
    (outbox / f"{key}.jsonl").write_text("".join(json.dumps(c) + "\n" for c in calls))

    delivery = host.tracker.deliver_pending()

    assert delivery.pending_runs == () and len(delivery.refused) == 1
    assert host.tracker.pending() == []
    assert host.tracker.deliver_pending().delivered_calls == 0  # never replayed again
    tracked = host.mlflow_run(key)
    assert tracked.info.status == "FINISHED" and tracked.data.tags["sandbox.verdict"] == "pass"
    host.check_benign_run_is_tracked()


def test_a_run_whose_tracking_is_refused_still_ends_with_its_verdict(
    host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sandbox.tracking.mlflow as mlflow_tracker

    # As if names were not made valid: MLflow refuses the `data/./x.csv` tag mid-run.
    monkeypatch.setattr(mlflow_tracker, "clean_tags", lambda tags: dict(tags))
    manifest = manifest_dict()
    manifest["data"]["sources"] = [{"path": "data/./x.csv"}]
    pilot = write_pilot(host.tmp / "pilot", manifest=manifest)
    (pilot / "data").mkdir()
    (pilot / "data.csv").rename(pilot / "data" / "x.csv")

    outcome = host.run(pilot)

    assert outcome.tracker_run_id is not None, outcome.notes  # started: its tags were valid
    assert any("refused, not retried" in note for note in outcome.notes)
    assert host.kinds(outcome.run_id)[-1] in TERMINAL_KINDS
    assert host.mlflow_run(outcome.tracker_run_id).info.status in {"FINISHED", "FAILED"}
    assert host.tracker.pending() == [] and host.refused_calls()
    monkeypatch.undo()
    host.check_benign_run_is_tracked()
