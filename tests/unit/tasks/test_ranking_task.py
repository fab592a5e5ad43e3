"""The ranking task type: top-k selection, its numbers against fairlearn, and the real pipeline.

A top-k pilot whose list finds positives well above the base rate passes the baseline pack; one
whose list is random fails it (the lift rule replaces the balanced-accuracy floor for ranking).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, selection_rate
from sklearn.metrics import precision_score, recall_score

from sandbox.audit.signing import Signer
from sandbox.audit.trail import AuditTrail
from sandbox.errors import ManifestError
from sandbox.evaluation.ranking import evaluate_ranking, lift_interval, top_k
from sandbox.manifest import load_manifest, manifest_json_schema
from sandbox.runs.pilot_run import RunServices, run_pilot
from sandbox.runtime.base import ContainerSpec
from sandbox.runtime.fake import FakeRuntime
from sandbox.tasks import get_task
from sandbox.tasks.ranking import Budget, RankingConfig
from sandbox.tracking.memory import InMemoryTracker
from tests.pilots import make_frame, manifest_dict, write_pilot


def test_top_k_breaks_ties_by_input_order() -> None:
    scores = np.array([0.5, 0.9, 0.5, 0.5, 0.1])
    assert top_k(scores, 2).tolist() == [True, True, False, False, False]
    assert top_k(scores, 3).tolist() == [True, True, True, False, False]
    assert top_k(scores, 9).all()


def test_budget_is_k_or_a_fraction_rounded_down() -> None:
    assert Budget(k=5).rows(100) == 5
    assert Budget(fraction=0.1).rows(1234) == 123
    assert Budget(fraction=0.3).rows(10) == 3  # 0.3 x 10 is 3, not 2.9999
    assert Budget(fraction=0.01).rows(20) == 1
    with pytest.raises(ValueError, match="exactly one"):
        Budget(k=5, fraction=0.1)
    with pytest.raises(ValueError, match="exactly one"):
        Budget()


@pytest.mark.parametrize("seed", range(4))
def test_group_numbers_equal_fairlearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = 900
    groups = pd.DataFrame(
        {"area": rng.choice(["n", "s", "e", "w"], rows), "sex": rng.choice(["f", "m"], rows)}
    )
    truth = (rng.random(rows) < 0.25).astype(int)
    scores = np.round(truth * 0.3 + rng.random(rows), 2)  # rounded: ties at the cut-off
    k = int(rng.integers(40, 300))
    evaluation = evaluate_ranking(
        y_true=truth, y_score=scores, sensitive=groups, k=k, budget=f"k = {k}"
    )
    selected = top_k(scores, k).astype(int)
    assert selected.sum() == k
    for result in evaluation.attribute_sets:
        frame = MetricFrame(
            metrics={
                "selection_rate_at_k": selection_rate,
                "recall_at_k": lambda t, p: recall_score(t, p, zero_division=0),
                "precision_at_k": lambda t, p: precision_score(t, p, zero_division=0),
            },
            y_true=truth,
            y_pred=selected,
            sensitive_features=groups[list(result.attributes)],
        )
        by_group = frame.by_group
        for group in result.groups:
            key = tuple(group.values[a] for a in result.attributes)
            row = by_group.loc[key if len(key) > 1 else key[0]]
            for metric in ("selection_rate_at_k", "recall_at_k", "precision_at_k"):
                rate = group.metrics[metric]
                assert rate.undefined or rate.value == row[metric], (metric, key)
            here = (groups[list(result.attributes)] == pd.Series(key, index=result.attributes)).all(
                axis=1
            )
            selected_here = int(selected[here.to_numpy()].sum())
            assert group.metrics["selection_share"].value == selected_here / k
            assert group.metrics["population_share"].value == group.count / rows
        if not any(g.metrics["recall_at_k"].undefined for g in result.groups):
            assert result.disparities["recall_at_k"].difference.value == pytest.approx(
                frame.difference()["recall_at_k"], abs=1e-15
            )
            assert result.disparities["selection_rate_at_k"].ratio.value == pytest.approx(
                frame.ratio()["selection_rate_at_k"], abs=1e-15
            )
    top = evaluation.top_k
    assert top is not None
    assert [p.label for p in top.curve] == ["k/2", "k", "2k"]
    at_k = top.at("k")
    assert at_k.precision == precision_score(truth, selected)
    assert evaluation.performance["recall_at_k"] == recall_score(truth, selected)
    assert evaluation.performance["lift_at_k"] == pytest.approx(at_k.precision / truth.mean())


def test_lift_interval_contains_the_estimate_and_is_one_when_everyone_is_selected() -> None:
    lift, low, high = lift_interval(
        [10, 20, 0, 5, 30], [100] * 4 + [300], [200] * 3 + [5, 30], [1000] * 4 + [300], 0.95
    )
    assert np.all(low <= lift) and np.all(lift <= high)
    assert lift[3] == high[3] == 10.0  # every positive in the list: lift is 1 / (k / rows)
    assert lift[4] == low[4] == high[4] == 1.0
    assert lift[2] == low[2] == 0.0


def test_ties_at_the_cut_off_are_reported() -> None:
    groups = pd.DataFrame({"area": ["a", "b"] * 50})
    truth = np.array([1, 0, 0, 0] * 25)
    evaluation = evaluate_ranking(
        y_true=truth, y_score=np.zeros(100), sensitive=groups, k=10, budget="k = 10"
    )
    assert evaluation.top_k is not None and evaluation.top_k.tied_at_cutoff == 100
    assert any("ties at the cut-off" in w for w in evaluation.warnings)


def _frame(rows: int = 3000, seed: int = 5) -> pd.DataFrame:
    frame = make_frame(rows=rows, seed=seed)
    rng = np.random.default_rng(seed)
    risk = 1 / (1 + np.exp(-(-2.6 + 0.8 * (frame["household_size"] - 1))))
    frame["eligible"] = np.where(rng.random(rows) < risk, "violation", "none")
    return frame


def _pilot(folder: Path, budget: dict[str, float]) -> Path:
    manifest = manifest_dict(
        task={"type": "ranking", "positive_label": "violation", "budget": budget}
    )
    return write_pilot(folder, manifest=manifest, frame=_frame())


def _scorer(good: bool):  # type: ignore[no-untyped-def]
    def predict(spec: ContainerSpec) -> dict[str, bytes]:
        written = json.loads((spec.input_dir / "spec.json").read_text())
        assert written["outputs"]["prediction"] == "score"
        score = pd.read_parquet(spec.input_dir / "score.parquet")
        rng = np.random.default_rng(11)
        values = (
            score["household_size"] + rng.random(len(score)) if good else rng.random(len(score))
        )
        out = pd.DataFrame({"row_id": score["row_id"], "prediction": values})
        return {"predictions.csv": out.to_csv(index=False).encode()}

    return predict


def _services(tmp_path: Path, good: bool) -> RunServices:
    signer = Signer.load_or_create(tmp_path / "keys" / "key.pem")
    return RunServices(
        runtime=FakeRuntime(_scorer(good)),
        tracker=InMemoryTracker(),
        trail=AuditTrail(tmp_path / "audit" / "trail.jsonl", signer),
        image="runner:test",
        runs_dir=tmp_path / "runs",
        actor="tester@test",
        tracking_uri="memory://",
    )


def test_the_manifest_takes_a_ranking_section(tmp_path: Path) -> None:
    pilot = _pilot(tmp_path / "pilot", {"fraction": 0.1})
    task = load_manifest(pilot).task
    assert isinstance(task, RankingConfig) and task.budget == Budget(fraction=0.1)
    assert "ranking" in manifest_json_schema()["properties"]["task"]["discriminator"]["mapping"]
    bad = manifest_dict(
        task={"type": "ranking", "positive_label": "violation", "budget": {"k": 5, "fraction": 0.1}}
    )
    with pytest.raises(ManifestError, match=r"task\.budget.*exactly one"):
        load_manifest(write_pilot(tmp_path / "bad", manifest=bad, frame=_frame()))


def test_a_list_well_above_the_base_rate_passes_baseline(tmp_path: Path) -> None:
    services = _services(tmp_path, good=True)
    outcome = run_pilot(
        _pilot(tmp_path / "pilot", {"fraction": 0.1}), services, out_dir=tmp_path / "out"
    )
    assert outcome.verdict.status in ("pass", "pass_with_warnings")
    by_id = {o.rule_id: o for o in outcome.verdict.outcomes}
    assert by_id["performance.top-k-lift"].outcome == "passed"
    assert by_id["performance.balanced-accuracy-floor"].outcome == "not_applicable"
    assert by_id["fairness.top-k-selection-rate-ratio"].outcome != "not_applicable"
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    evaluation = report["evaluation"]
    assert evaluation["task"] == "ranking"
    assert evaluation["top_k"]["k"] == 90  # 10% of the 900 evaluation rows
    assert evaluation["performance"]["lift_at_k"] > 1.5
    html = (tmp_path / "out" / "report.html").read_text()
    assert "Top-k list" in html and "stable sort" in html
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert "Top-k list" in markdown
    tracked = services.tracker.runs[outcome.tracker_run_id]  # type: ignore[attr-defined,index]
    assert "perf.lift_at_k" in tracked.metrics
    assert get_task("ranking").vocabulary.display("recall_at_k") in html


def test_a_random_list_fails_baseline(tmp_path: Path) -> None:
    services = _services(tmp_path, good=False)
    outcome = run_pilot(_pilot(tmp_path / "pilot", {"k": 90}), services, out_dir=tmp_path / "out")
    assert outcome.verdict.status == "fail"
    failed = {o.rule_id for o in outcome.verdict.failures}
    assert "performance.top-k-lift" in failed


def test_scores_that_are_not_finite_numbers_are_refused() -> None:
    from sandbox.errors import OutputRejected

    frame = pd.DataFrame({"row_id": ["1", "2", "3"], "prediction": ["0.5", "inf", "high"]})
    with pytest.raises(OutputRejected, match=r"finite numbers.*2 data rows.*'inf', 'high'"):
        get_task("ranking").parse_predictions(frame, source="predictions.csv")
