"""The tighten-only comparison: every listed parameter exists, and each direction holds."""

from __future__ import annotations

import pytest

from sandbox.policies.pack import load_pack
from sandbox.policies.rule import Rule
from sandbox.policies.rules import RULE_TYPES
from sandbox.policies.tightening import PARAM_DIRECTIONS, weakenings

BASELINE = {rule.id: rule for rule in load_pack("baseline").rules}


def test_every_listed_parameter_belongs_to_its_rule_type() -> None:
    for rule_type, param in PARAM_DIRECTIONS:
        assert param in RULE_TYPES[rule_type].params.model_fields, (rule_type, param)


def _changed(rule_id: str, **changes: object) -> Rule:
    rule = BASELINE[rule_id]
    data = rule.model_dump()
    params = changes.pop("params", {})
    return Rule.model_validate({**data, **changes, "params": {**rule.params, **params}})


@pytest.mark.parametrize(
    ("rule_id", "changes"),
    [
        ("data.proxy-features", {"severity": "block"}),
        ("data.proxy-features", {"params": {"max_auc": 0.55}}),
        ("performance.balanced-accuracy-floor", {"params": {"threshold": 0.9}}),
        ("fairness.tpr-difference", {"params": {"threshold": 0.01}}),
        ("fairness.four-fifths", {"params": {"min_ratio": 0.95}}),
        ("isolation.hardening", {"params": {"max_memory_mb": 512, "max_timeout_s": 60}}),
        ("data.no-pii-values", {"references": [*BASELINE["data.no-pii-values"].references, "x"]}),
    ],
)
def test_tightening_is_not_a_weakening(rule_id: str, changes: dict[str, object]) -> None:
    assert weakenings(BASELINE[rule_id], _changed(rule_id, **changes)) == []


@pytest.mark.parametrize(
    ("rule_id", "changes", "field"),
    [
        ("data.proxy-features", {"severity": "info"}, "severity"),
        ("data.proxy-features", {"params": {"max_auc": 0.9}}, "params.max_auc"),
        ("data.proxy-features", {"params": {"max_auc": None}}, "params.max_auc"),
        ("data.proxy-features", {"params": {"max_auc": "0.5"}}, "params.max_auc"),
        ("data.proxy-features", {"min_impact_level": "III"}, "min_impact_level"),
        ("data.proxy-features", {"params": {"seed": 99}}, "params.seed"),
        ("isolation.hardening", {"params": {"max_timeout_s": 7200}}, "params.max_timeout_s"),
        ("data.no-pii-values", {"references": []}, "references"),
        ("data.no-pii-values", {"stage": "runtime"}, "stage"),
        ("data.no-pii-values", {"rationale": "None needed."}, "rationale"),
    ],
)
def test_weakening_names_the_field(rule_id: str, changes: dict[str, object], field: str) -> None:
    found = dict(weakenings(BASELINE[rule_id], _changed(rule_id, **changes)))
    assert field in found
