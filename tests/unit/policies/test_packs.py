from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.audit.evaluation import evaluate_binary
from sandbox.errors import PolicyPackError
from sandbox.manifest import PilotManifest
from sandbox.policies.engine import check_stage, decide
from sandbox.policies.pack import builtin_pack_names, load_pack
from sandbox.policies.rules import RULE_TYPES, RuleContext
from sandbox.runtime.base import Hardening
from tests.pilots import make_frame, manifest_dict

BASELINE = load_pack("baseline")


def _manifest(**data: object) -> PilotManifest:
    m = manifest_dict()
    m["data"].update(data)
    return PilotManifest.model_validate(m)


def test_builtin_packs_load() -> None:
    assert "baseline" in builtin_pack_names()
    for name in builtin_pack_names():
        pack = load_pack(name)
        assert pack.sha256.startswith("sha256:")
        assert {rule.type for rule in pack.rules} <= set(RULE_TYPES)


def test_pre_run_passes_for_a_clean_pilot() -> None:
    ctx = RuleContext(manifest=_manifest(), hardening=Hardening())
    verdict = decide([BASELINE], check_stage([BASELINE], "pre_run", ctx))
    assert verdict.status == "pass"


@pytest.mark.parametrize("column", ["sex", "email"])
def test_protected_feature_blocks(column: str) -> None:
    ctx = RuleContext(manifest=_manifest(features=["income", column]), hardening=Hardening())
    verdict = decide([BASELINE], check_stage([BASELINE], "pre_run", ctx))
    assert verdict.status == "blocked"
    (failure,) = verdict.failures
    assert failure.rule_id == "data.no-protected-features"
    assert column in str(failure.evidence["offending"])


def test_hardening_ceiling_blocks() -> None:
    ctx = RuleContext(manifest=_manifest(), hardening=Hardening(memory_mb=16384))
    verdict = decide([BASELINE], check_stage([BASELINE], "pre_run", ctx))
    assert verdict.status == "blocked"
    assert "memory_mb 16384 exceeds" in verdict.failures[0].message


def _evaluation(shift: float):  # type: ignore[no-untyped-def]
    frame = make_frame(rows=2000, seed=1)
    y = (frame["eligible"] == "yes").to_numpy().astype(int)
    y_pred = y.copy()
    # Flip a share of group c's positives to negatives: a disparity in TPR and selection rate.
    flip = (frame["group"] == "c").to_numpy() & (y == 1)
    y_pred[flip & (frame.index.to_numpy() % 100 < shift * 100)] = 0
    return evaluate_binary(
        y_true=y, y_pred=y_pred, sensitive=frame[["group", "sex"]], n_bootstrap=50, seed=0
    )


def test_post_run_fairness_rules_follow_the_data() -> None:
    fair = RuleContext(manifest=_manifest(), hardening=Hardening(), evaluation=_evaluation(0.0))
    unfair = RuleContext(manifest=_manifest(), hardening=Hardening(), evaluation=_evaluation(0.9))
    fair_verdict = decide([BASELINE], check_stage([BASELINE], "post_run", fair))
    unfair_verdict = decide([BASELINE], check_stage([BASELINE], "post_run", unfair))
    # Perfect predictions: every group's TPR is 1, whatever its base rate.
    assert "fairness.tpr-difference" not in {o.rule_id for o in fair_verdict.failures}
    assert unfair_verdict.status == "pass_with_warnings"  # the baseline only warns on fairness
    failed = {o.rule_id for o in unfair_verdict.failures}
    assert {"fairness.tpr-difference", "fairness.four-fifths"} <= failed
    tpr = next(o for o in unfair_verdict.outcomes if o.rule_id == "fairness.tpr-difference")
    assert tpr.evidence["breaches"][0]["attribute_set"] == "group"
    assert tpr.evidence["breaches"][0]["ci_low"] is not None


def _write_pack(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "pack.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _pack(**overrides: object) -> dict[str, object]:
    pack: dict[str, object] = {
        "id": "city-pack",
        "version": "1.0.0",
        "description": "A city's own rules.",
        "rules": [
            {
                "id": "perf.floor",
                "type": "performance_floor",
                "title": "Floor",
                "stage": "post_run",
                "severity": "block",
                "rationale": "Because.",
                "params": {"metric": "roc_auc", "threshold": 0.7},
            }
        ],
    }
    pack.update(overrides)
    return pack


def test_city_pack_loads(tmp_path: Path) -> None:
    assert load_pack(str(_write_pack(tmp_path, _pack()))).id == "city-pack"


@pytest.mark.parametrize(
    ("rule_change", "expected"),
    [
        ({"type": "crystal_ball"}, "rules[0] (perf.floor): type: unknown rule type 'crystal_ball'"),
        (
            {"params": {"metric": "roc_auc"}},
            "rules[0] (perf.floor): params.threshold: Field required",
        ),
        ({"params": {"metric": "x", "threshold": 1, "colour": 1}}, "params.colour"),
        ({"stage": "pre_run"}, "stage: a performance_floor rule needs the evaluation"),
        ({"severity": "fatal"}, "rules[0].severity"),
    ],
)
def test_malformed_rules_name_file_rule_and_field(
    tmp_path: Path, rule_change: dict[str, object], expected: str
) -> None:
    pack = _pack()
    pack["rules"][0].update(rule_change)  # type: ignore[index]
    path = _write_pack(tmp_path, pack)
    with pytest.raises(PolicyPackError) as info:
        load_pack(str(path))
    assert str(path) in str(info.value) and expected in str(info.value)


def test_unknown_pack_name() -> None:
    with pytest.raises(PolicyPackError, match="neither built in"):
        load_pack("no-such-pack")


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash_the_pack_loader(
    tmp_path_factory: pytest.TempPathFactory, raw: bytes
) -> None:
    path = tmp_path_factory.mktemp("pack") / "pack.yaml"
    path.write_bytes(raw)
    with pytest.raises(PolicyPackError):
        load_pack(str(path))
