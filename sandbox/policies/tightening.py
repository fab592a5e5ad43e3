"""Tighten-only overrides: how a pack may change a rule it did not author.

A pack from a pilot folder may override a built-in or city rule it inherits (through
`extends`) only to make it stricter. Each field of the overriding rule is compared with the
inherited one:

    type, stage, title, rationale   unchanged
    severity                        the same or higher (info < warn < block)
    min_impact_level                the same, lower, or left out (the rule applies more often)
    references                      clauses may be added, never dropped
    params                          per parameter, as `PARAM_DIRECTIONS` says; any parameter
                                    not listed there is left unchanged

Everything else is a weakening, refused with the field, what changed and the fix.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from sandbox.policies.impact import ImpactLevel, level_rank
from sandbox.policies.rule import Rule
from sandbox.policies.verdict import SEVERITY_RANK

__all__ = ["PARAM_DIRECTIONS", "Direction", "weakenings"]

#: How a parameter may be tightened: `lower` (a ceiling: None is no ceiling), `higher` (a
#: floor: None is no floor), `more` (a list that may only grow), `fewer` (an allow-list that may
#: only shrink), `fixed` (unchanged).
Direction = Literal["lower", "higher", "more", "fewer", "fixed"]
ParamValues = Mapping[str, Any]


def _performance_threshold(params: ParamValues) -> Direction:
    """A floor when greater is better (the metric's own direction by default), else a ceiling."""
    higher = params.get("greater_is_better")
    if higher is None:
        from sandbox.tasks import registered_tasks

        specs = [
            t.vocabulary.spec(params.get("metric", ""))
            for t in registered_tasks()
            if params.get("metric") in t.vocabulary.performance_names
        ]
        if not specs:
            return "fixed"
        higher = specs[0].greater_is_better
    return "higher" if higher else "lower"


def _fairness_threshold(params: ParamValues) -> Direction:
    """A difference is a ceiling; a ratio is a floor."""
    return "higher" if params.get("measure", "difference") == "ratio" else "lower"


PARAM_DIRECTIONS: dict[tuple[str, str], Direction | Callable[[ParamValues], Direction]] = {
    ("hardening_required", "max_memory_mb"): "lower",
    ("hardening_required", "max_cpus"): "lower",
    ("hardening_required", "max_timeout_s"): "lower",
    ("hardening_required", "max_pids"): "lower",
    ("image_allowlist", "allowed_digests"): "fewer",
    ("pii_in_values", "patterns"): "more",
    ("pii_in_values", "max_matches"): "lower",
    ("proxy_detection", "max_auc"): "lower",
    ("documentation_required", "fields"): "more",
    ("documentation_required", "min_chars"): "higher",
    ("explanations_required", "all_features"): "higher",
    ("impact_assessment", "require_complete"): "higher",
    ("impact_assessment", "max_level"): "lower",
    ("human_oversight_declared", "min_chars"): "higher",
    ("human_oversight_declared", "refuse_full_automation"): "higher",
    ("sign_offs_required", "roles"): "more",
    ("performance_floor", "threshold"): _performance_threshold,
    ("fairness_threshold", "threshold"): _fairness_threshold,
    ("four_fifths", "min_ratio"): "higher",
    ("min_group_size", "min_size"): "higher",
    ("no_disclosure", "kinds"): "more",
    ("no_disclosure", "max_leaks"): "lower",
}


def weakenings(inherited: Rule, override: Rule) -> list[tuple[str, str]]:
    """Each field in which `override` is looser than `inherited`: (field path, what changed)."""
    found: list[tuple[str, str]] = []
    for name in ("type", "stage", "title", "rationale"):
        if getattr(override, name) != getattr(inherited, name):
            found.append((name, "may not change"))
    if SEVERITY_RANK[override.severity] < SEVERITY_RANK[inherited.severity]:
        found.append(("severity", f"lowered from {inherited.severity} to {override.severity}"))
    if _rank_level(override.min_impact_level) > _rank_level(inherited.min_impact_level):
        was = inherited.min_impact_level or "every level"
        found.append(("min_impact_level", f"raised from {was} to {override.min_impact_level}"))
    dropped = [ref for ref in inherited.references if ref not in override.references]
    if dropped:
        found.append(("references", f"drops {dropped}"))
    for key in sorted(set(inherited.params) | set(override.params)):
        before, after = inherited.params.get(key), override.params.get(key)
        if before == after:
            continue
        direction = PARAM_DIRECTIONS.get((inherited.type, key), "fixed")
        if callable(direction):
            direction = direction(inherited.params)
        if not _tighter(direction, before, after, key=key):
            found.append((f"params.{key}", f"{_loosened(direction)}: {before!r} -> {after!r}"))
    return found


def _rank_level(level: ImpactLevel | None) -> int:
    """Impact levels by rank; no minimum level (the rule always applies) ranks lowest."""
    return -1 if level is None else level_rank(level)


def _tighter(direction: Direction, before: Any, after: Any, *, key: str) -> bool:
    """True when `after` is at least as strict as `before` for a parameter of `direction`."""
    if direction in ("more", "fewer"):
        if not isinstance(before, list | tuple) or not isinstance(after, list | tuple):
            return False
        wider, narrower = (after, before) if direction == "more" else (before, after)
        return set(narrower) <= set(wider) and (direction == "more" or len(after) > 0)
    if direction == "fixed":
        return False
    if after is None:
        return False  # None is no ceiling (or no floor): never stricter than a value
    if before is None:
        return True
    try:
        a, b = _ordered(key, after), _ordered(key, before)
    except (TypeError, ValueError):
        return False
    return a <= b if direction == "lower" else a >= b


def _ordered(key: str, value: Any) -> float:
    """A parameter value as a number to compare (impact levels by rank, bools as 0 and 1)."""
    if key == "max_level":
        return float(level_rank(value))
    if isinstance(value, bool | int | float):
        return float(value)
    raise TypeError(f"{value!r} is not a number")


def _loosened(direction: Direction) -> str:
    return {
        "lower": "raised (or removed) a ceiling",
        "higher": "lowered (or removed) a floor",
        "more": "dropped entries",
        "fewer": "allowed more entries",
        "fixed": "may not change",
    }[direction]
