"""A task type added from this module alone runs end to end: manifest, data, the container
wall, predictions, evaluation, policy verdict, reports, tracking and the trail.

The toy task predicts a small count (visits per household); its metrics are the share of
exact predictions and the mean absolute error, per group and overall.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pytest
from pydantic import Field

from sandbox.audit.signing import Signer
from sandbox.audit.trail import AuditTrail, iter_records, verify_trail
from sandbox.errors import DataError, ManifestError, OutputRejected
from sandbox.evaluation.fairness import between_groups, partition
from sandbox.evaluation.result import (
    AttributeSetResult,
    Disparity,
    Evaluation,
    GroupResult,
    attribute_sets,
    estimate,
    extreme_group,
    slug,
)
from sandbox.evaluation.vocabulary import MetricSpec, Vocabulary
from sandbox.manifest import load_manifest, manifest_json_schema
from sandbox.runs.pilot_run import RunServices, run_pilot
from sandbox.runtime.base import ContainerSpec
from sandbox.runtime.fake import FakeRuntime
from sandbox.tasks import (
    EvaluationSettings,
    Outcomes,
    PredictionSchema,
    TaskConfig,
    get_task,
    register_task,
    unregister_task,
)
from sandbox.tracking.memory import InMemoryTracker
from tests.pilots import make_frame, manifest_dict, write_pilot

TOY = "toy_count"


class ToyConfig(TaskConfig):
    """The toy task's manifest section: counts from 0 to `max_count`."""

    type: Literal["toy_count"] = Field(description="Predict a small count.")
    max_count: int = Field(default=10, ge=1)


class ToyCount:
    """Predict a count; exact-match rate and mean absolute error, per group."""

    name = TOY
    config: type[TaskConfig] = ToyConfig
    vocabulary = Vocabulary(
        performance=(
            MetricSpec("exact_rate", "Share predicted exactly"),
            MetricSpec("mean_abs_error", "Mean absolute error", greater_is_better=False),
        ),
        group=(
            MetricSpec("exact_rate", "Share predicted exactly"),
            MetricSpec("mean_abs_error", "Mean absolute error", greater_is_better=False),
        ),
    )
    predictions = PredictionSchema()
    sample_cells: Mapping[str, tuple[Any, Any]] = {}

    def encode_labels(
        self, values: pd.Series, config: TaskConfig, *, column: str, source: str, manifest: str
    ) -> np.ndarray:
        counts = pd.to_numeric(values, errors="coerce")
        top = getattr(config, "max_count", 10)
        if counts.isna().any() or not counts.between(0, top).all():
            raise DataError(f"{source}: column {column!r} must hold counts from 0 to {top}")
        return counts.to_numpy(dtype=np.int64)

    def encode_supplied(
        self, values: pd.Series, *, column: str, source: str, positive: str | None
    ) -> np.ndarray:
        return pd.to_numeric(values).to_numpy(dtype=np.int64)

    def harness_outputs(self, config: TaskConfig) -> dict[str, Any]:
        return {"prediction": "number", "score": None, "scoring": "neg_mean_absolute_error"}

    def parse_predictions(self, frame: pd.DataFrame, *, source: str) -> pd.DataFrame:
        counts = pd.to_numeric(frame["prediction"], errors="coerce")
        if counts.isna().any():
            raise OutputRejected(f"{source}: prediction must be a count")
        return pd.DataFrame({"row_id": frame["row_id"], "prediction": counts.astype("int64")})

    def evaluate(self, outcomes: Outcomes, settings: EvaluationSettings) -> Evaluation:
        error = np.abs(outcomes.labels - outcomes.predictions).astype(np.float64)
        sets = []
        for names in attribute_sets(list(outcomes.groups.columns)):
            groups = partition(outcomes.groups, names)
            sizes = np.bincount(groups.codes, minlength=groups.n_groups)
            values = {
                "exact_rate": np.bincount(groups.codes, error == 0, groups.n_groups) / sizes,
                "mean_abs_error": np.bincount(groups.codes, error, groups.n_groups) / sizes,
            }
            labels = [" & ".join(key) for key in groups.keys]
            results = tuple(
                GroupResult(
                    label=label,
                    values=dict(zip(names, key, strict=True)),
                    count=int(sizes[g]),
                    small=int(sizes[g]) < settings.min_group_size,
                    metrics={m: estimate(v[g], np.nan, np.nan) for m, v in values.items()},
                )
                for g, (key, label) in enumerate(zip(groups.keys, labels, strict=True))
            )
            disparities = {}
            for metric, v in values.items():
                difference, ratio = between_groups(v)
                disparities[metric] = Disparity(
                    metric=metric,
                    difference=estimate(difference, np.nan, np.nan),
                    ratio=estimate(ratio, np.nan, np.nan),
                    highest_group=extreme_group(v, labels, highest=True),
                    lowest_group=extreme_group(v, labels, highest=False),
                )
            sets.append(
                AttributeSetResult(
                    name=" & ".join(names),
                    key="__".join(slug(n) for n in names),
                    attributes=names,
                    groups=results,
                    disparities=disparities,
                )
            )
        return Evaluation(
            task=TOY,
            rows=len(error),
            performance={
                "exact_rate": float(np.mean(error == 0)),
                "mean_abs_error": float(np.mean(error)),
            },
            attribute_sets=tuple(sets),
            min_group_size=settings.min_group_size,
            n_bootstrap=0,
            confidence=settings.confidence,
            seed=settings.seed,
        )

    def disparity_interval(
        self,
        groups: tuple[Any, ...],
        metric: str,
        measure: str,
        *,
        confidence: float,
        n_bootstrap: int,
        seed: int,
    ) -> tuple[float | None, float | None]:
        return None, None  # the toy task computes no intervals


