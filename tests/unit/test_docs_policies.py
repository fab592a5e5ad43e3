"""docs/policies.md documents every rule type and every built-in pack."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.policies.pack import builtin_pack_names
from sandbox.policies.rules import RULE_TYPES

DOC = (Path(__file__).parents[2] / "docs" / "policies.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("rule_type", sorted(RULE_TYPES))
def test_every_rule_type_is_documented_with_an_example(rule_type: str) -> None:
    assert f"### `{rule_type}`" in DOC
    section = DOC.split(f"### `{rule_type}`", 1)[1].split("\n### ", 1)[0]
    assert f"type: {rule_type}" in section, f"no YAML example for {rule_type}"


@pytest.mark.parametrize("pack", builtin_pack_names())
def test_every_builtin_pack_is_documented(pack: str) -> None:
    assert f"| `{pack}` |" in DOC
