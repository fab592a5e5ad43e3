"""The register's phases and the move rule: pure functions, the built-in packs as shipped."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.errors import UserInputError
from sandbox.hosted.phases import (
    FIRST_PHASE,
    PHASES,
    capacity_for,
    check_phase,
    move_problems,
    next_phase,
    phase_of_run,
    register_phase,
    required_capacities,
)

SCALE_ROLES = ("service owner", "data protection officer", "AI review board")


@dataclass(frozen=True)
class Given:
    principal_id: str
    capacity: str
    decision: str
    phase: str
    reason: str | None = None


def test_phases_go_one_way_and_scoping_counts_as_prototype() -> None:
    assert PHASES == ("prototype", "mvp", "scale")
    assert FIRST_PHASE == "prototype"
    assert [next_phase(p) for p in PHASES] == ["mvp", "scale", None]
    assert register_phase("scoping") == "prototype"
    assert register_phase("mvp") == "mvp"
    for bad in ("pilot", "", "MVP", 3, None):
        with pytest.raises(UserInputError, match="phase: .* use one of prototype, mvp, scale"):
            check_phase(bad)


def test_required_capacities_come_from_the_phase_pack() -> None:
    assert required_capacities("scale") == SCALE_ROLES
    assert required_capacities("mvp") == ()
    assert required_capacities("prototype") == ()


def test_city_packs_add_capacities(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pack = tmp_path / "northtown" / "pack.yaml"
    pack.parent.mkdir()
    pack.write_text(
        "id: northtown\nversion: 1.0.0\nextends: baseline\ndescription: Northtown's rules.\n"
        "rules:\n  - id: northtown.sign-offs\n    type: sign_offs_required\n"
        "    title: The city's equity officer signs off MVPs\n    stage: pre_run\n"
        "    severity: block\n    rationale: Residents are affected from the MVP on.\n"
        "    params:\n      roles: [equity officer]\n      phases: [mvp]\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("SANDBOX_CITY_PACKS", str(tmp_path))
    assert required_capacities("mvp") == ("equity officer",)
    assert required_capacities("scale") == SCALE_ROLES  # the rule names mvp alone


def test_a_capacity_is_one_the_phase_requires_or_free_when_it_requires_none() -> None:
    assert capacity_for("Service  Owner", "scale", SCALE_ROLES) == "service owner"
    assert capacity_for("ai review board", "scale", SCALE_ROLES) == "AI review board"
    with pytest.raises(UserInputError, match="not a capacity the scale phase requires.*"
                       "service owner, data protection officer, AI review board"):  # fmt: skip
        capacity_for("mayor", "scale", SCALE_ROLES)
    assert capacity_for("  programme lead ", "mvp", ()) == "programme lead"
    for bad in ("", "   ", "x" * 81, "line\nbreak", None, 7):
        with pytest.raises(UserInputError, match="capacity: "):
            capacity_for(bad, "mvp", ())


def test_the_phase_of_a_run_is_read_from_its_submitted_record() -> None:
    assert phase_of_run({"phase": "scoping"}) == "prototype"
    # An mvp run keeps the pack it was judged by and the one that pack extends.
    packs = {"baseline": "sha256:a", "phase-mvp": "sha256:b", "phase-prototype": "sha256:c"}
    assert phase_of_run({"policy_pack_files": packs}) == "mvp"
    assert phase_of_run({"policy_packs": {"baseline": "x", "phase-prototype": "y"}}) == "prototype"
    assert phase_of_run({"policy_packs": ["phase-scale"]}) is None  # not the shape a run keeps
    assert phase_of_run({}) is None


def _problems(**changes: object) -> list[str]:
    given: dict[str, object] = {
        "pilot": "screening",
        "current": "mvp",
        "target": "scale",
        "run_id": "r-1",
        "run_phase": "mvp",
        "run_verdict": "pass",
        "run_passed": True,
        "sign_offs": [
            Given(f"p{i}", role, "approved", "scale") for i, role in enumerate(SCALE_ROLES)
        ],
        "required": SCALE_ROLES,
    }
    return move_problems(**{**given, **changes})  # type: ignore[arg-type]


def test_a_move_with_everything_in_place_has_no_problem() -> None:
    assert _problems() == []


def test_a_move_names_each_missing_piece() -> None:
    assert _problems(target="prototype") == [
        "screening is in mvp: a move goes one step, to scale, not to prototype"
    ]
    assert "the last phase" in _problems(current="scale")[0]
    problems = _problems(
        run_phase="prototype",
        run_verdict="fail",
        run_passed=False,
        sign_offs=[
            Given("ana", "service owner", "approved", "scale"),
            Given("bo", "AI review board", "rejected", "scale", "the appeal route is untested"),
            Given("cy", "data protection officer", "approved", "mvp"),  # for another phase
        ],
    )
    assert problems == [
        "run r-1 ran in the prototype phase, not in mvp: move on a run of screening in mvp",
        "run r-1 did not pass (verdict fail): move on a run that passed",
        "bo rejected run r-1 as AI review board (the appeal route is untested): a rejection "
        "stands; move on another run",
        "run r-1 has no approval for scale as data protection officer, AI review board: "
        "reviewers in those capacities sign the run off first",
    ]


def test_a_phase_that_requires_no_capacity_still_needs_one_approval() -> None:
    bare = _problems(current="prototype", target="mvp", run_phase="prototype", required=())
    assert bare == ["run r-1 has no approval for mvp: a reviewer signs the run off first"]
    one = [Given("ana", "programme lead", "approved", "mvp")]
    assert _problems(current="prototype", target="mvp", run_phase="prototype", required=(),
                     sign_offs=one) == []  # fmt: skip