@pytest.fixture
def toy() -> Iterator[ToyCount]:
    task = register_task(ToyCount())
    yield task
    unregister_task(TOY)


def predict_visits(spec: ContainerSpec) -> dict[str, bytes]:
    """A stand-in model: reads what crossed the wall and predicts visits from household size."""
    written = json.loads((spec.input_dir / "spec.json").read_text())
    assert written["outputs"]["prediction"] == "number"  # the harness learns it from the spec
    score = pd.read_parquet(spec.input_dir / "score.parquet")
    assert set(score.columns) == {"row_id", "income", "household_size"}
    out = pd.DataFrame({"row_id": score["row_id"], "prediction": score["household_size"] - 1})
    return {"predictions.csv": out.to_csv(index=False).encode()}


def _toy_pilot(folder: Path) -> Path:
    frame = make_frame()
    rng = np.random.default_rng(1)
    frame["visits"] = (frame["household_size"] - 1 + rng.integers(0, 2, len(frame))).clip(0, 10)
    manifest = manifest_dict(task={"type": TOY, "max_count": 10})
    manifest["data"]["label"] = "visits"
    return write_pilot(folder, manifest=manifest, frame=frame.drop(columns=["eligible"]))


def test_an_unregistered_task_type_names_the_known_ones(tmp_path: Path) -> None:
    pilot = _toy_pilot(tmp_path / "pilot")
    with pytest.raises(ManifestError) as info:
        load_manifest(pilot)
    message = str(info.value)
    assert "task.type: unknown task type 'toy_count'" in message
    assert "binary_classification" in message


def test_a_toy_task_runs_end_to_end_against_fakes(tmp_path: Path, toy: ToyCount) -> None:
    assert get_task(TOY) is toy
    schema = manifest_json_schema()
    assert TOY in schema["properties"]["task"]["discriminator"]["mapping"]
    pilot = _toy_pilot(tmp_path / "pilot")
    assert load_manifest(pilot).task == ToyConfig(type=TOY, max_count=10)

    signer = Signer.load_or_create(tmp_path / "keys" / "key.pem")
    services = RunServices(
        runtime=FakeRuntime(predict_visits),
        tracker=InMemoryTracker(),
        trail=AuditTrail(tmp_path / "audit" / "trail.jsonl", signer),
        image="runner:test",
        runs_dir=tmp_path / "runs",
        actor="tester@test",
        tracking_uri="memory://",
    )
    outcome = run_pilot(pilot, services, out_dir=tmp_path / "out")

    assert outcome.verdict.status in ("pass", "pass_with_warnings", "fail")
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    evaluation = report["evaluation"]
    assert evaluation["task"] == TOY
    assert set(evaluation["performance"]) == {"exact_rate", "mean_abs_error"}
    sex = next(s for s in evaluation["attribute_sets"] if s["name"] == "sex")
    assert set(sex["disparities"]) == {"exact_rate", "mean_abs_error"}
    assert sex["four_fifths"] is None and evaluation["counts"] is None
    assert report["verdict"]["status"] == outcome.verdict.status
    html = (tmp_path / "out" / "report.html").read_text()
    assert "Mean absolute error" in html
    kinds = [r.kind for r in iter_records(services.trail.path)]
    assert kinds[0] == "run.submitted" and kinds[-1] == "run.finished"
    assert verify_trail(services.trail.path, signer.verifier()).ok
    tracked = services.tracker.runs[outcome.tracker_run_id]  # type: ignore[attr-defined,index]
    assert "perf.mean_abs_error" in tracked.metrics
