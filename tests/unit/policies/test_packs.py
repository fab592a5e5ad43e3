from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.errors import PolicyPackError
from sandbox.evaluation.binary import evaluate_binary
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
    breached = {b["attribute_set"]: b for b in tpr.evidence["breaches"]}
    assert {"group", "group & sex"} <= set(breached)  # the worst first, with its interval
    assert tpr.evidence["value"] == tpr.evidence["breaches"][0]["value"]
    assert breached["group"]["ci_low"] is not None
    # Bonferroni over every pair of groups in the three attribute sets (group, sex, group & sex)
    m = tpr.evidence["comparisons"]
    assert m == sum(
        r["groups_compared"] * (r["groups_compared"] - 1) // 2 for r in tpr.evidence["checked"]
    )
    assert tpr.evidence["pair_confidence"] == pytest.approx(1 - 0.05 / m)


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
        ({"params": {"metric": "accuracy", "threshold": 1, "colour": 1}}, "params.colour"),
        ({"stage": "pre_run"}, "stage: a performance_floor rule needs the evaluation"),
        ({"severity": "fatal"}, "rules[0] (perf.floor): severity: Input should be"),
        ({"stage": "later"}, "rules[0] (perf.floor): stage: Input should be"),
        ({"min_impact_level": "V"}, "rules[0] (perf.floor): min_impact_level"),
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
    with pytest.raises(PolicyPackError, match="no such pack file, nor a built-in or city pack"):
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


def _extending(tmp_path: Path, rules: list[dict[str, object]], **extra: object) -> Path:
    return _write_pack(
        tmp_path,
        {
            "id": "city-pack",
            "version": "1.0.0",
            "description": "A city pack.",
            "extends": "baseline",
            "rules": rules,
            **extra,
        },
    )


def test_extends_inherits_overrides_and_adds(tmp_path: Path) -> None:
    path = _extending(
        tmp_path,
        [
            {"id": "fairness.four-fifths", "severity": "block", "params": {"min_ratio": 0.9}},
            {"id": "isolation.hardening", "params": {"max_memory_mb": 1024}},
            _pack()["rules"][0],  # type: ignore[index]
        ],
    )
    pack = load_pack(str(path))
    rules = {rule.id: rule for rule in pack.rules}
    assert pack.lineage == ("baseline",)
    assert [r.id for r in pack.rules][: len(BASELINE.rules)] == [r.id for r in BASELINE.rules]
    assert rules["fairness.four-fifths"].severity == "block"
    assert rules["fairness.four-fifths"].params == {"min_ratio": 0.9}
    # params merge key by key: the inherited timeout ceiling stays
    assert rules["isolation.hardening"].params == {"max_memory_mb": 1024, "max_timeout_s": 3600}
    assert "perf.floor" in rules
    assert pack.sha256 != BASELINE.sha256


@pytest.mark.parametrize(
    ("rules", "extra", "expected"),
    [
        (
            [{"id": "isolation.hardening", "severity": "warn"}],
            {},
            "rules[0] (isolation.hardening): severity: lowered from block to warn",
        ),
        (
            [{"id": "fairness.four-fifths", "type": "performance_floor"}],
            {},
            "rules[0] (fairness.four-fifths): type: may not change",
        ),
        ([], {"extends": "no-such-pack"}, "extends: 'no-such-pack' is neither a built-in pack"),
        ([], {"extends": 7}, "extends: expected a built-in or city pack name"),
        ([{"id": "x", "title": "no type"}], {}, "rules[0] (x): type: Field required"),
        (["not a mapping"], {}, "rules[0]: expected a mapping"),
        (
            [{"id": "fairness.four-fifths", "params": {"min_ratio": 7}}],
            {},
            "rules[0] (fairness.four-fifths): params.min_ratio",
        ),
    ],
)
def test_bad_extension_names_file_rule_and_field(
    tmp_path: Path, rules: list[dict[str, object]], extra: dict[str, object], expected: str
) -> None:
    path = _extending(tmp_path, rules, **extra)
    with pytest.raises(PolicyPackError) as info:
        load_pack(str(path))
    assert str(path) in str(info.value) and expected in str(info.value)


def test_extends_loop_is_an_error(tmp_path: Path) -> None:
    a = _pack(id="a", extends="b.yaml")
    b = _pack(id="b", extends="a.yaml")
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(a))
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(b))
    with pytest.raises(PolicyPackError, match="extends: the packs extend each other in a loop"):
        load_pack(str(tmp_path / "a.yaml"))


def test_unknown_manifest_field_in_documentation_rule(tmp_path: Path) -> None:
    rule = {
        "id": "docs",
        "type": "documentation_required",
        "title": "Docs",
        "stage": "pre_run",
        "severity": "warn",
        "rationale": "Because.",
        "params": {"fields": ["governance.oversight"]},
    }
    path = _write_pack(tmp_path, _pack(rules=[rule]))
    with pytest.raises(PolicyPackError, match=r"rules\[0\] \(docs\): params.fields: 'governance"):
        load_pack(str(path))


def test_pack_schema_is_published() -> None:
    from sandbox.policies.pack import pack_json_schema

    schema = pack_json_schema()
    assert "extends" in schema["properties"] and "sha256" not in schema["properties"]
    assert "min_impact_level" in schema["$defs"]["Rule"]["properties"]


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20)
)
_keys = st.sampled_from(
    [
        "id",
        "version",
        "description",
        "rules",
        "extends",
        "type",
        "title",
        "stage",
        "severity",
        "params",
        "rationale",
        "references",
        "min_impact_level",
        "metric",
        "threshold",
        "fields",
    ]
)
_documents = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(_keys, st.text(max_size=8)), inner, max_size=6),
    ),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(_documents)
def test_random_yaml_documents_never_crash_the_pack_loader(
    tmp_path_factory: pytest.TempPathFactory, document: object
) -> None:
    path = tmp_path_factory.mktemp("pack") / "pack.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(PolicyPackError):
        load_pack(str(path))


_rule_ids = st.sampled_from([r.id for r in BASELINE.rules] + ["new.rule"])


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["id", "type", "severity", "stage", "params", "title"]),
            st.one_of(_rule_ids, _scalars, st.dictionaries(st.text(max_size=6), _scalars)),
            max_size=5,
        ),
        max_size=4,
    )
)
def test_random_overrides_of_baseline_load_or_fail_cleanly(
    tmp_path_factory: pytest.TempPathFactory, rules: list[dict[str, object]]
) -> None:
    path = _extending(tmp_path_factory.mktemp("pack"), rules)
    try:
        pack = load_pack(str(path))
    except PolicyPackError as exc:
        assert str(path) in str(exc)
    else:
        assert {r.id for r in BASELINE.rules} <= {r.id for r in pack.rules}
