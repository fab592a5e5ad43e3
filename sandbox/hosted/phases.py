"""A pilot's phase on a hosted sandbox, and the rule for moving it one step on.

The register knows three phases, in order: prototype, mvp, scale. A manifest may also say
`scoping`; it is governed by the same pack as `prototype` (`sandbox.policies.selection`), so
the register counts a scoping run as a prototype run. A pilot the register has not seen yet
is in the first phase: only a recorded move takes it further, whatever its manifest claims.

A move goes one step, and rests on one run of the pilot, in its current phase, that passed,
with the approvals the target phase's packs require, all given on that run for that phase,
and no rejection for it. The capacities a phase requires are the `roles` of its
`sign_offs_required` rules, in the phase's built-in pack and in every city pack
(`SANDBOX_CITY_PACKS`); a phase that requires none needs one approval in any capacity.

Pure functions: the database and the trail are `reviews.py`'s.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Final, Protocol

from sandbox.errors import UserInputError
from sandbox.policies.pack import load_pack
from sandbox.policies.provenance import city_pack_names
from sandbox.policies.selection import PHASE_PACKS

__all__ = [
    "FIRST_PHASE",
    "MAX_CAPACITY",
    "PHASES",
    "Decided",
    "capacity_for",
    "check_phase",
    "move_problems",
    "next_phase",
    "phase_of_run",
    "register_phase",
    "required_capacities",
]

PHASES: Final = ("prototype", "mvp", "scale")
FIRST_PHASE: Final = PHASES[0]
MAX_CAPACITY: Final = 80
_SIGN_OFF_RULE: Final = "sign_offs_required"


class Decided(Protocol):
    """What the move rule reads of a sign-off (`reviews.SignOff` is one)."""

    @property
    def principal_id(self) -> str: ...
    @property
    def capacity(self) -> str: ...
    @property
    def decision(self) -> str: ...
    @property
    def phase(self) -> str: ...
    @property
    def reason(self) -> str | None: ...


def register_phase(manifest_phase: str) -> str:
    """The register's phase for a manifest's `pilot.phase` (scoping counts as prototype)."""
    return FIRST_PHASE if manifest_phase == "scoping" else check_phase(manifest_phase)


def check_phase(value: object, *, field: str = "phase") -> str:
    """`value` if it is one of the register's phases; UserInputError naming them if not."""
    if not isinstance(value, str) or value not in PHASES:
        shown = ascii(value[:40]) if isinstance(value, str) else type(value).__name__
        raise UserInputError(f"{field}: {shown} is not a phase; use one of {', '.join(PHASES)}")
    return value


def next_phase(phase: str) -> str | None:
    """The phase after `phase`, or None at the last one."""
    index = PHASES.index(check_phase(phase))
    return PHASES[index + 1] if index + 1 < len(PHASES) else None


def phase_of_run(submitted: Mapping[str, object]) -> str | None:
    """The register phase a run was judged in, from its `run.submitted` payload.

    The payload's `phase` when it has one; otherwise the furthest phase pack among the packs
    the run kept (`policy_pack_files` lists every pack of an `extends` chain, and the phase
    pack is always selected). None when neither says.
    """
    stated = submitted.get("phase")
    if isinstance(stated, str) and stated in (*PHASES, "scoping"):
        return register_phase(stated)
    kept: set[str] = set()
    for key in ("policy_pack_files", "policy_packs"):
        packs = submitted.get(key)
        if isinstance(packs, Mapping):
            kept.update(str(name) for name in packs)
    found = [phase for phase in PHASES if PHASE_PACKS[phase] in kept]
    return found[-1] if found else None


def _key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def required_capacities(phase: str) -> tuple[str, ...]:
    """The capacities that must approve a move into `phase`, as the packs spell them."""
    check_phase(phase)
    names = [PHASE_PACKS[phase], *city_pack_names()]
    found: dict[str, str] = {}
    for name in names:
        for rule in load_pack(name).rules:
            if rule.type != _SIGN_OFF_RULE:
                continue
            phases = rule.params.get("phases") or ()
            if phases and phase not in phases:
                continue
            for role in rule.params.get("roles") or ():
                found.setdefault(_key(str(role)), str(role))
    return tuple(found.values())


def capacity_for(value: object, phase: str, required: Sequence[str]) -> str:
    """The capacity a sign-off for `phase` is given in, as the pack spells it.

    One of `required` (compared ignoring case and spacing), or any short printable name when
    the phase requires none. UserInputError naming the field and the choices if not.
    """
    if not isinstance(value, str) or not value.strip():
        raise UserInputError(
            "capacity: empty; say in which capacity you sign off, e.g. 'service owner'"
        )
    if len(value) > MAX_CAPACITY or not value.isprintable():
        raise UserInputError(
            f"capacity: give printable text of at most {MAX_CAPACITY} characters, e.g. "
            "'service owner'"
        )
    if not required:
        return " ".join(unicodedata.normalize("NFC", value).split())
    for name in required:
        if _key(name) == _key(value):
            return name
    raise UserInputError(
        f"capacity: {value[:MAX_CAPACITY]!a} is not a capacity the {phase} phase requires; "
        f"sign off as one of: {', '.join(required)}"
    )


def move_problems(
    *,
    pilot: str,
    current: str,
    target: str,
    run_id: str,
    run_phase: str | None,
    run_verdict: str | None,
    run_passed: bool,
    sign_offs: Sequence[Decided],
    required: Sequence[str],
) -> list[str]:
    """Everything that keeps `pilot` from moving from `current` to `target` on `run_id`.

    Empty when the move may be made; otherwise one line per missing piece, each saying what
    to do.
    """
    step = next_phase(current)
    if step is None:
        return [f"{pilot} is in {current}, the last phase: there is no phase to move it to"]
    if target != step:
        return [f"{pilot} is in {current}: a move goes one step, to {step}, not to {target}"]
    problems = []
    if run_phase != current:
        problems.append(
            f"run {run_id} ran in the {run_phase or 'unknown'} phase, not in {current}: move on "
            f"a run of {pilot} in {current}"
        )
    if not run_passed:
        problems.append(
            f"run {run_id} did not pass (verdict {run_verdict or 'none'}): move on a run that "
            "passed"
        )
    for_target = [s for s in sign_offs if s.phase == target]
    for rejection in (s for s in for_target if s.decision == "rejected"):
        problems.append(
            f"{rejection.principal_id} rejected run {run_id} as {rejection.capacity} "
            f"({rejection.reason}): a rejection stands; move on another run"
        )
    approved = {_key(s.capacity) for s in for_target if s.decision == "approved"}
    missing = [name for name in required if _key(name) not in approved]
    if missing:
        problems.append(
            f"run {run_id} has no approval for {target} as {', '.join(missing)}: reviewers "
            "in those capacities sign the run off first"
        )
    elif not required and not approved:
        problems.append(
            f"run {run_id} has no approval for {target}: a reviewer signs the run off first"
        )
    return problems
