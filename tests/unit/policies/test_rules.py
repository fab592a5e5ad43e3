"""Rule types, impact levels, pack selection, hardening and verdict publishing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import get_args

import numpy as np
import pandas as pd
import pytest
import yaml

from sandbox.errors import PolicyPackError
from sandbox.manifest import ImpactAssessment, PilotManifest
from sandbox.policies.engine import check_stage, decide
from sandbox.policies.hardening import effective_hardening
from sandbox.policies.impact import MITIGATIONS, QUESTIONS, assess
from sandbox.policies.pack import load_pack
from sandbox.policies.rules import RuleContext, run_rule
from sandbox.policies.rules.data import PII_PATTERNS
from sandbox.policies.rules.proxy import proxy_auc
from sandbox.policies.selection import packs_for
from sandbox.policies.verdict import (
    RuleOutcome,
    Verdict,
    verdict_metrics,
    verdict_record,
    verdict_tags,
)
from sandbox.runtime.base import Hardening
from tests.pilots import manifest_dict

BLUEPRINT = Path(__file__).parents[3] / "blueprints" / "benefits-eligibility-screening"


def _manifest(**governance: object) -> PilotManifest:
    return PilotManifest.model_validate(manifest_dict(governance=governance))


# -- impact assessment ----------------------------------------------------------------------


def test_questionnaire_weights_cover_every_manifest_answer() -> None:
    fields = ImpactAssessment.model_fields
    for question in QUESTIONS:
        answers = {a for a in get_args(fields[question.id].annotation) if a is not type(None)}
        literal = next(iter(answers))
        assert set(get_args(literal)) == set(question.weights), question.id
    (mitigations,) = get_args(fields["mitigations"].annotation)[:1]
    assert set(get_args(mitigations)) == set(MITIGATIONS)


@pytest.mark.parametrize(
    ("answers", "level"),
    [
        ({}, None),
        ({"effect_on_residents": "none", "automation": "informational"}, "I"),
        (
            {
                "effect_on_residents": "rights_or_livelihood",
                "reversibility": "irreversible",
                "vulnerable_groups": "primarily",
                "data_sensitivity": "special_category",
                "automation": "full_automation",
                "residents_affected": "city_wide",
            },
            "IV",
        ),
    ],
)
def test_impact_levels(answers: dict[str, object], level: str | None) -> None:
    assert assess(ImpactAssessment.model_validate(answers)).level == level


def test_mitigations_lower_the_level() -> None:
    answers = {
        "effect_on_residents": "access_to_services",
        "reversibility": "reversible_with_effort",
        "vulnerable_groups": "some",
        "data_sensitivity": "special_category",
        "automation": "decision_support",
        "residents_affected": "few",
    }
    raw = assess(ImpactAssessment.model_validate(answers))
    mitigated = assess(
        ImpactAssessment.model_validate({**answers, "mitigations": list(MITIGATIONS)})
    )
    assert (raw.level, mitigated.level) == ("III", "II")
    assert mitigated.mitigated_score == pytest.approx(raw.raw_score * 0.85)
    assert raw.drivers[0][2] >= raw.drivers[-1][2] and raw.complete


def test_the_blueprint_is_level_two_and_selects_its_phase_pack() -> None:
    from sandbox.manifest import load_manifest

    manifest = load_manifest(BLUEPRINT)
    result = assess(manifest.governance.impact_assessment)
    assert result.level == "II" and result.complete
    assert [p.id for p in packs_for(manifest, BLUEPRINT)] == ["baseline", "phase-prototype"]


# -- pack selection and hardening -----------------------------------------------------------


def test_packs_for_adds_high_impact_and_phase_packs() -> None:
    m = manifest_dict()
    m["pilot"]["phase"] = "scale"
    m["governance"] = {
        "impact_assessment": {
            "effect_on_residents": "rights_or_livelihood",
            "reversibility": "irreversible",
            "vulnerable_groups": "primarily",
            "automation": "partial_automation",
        }
    }
    packs = packs_for(PilotManifest.model_validate(m), None)
    assert [p.id for p in packs] == ["baseline", "phase-scale", "high-impact"]


def test_a_city_pack_extending_baseline_replaces_it(tmp_path: Path) -> None:
    city = {"id": "city", "version": "1.0.0", "description": "City.", "extends": "baseline"}
    (tmp_path / "city.yaml").write_text(yaml.safe_dump(city))
    m = manifest_dict(governance={"policy_packs": ["city.yaml"]})
    packs = packs_for(PilotManifest.model_validate(m), tmp_path)
    assert [p.id for p in packs] == ["phase-prototype", "city"]  # the mandatory packs first


def test_packs_for_refuses_the_same_rule_id_in_two_packs(tmp_path: Path) -> None:
    clash = load_pack("baseline").model_dump(include={"version", "description", "rules"})
    (tmp_path / "clash.yaml").write_text(yaml.safe_dump({"id": "clash", **clash}))
    m = manifest_dict(governance={"policy_packs": ["clash.yaml"]})
    with pytest.raises(PolicyPackError, match="defined by both the baseline and the clash pack"):
        packs_for(PilotManifest.model_validate(m), tmp_path)


def test_effective_hardening_only_tightens() -> None:
    baseline = load_pack("baseline")
    loose = Hardening(memory_mb=65536, timeout_s=86400, cpus=4.0)
    granted = effective_hardening([baseline], loose)
    assert (granted.memory_mb, granted.timeout_s, granted.cpus) == (8192, 3600, 4.0)
    strict = Hardening(memory_mb=512, timeout_s=60)
    assert effective_hardening([baseline], strict) == strict


# -- data rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("email", "write to j.doe@example.org today"),
        ("phone", "call 555-846-1018"),
        ("phone", "+44 20 7946 0958"),
        ("national_id", "ssn 123-45-6789"),
        ("national_id", "NINO AB123456C"),
        ("phone", "llame al (555) 846-1018 por favor"),
        ("phone", "cell 555.846.1018"),
        ("phone", "My number is 555-846-1018."),
        ("name", "Hi, my name is Ana Okafor and the light is out"),
        ("name", "MY NAME IS Ana"),
        ("name", "Me llamo Luis Hernández, hay basura"),
        ("name", "mi nombre es Ángela"),
        ("name", "please ask Mrs. Okafor in 3B"),
        ("name", "la Sra Lopez llamó"),
        ("name", "Dr. Chen reported it"),
        ("name", "MY NAME IS DAVID OKAFOR. LIGHTS OUT"),
        ("street_address", "pothole in front of 1420 Oak St."),
        ("street_address", "at 77 W 34th Street near the park"),
        ("street_address", "12B Maple Grove Avenue"),
        ("street_address", "outside 5 Lincoln blvd"),
        ("street_address", "fuga de agua en la calle Olmo 1420"),
        ("street_address", "Avenida Central #88"),
        ("street_address", "NO HAY AGUA EN LA CALLE 34TH 3857"),
    ],
)
def test_pii_patterns_match(kind: str, text: str) -> None:
    assert PII_PATTERNS[kind].search(text)


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-15",
        "3.14159",
        "north",
        "12",
        "1,250.00",
        "A-12",
        "version 555-846-1018.5",  # a decimal tail: not a phone number
        # Free text without personal data: no name cue, no house number before a street type.
        "Street light out on Main St",
        "3 large potholes on the road",
        "Sr Center roof leaking, 2 Dr visits missed",
        "Oak Dr Apt building trash",
        "my name is on the list",
        "missed pickup on the 2nd floor",
        "Route 9 closed",
        "basura en la calle desde hace 3 semanas",
        "Noise - Residential",
        "Dr. appointment",
    ],
)
def test_pii_patterns_leave_ordinary_values_alone(text: str) -> None:
    assert not any(p.search(text) for p in PII_PATTERNS.values())


def test_pii_rule_finds_each_kind_in_free_text_and_names_no_value() -> None:
    from sandbox.policies.rules.data import PiiParams, check_pii_values

    texts = [
        "My name is Ana Okafor, pothole at 1420 Oak St",
        "Me llamo Luis, fuga en la calle Olmo 88, llame al 555-846-1018",
        "write to ana.okafor@example.com",
        "streetlight out near the school",
    ]
    frame = pd.DataFrame({"description": texts})
    table = SimpleNamespace(features=frame, row_ids=pd.Index(range(len(texts))))
    manifest = SimpleNamespace(data=SimpleNamespace(features=("description",)))
    ctx = SimpleNamespace(manifest=manifest, data=SimpleNamespace(table=table))
    finding = check_pii_values(PiiParams(), ctx)  # type: ignore[arg-type]
    assert finding.outcome == "failed"
    counts = {f["pattern"]: f["matches"] for f in finding.evidence["found"]}
    assert counts == {"email": 1, "phone": 1, "name": 2, "street_address": 2}
    assert "Okafor" not in str(finding.evidence) and "Oak" not in str(finding.evidence)


def test_proxy_auc_matches_scikit_learn_and_finds_a_proxy() -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    group = pd.Series(rng.choice(["a", "b"], 2000))
    proxy = pd.Series(np.where(group == "a", 1.0, 2.0) + rng.normal(0, 0.8, 2000))
    noise = pd.Series(rng.normal(size=2000))
    strong = proxy_auc(proxy, group, folds=5, bins=16, seed=0)
    weak = proxy_auc(noise, group, folds=5, bins=16, seed=0)
    assert strong is not None and weak is not None
    assert strong > 0.7 and weak < 0.55
    from sandbox.policies.rules.proxy import _auc

    scores = rng.random(500).round(1)  # ties on purpose
    truth = rng.random(500) < 0.4
    assert _auc(truth, scores) == pytest.approx(roc_auc_score(truth, scores))


def test_the_blueprints_distance_and_district_are_flagged_as_proxies() -> None:
    from sandbox.data.dataset import load_pilot_data
    from sandbox.manifest import load_manifest

    manifest = load_manifest(BLUEPRINT)
    ctx = RuleContext(
        manifest=manifest, hardening=Hardening(), data=load_pilot_data(BLUEPRINT, manifest)
    )
    verdict = decide([load_pack("baseline")], check_stage([load_pack("baseline")], "pre_run", ctx))
    assert verdict.status == "pass_with_warnings"
    (proxy,) = verdict.failures
    flagged = {(p["feature"], p["attribute"]) for p in proxy.evidence["proxies"]}
    assert {
        ("service_district", "race_ethnicity"),
        ("distance_to_office_km", "race_ethnicity"),
    } <= flagged
    assert proxy.severity == "warn" and proxy.evidence["threshold"] == 0.55


# -- fairness decided on the interval ------------------------------------------------------


def _rule(**params: object) -> object:
    pack = load_pack("high-impact")
    rule = next(r for r in pack.rules if r.id == "high-impact.fairness.tpr-difference")
    return rule.model_copy(update={"params": {**rule.params, **params}})


def _ctx(counts: dict[str, tuple[int, int, int, int]]) -> RuleContext:
    from sandbox.evaluation.binary import evaluate_binary

    truth: list[int] = []
    pred: list[int] = []
    groups: list[str] = []
    for group, cells in counts.items():
        for (t, p), n in zip(((0, 0), (0, 1), (1, 0), (1, 1)), cells, strict=True):
            truth += [t] * n
            pred += [p] * n
            groups += [group] * n
    evaluation = evaluate_binary(
        y_true=np.array(truth),
        y_pred=np.array(pred),
        sensitive=pd.DataFrame({"group": groups}),
        n_bootstrap=200,
    )
    return RuleContext(manifest=_manifest(), hardening=Hardening(), evaluation=evaluation)


def test_a_sure_disparity_fails_at_the_rule_severity() -> None:
    outcome = run_rule(_rule(), _ctx({"a": (300, 30, 30, 300), "b": (400, 20, 150, 130)}))  # type: ignore[arg-type]
    assert (outcome.outcome, outcome.severity) == ("failed", "block")
    assert outcome.evidence["ci_low"] > 0.1


def test_an_unsettled_disparity_passes_warns_on_request_and_point_mode_blocks() -> None:
    # TPR 60/70 against 36/50: a gap of 0.14 that the data cannot establish beyond 0.1
    ctx = _ctx({"a": (60, 10, 10, 60), "b": (40, 10, 14, 36)})
    interval = run_rule(_rule(), ctx)  # type: ignore[arg-type]
    warned = run_rule(_rule(inconclusive="warn"), ctx)  # type: ignore[arg-type]
    point = run_rule(_rule(decide_on="point"), ctx)  # type: ignore[arg-type]
    assert interval.outcome == "passed"
    assert "not settled by these data" in interval.message
    assert interval.evidence["ci_low"] <= 0.1 < interval.evidence["value"]
    assert (warned.outcome, warned.severity) == ("failed", "warn")
    assert (point.outcome, point.severity) == ("failed", "block")


def test_a_rate_on_too_few_cases_never_decides() -> None:
    # group b has 15 actual positives: below the minimum of 30, its TPR is shown, not gated
    ctx = _ctx({"a": (60, 10, 10, 60), "b": (22, 3, 5, 10), "c": (0, 0, 0, 0)})
    outcome = run_rule(_rule(), ctx)  # type: ignore[arg-type]
    assert outcome.outcome == "not_applicable"
    assert "at least 30" in outcome.message
    # a group with no actual positives has no TPR at all: not a 1.000 gap
    nobody = _ctx({"a": (60, 10, 10, 60), "b": (70, 10, 0, 0)})
    group_b = nobody.evaluation.attribute_set("group").groups[1]
    assert group_b.metrics["tpr"].value is None
    assert run_rule(_rule(), nobody).outcome == "not_applicable"  # type: ignore[arg-type]
    lowered = run_rule(_rule(min_denominator=10), ctx)  # type: ignore[arg-type]
    assert lowered.evidence["min_denominator"] == 30  # a pack cannot go below the evaluation


def test_bonferroni_counts_every_pair_of_groups_across_attribute_sets() -> None:
    ctx = _ctx({"a": (60, 10, 10, 60), "b": (50, 10, 12, 50), "c": (40, 8, 9, 40)})
    corrected = run_rule(_rule(alpha=0.05, threshold=0.5), ctx)  # type: ignore[arg-type]
    plain = run_rule(_rule(alpha=0.05, threshold=0.5, correction="none"), ctx)  # type: ignore[arg-type]
    assert corrected.evidence["comparisons"] == plain.evidence["comparisons"] == 3
    assert corrected.evidence["confidence"] == plain.evidence["confidence"] == 0.95
    assert corrected.evidence["pair_confidence"] == pytest.approx(1 - 0.05 / 3)
    assert plain.evidence["pair_confidence"] == pytest.approx(0.95)
    wide, narrow = corrected.evidence["checked"][0], plain.evidence["checked"][0]
    assert wide["ci_low"] <= narrow["ci_low"] <= narrow["ci_high"] <= wide["ci_high"]
    from sandbox.evaluation.binary import evaluate_binary

    rng = np.random.default_rng(1)
    sensitive = pd.DataFrame(
        {"group": rng.choice(["a", "b", "c"], 1200), "sex": rng.choice(["f", "m"], 1200)}
    )
    y = rng.integers(0, 2, 1200)
    evaluation = evaluate_binary(y_true=y, y_pred=y, sensitive=sensitive)
    three = run_rule(_rule(alpha=0.05), replace(ctx, evaluation=evaluation))  # type: ignore[arg-type]
    # group: 3 pairs, sex: 1, group & sex: 6 cells, 15 pairs
    assert three.evidence["comparisons"] == 3 + 1 + 15
    assert three.evidence["pair_confidence"] == pytest.approx(1 - 0.05 / 19)


# -- verdicts -------------------------------------------------------------------------------


def _outcome(
    rule_id: str, stage: str, severity: str, outcome: str, **evidence: object
) -> RuleOutcome:
    return RuleOutcome.model_validate(
        {
            "rule_id": rule_id,
            "title": rule_id,
            "stage": stage,
            "severity": severity,
            "outcome": outcome,
            "message": "",
            "evidence": evidence,
        }
    )


def test_a_runtime_rule_blocks_only_before_the_container_starts() -> None:
    failed = [_outcome("isolation.image-allowlist", "runtime", "block", "failed")]
    assert Verdict.decide("p", failed, started=False).status == "blocked"
    assert Verdict.decide("p", failed).status == "fail"


def test_verdict_tags_metrics_and_record() -> None:
    verdict = Verdict.decide(
        "baseline",
        [
            _outcome("a.rule", "pre_run", "block", "passed", value=0.4, threshold=0.55),
            _outcome("b.rule", "post_run", "warn", "failed", value=0.2, ci_low=0.05, ci_high=None),
            _outcome("c.rule", "post_run", "warn", "not_applicable"),
        ],
    )
    assert verdict_tags(verdict) == {
        "governance.verdict": "pass_with_warnings",
        "governance.packs": "baseline",
        "governance.rule.a.rule": "passed",
        "governance.rule.b.rule": "failed",
        "governance.rule.b.rule.severity": "warn",
        "governance.rule.c.rule": "not_applicable",
    }
    assert verdict_metrics(verdict) == {
        "governance.rules_failed": 1.0,
        "governance.blocking_failures": 0.0,
        "governance.warnings": 1.0,
        "governance.rule.a.rule.passed": 1.0,
        "governance.rule.a.rule.value": 0.4,
        "governance.rule.a.rule.threshold": 0.55,
        "governance.rule.b.rule.passed": 0.0,
        "governance.rule.b.rule.value": 0.2,
        "governance.rule.b.rule.ci_low": 0.05,
    }
    record = verdict_record(verdict)
    assert record["rules"]["b.rule"] == "failed:warn" and record["sha256"].startswith("sha256:")
    changed = verdict.model_copy(update={"outcomes": verdict.outcomes[:2]})
    assert verdict_record(changed)["sha256"] != record["sha256"]
