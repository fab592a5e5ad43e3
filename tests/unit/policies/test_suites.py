"""Policies as data: every built-in pack's suite of sample pilots and expected verdicts."""

from __future__ import annotations

import pytest

from sandbox.policies.pack import builtin_pack_dir, builtin_pack_names, load_pack
from sandbox.policies.rules import RULE_TYPES
from sandbox.policies.suite import SUITE_NAME, SuiteCase, load_suite, run_case
from sandbox.policies.verdict import Verdict


def _cases() -> list[tuple[str, SuiteCase]]:
    return [
        (name, case)
        for name in builtin_pack_names()
        for case in load_suite(builtin_pack_dir(name) / SUITE_NAME).cases
    ]


CASES = _cases()


def _run(pack: str, case: SuiteCase) -> Verdict:
    folder = builtin_pack_dir(pack)
    return run_case(case, suite=load_suite(folder / SUITE_NAME), suite_dir=folder)


@pytest.mark.parametrize(("pack", "case"), CASES, ids=[f"{p}: {c.name}" for p, c in CASES])
def test_suite_case(pack: str, case: SuiteCase) -> None:
    verdict = _run(pack, case)
    outcomes = {o.rule_id: o.outcome for o in verdict.outcomes}
    assert verdict.status == case.verdict, [o.message for o in verdict.failures]
    for rule_id, expected in case.outcomes.items():
        assert outcomes.get(rule_id) == expected, (rule_id, outcomes)


def test_every_pack_has_a_suite_with_allowed_and_disallowed_samples() -> None:
    for name in builtin_pack_names():
        folder = builtin_pack_dir(name)
        suite = load_suite(folder / SUITE_NAME)
        assert suite.pack == name
        verdicts = {case.verdict for case in suite.cases}
        assert "pass" in verdicts and verdicts - {"pass"}, name
        for case in suite.cases:
            assert (folder / case.pilot / "pilot.yaml").is_file(), case.pilot


def test_every_rule_type_passes_and_fails_somewhere_in_the_suites() -> None:
    seen: dict[str, set[str]] = {t: set() for t in RULE_TYPES}
    for pack, case in CASES:
        folder = builtin_pack_dir(pack)
        packs = [load_pack(n, pilot_dir=folder) for n in case.packs or (pack,)]
        types = {rule.id: rule.type for p in packs for rule in p.rules}
        for outcome in _run(pack, case).outcomes:
            seen[types[outcome.rule_id]].add(outcome.outcome)
    missing = {t: {"passed", "failed"} - s for t, s in seen.items() if {"passed", "failed"} - s}
    assert not missing, missing


def test_samples_are_small() -> None:
    for name in builtin_pack_names():
        for path in (builtin_pack_dir(name) / "samples").rglob("*"):
            assert not path.is_file() or path.stat().st_size < 50_000, path
