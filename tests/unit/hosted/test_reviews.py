"""Sign-offs and phase moves: a real PostgreSQL (a schema per test) and a real file trail.

The runs are written into the trail as a pilot run writes them (`run.submitted` with the
tenant, pilot and packs, then its terminal record), so the facts a sign-off rests on are
read from signed records exactly as in service. Time never matters here: nothing sleeps.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from sandbox.audit.signing import Signer
from sandbox.audit.trail import AuditTrail
from sandbox.errors import AccessDenied, UserInputError
from sandbox.hosted.accounts import Accounts
from sandbox.hosted.database import check_url
from sandbox.hosted.identity import Principal
from sandbox.hosted.jobs import Jobs
from sandbox.hosted.journey import UnknownPilot, pilot_journey
from sandbox.hosted.migrate import migrate
from sandbox.hosted.reviews import PhaseMoveRefused, Reviews, SignOffRefused, UnknownRun
from sandbox.hosted.tables import pilots, sign_offs
from tests.integration.postgres import new_schema, pg_url  # noqa: F401 - fixtures

PACKS = {
    "prototype": {"baseline": "sha256:1", "phase-prototype": "sha256:2"},
    "mvp": {"baseline": "sha256:1", "phase-mvp": "sha256:3", "phase-prototype": "sha256:2"},
}
SCALE = ("service owner", "data protection officer", "AI review board")


@pytest.fixture
def url(new_schema: Callable[[], str]) -> str:  # noqa: F811 - the imported fixture
    made = new_schema()
    migrate(made)
    return made


@pytest.fixture
def people(url: str) -> dict[str, Principal]:
    with Accounts(url) as accounts:
        accounts.create_organisation("northtown", "Northtown")
        accounts.create_organisation("southport", "Southport")
        made = {
            "ana": accounts.create_principal("ana", "northtown", "Ana Lopez", roles=["reviewer"]),
            "bo": accounts.create_principal("bob", "northtown", "Bo Chen", roles=["reviewer"]),
            "cy": accounts.create_principal("cyd", "northtown", "Cy Diaz", roles=["reviewer"]),
            "dee": accounts.create_principal("dee", "northtown", "Dee Ma",
                                             roles=["data_team", "reviewer"]),
            "analyst": accounts.create_principal("analyst", "northtown", "An Analyst",
                                                 roles=["data_team"]),
            "ci": accounts.create_principal("northtown-ci", "northtown", "Northtown CI",
                                            roles=["reviewer", "data_team"], kind="service"),
            "ops": accounts.create_principal("ops", "northtown", "Op Erator", roles=["operator"]),
            "aud": accounts.create_principal("aud", "southport", "Au Ditor", roles=["auditor"]),
            "sam": accounts.create_principal("sam", "southport", "Sam Roe", roles=["reviewer"]),
        }  # fmt: skip
        made["aud"] = accounts.grant_audit("aud", "northtown")
    return made


@pytest.fixture
def trail(tmp_path: Path) -> AuditTrail:
    return AuditTrail(tmp_path / "trail.jsonl", Signer.generate())


@pytest.fixture
def reviews(url: str, trail: AuditTrail, people: dict[str, Principal]) -> Iterator[Reviews]:
    with Reviews(url, trail) as opened:
        yield opened


def run(
    trail: AuditTrail,
    run_id: str,
    *,
    org: str = "northtown",
    pilot: str = "screening",
    phase: str = "prototype",
    end: str | None = "run.finished",
    verdict: str = "pass_with_warnings",
) -> str:
    """A run on the record as a pilot run writes it."""
    trail.append(
        "run.submitted",
        actor="worker",
        run_id=run_id,
        payload={"pilot": pilot, "tenant": org, "policy_pack_files": PACKS[phase]},
    )
    if end is not None:
        rules = {"fairness.four-fifths": "failed:warn", "data.pii": "passed:block"}
        payload: dict[str, Any] = {"verdict": verdict, "governance": {"rules": rules}}
        trail.append(end, actor="worker", run_id=run_id, payload=payload)
    return run_id


def test_a_sign_off_is_signed_into_the_trail_then_copied_into_its_row(
    reviews: Reviews, trail: AuditTrail, people: dict[str, Principal], url: str
) -> None:
    run(trail, "r-1")
    made = reviews.sign_off(
        people["ana"], "r-1", capacity="programme lead", decision="approved", publish=True
    )
    record = trail.records_for_run("r-1")[-1]
    assert record.kind == "run.signed_off" and record.actor == "ana"
    assert record.payload == {
        "organisation": "northtown", "reviewer": "ana", "reviewer_name": "Ana Lopez",
        "capacity": "programme lead", "decision": "approved", "reason": None, "publish": True,
        "phase": "mvp",
    }  # fmt: skip
    assert (made.trail_seq, made.phase, made.pilot) == (record.seq, "mvp", "screening")
    assert reviews.sign_offs(people["bo"], "r-1") == [made]
    assert reviews.sign_offs(people["aud"], "r-1") == [made]  # granted auditors read them
    engine = create_engine(check_url(url))
    with engine.connect() as conn:
        assert conn.execute(select(sign_offs.c.trail_seq)).scalars().all() == [record.seq]
    engine.dispose()
    assert trail.verify().ok


@pytest.mark.parametrize(
    ("who", "refusal"),
    [
        ("ana", None),  # a reviewer, a person, of the run's organisation
        ("dee", None),  # data team and reviewer: the roles add up
        ("analyst", AccessDenied),  # data team alone
        ("ci", AccessDenied),  # a service never signs off, whatever its roles
        ("ops", AccessDenied),  # operators never take a city's decision
        ("aud", AccessDenied),  # auditors read, never decide
        ("sam", UnknownRun),  # a reviewer of another organisation: the run is not theirs
    ],
)
def test_who_may_sign_off(
    reviews: Reviews,
    trail: AuditTrail,
    people: dict[str, Principal],
    who: str,
    refusal: type[Exception] | None,
) -> None:
    run(trail, "r-1")
    if refusal is None:
        assert reviews.sign_off(people[who], "r-1", capacity="lead", decision="approved")
        return
    with pytest.raises(refusal):
        reviews.sign_off(people[who], "r-1", capacity="lead", decision="approved")
    assert [r.kind for r in trail.records_for_run("r-1")] == ["run.submitted", "run.finished"]


def test_another_organisations_run_is_answered_like_one_that_does_not_exist(
    reviews: Reviews, trail: AuditTrail, people: dict[str, Principal]
) -> None:
    run(trail, "r-south", org="southport")
    answers = []
    for run_id in ("r-south", "r-never"):
        with pytest.raises(UnknownRun) as caught:
            reviews.sign_off(people["ana"], run_id, capacity="lead", decision="approved")
        answers.append(str(caught.value).replace(run_id, "RUN"))
        with pytest.raises(UnknownRun):
            reviews.sign_offs(people["ana"], run_id)
    assert answers[0] == answers[1]
    with pytest.raises(UserInputError, match="run id: .* is not a run id"):
        reviews.sign_offs(people["ana"], "../etc/passwd")


def test_the_rules_of_a_sign_off(
    reviews: Reviews, trail: AuditTrail, people: dict[str, Principal], url: str
) -> None:
    run(trail, "r-fail", verdict="fail")
    run(trail, "r-going", end=None)
    run(trail, "r-mvp", phase="mvp")
    ana = people["ana"]
    with pytest.raises(UserInputError, match="reason: a rejection needs a reason"):
        reviews.sign_off(ana, "r-fail", capacity="lead", decision="rejected")
    with pytest.raises(UserInputError, match="decision: 'maybe' is not one of"):
        reviews.sign_off(ana, "r-fail", capacity="lead", decision="maybe")
    with pytest.raises(SignOffRefused, match=r"did not pass \(verdict fail\)"):
        reviews.sign_off(ana, "r-fail", capacity="lead", decision="approved")
    with pytest.raises(SignOffRefused, match="has not ended yet"):
        reviews.sign_off(ana, "r-going", capacity="lead", decision="approved")
    # An mvp run is signed off for scale, in a capacity the scale pack names.
    with pytest.raises(UserInputError, match="not a capacity the scale phase requires"):
        reviews.sign_off(ana, "r-mvp", capacity="lead", decision="approved")
    made = reviews.sign_off(ana, "r-mvp", capacity="Service Owner", decision="approved")
    assert (made.capacity, made.phase) == ("service owner", "scale")
    with pytest.raises(SignOffRefused, match="ana already approved it as service owner"):
        reviews.sign_off(ana, "r-mvp", capacity="AI review board", decision="approved")
    rejected = reviews.sign_off(
        ana, "r-fail", capacity="lead", decision="rejected", reason="the appeal route is untested"
    )
    assert rejected.reason == "the appeal route is untested"
    # Whoever submitted the job that ran it does not sign it off.
    run(trail, "r-job")
    with Jobs(url) as jobs:
        job = jobs.create(
            organisation="northtown",
            principal="dee",
            archive_sha256="a" * 64,
            pilot_name="screening",
        )
        claim = jobs.claim(job.id, "worker-1")
        assert jobs.record_run(job.id, claim.delivery.attempt, "r-job")
    with pytest.raises(SignOffRefused, match="dee submitted the job that ran it"):
        reviews.sign_off(people["dee"], "r-job", capacity="lead", decision="approved")
    assert reviews.sign_off(people["bo"], "r-job", capacity="lead", decision="approved")
    assert trail.verify().ok


def test_a_record_whose_row_was_never_written_is_caught_up(
    reviews: Reviews, trail: AuditTrail, people: dict[str, Principal], monkeypatch: Any
) -> None:
    run(trail, "r-1")
    appended = trail.record

    def append_then_die(event: Any) -> Any:
        appended(event)  # the record is signed in, then the process dies before its row
        raise KeyboardInterrupt

    monkeypatch.setattr(trail, "record", append_then_die)
    with pytest.raises(KeyboardInterrupt):
        reviews.sign_off(people["ana"], "r-1", capacity="lead", decision="approved")
    monkeypatch.undo()
    [copied] = reviews.sign_offs(people["bo"], "r-1")
    assert (copied.principal_id, copied.decision) == ("ana", "approved")
    with pytest.raises(SignOffRefused, match="already approved"):
        reviews.sign_off(people["ana"], "r-1", capacity="lead", decision="approved")


def test_one_person_signing_twice_at_once_is_recorded_once(
    url: str, trail: AuditTrail, people: dict[str, Principal]
) -> None:
    run(trail, "r-1")
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def sign(capacity: str) -> None:
        with Reviews(url, trail) as own:
            start.wait()
            try:
                own.sign_off(people["ana"], "r-1", capacity=capacity, decision="approved")
                outcomes.append("recorded")
            except SignOffRefused:
                outcomes.append("refused")

    threads = [threading.Thread(target=sign, args=(f"lead {i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert sorted(outcomes) == ["recorded", "refused", "refused", "refused"]
    kinds = [r.kind for r in trail.records_for_run("r-1")]
    assert kinds.count("run.signed_off") == 1
    assert trail.verify().ok


def test_phase_moves_refused_then_made(
    reviews: Reviews, trail: AuditTrail, people: dict[str, Principal], url: str
) -> None:
    run(trail, "r-1")
    ana, bo, cy = people["ana"], people["bo"], people["cy"]
    assert reviews.phase("northtown", "screening") == "prototype"
    with pytest.raises(PhaseMoveRefused) as refused:
        reviews.move_phase(ana, "screening", to="mvp", run_id="r-1")
    assert refused.value.missing == (
        "run r-1 has no approval for mvp: a reviewer signs the run off first",
    )
    with pytest.raises(PhaseMoveRefused, match="a move goes one step, to mvp, not to scale"):
        reviews.move_phase(ana, "screening", to="scale", run_id="r-1")
    with pytest.raises(AccessDenied):
        reviews.move_phase(people["analyst"], "screening", to="mvp", run_id="r-1")
    approval = reviews.sign_off(bo, "r-1", capacity="programme lead", decision="approved")
    moved = reviews.move_phase(ana, "screening", to="mvp", run_id="r-1")
    assert (moved.from_phase, moved.to_phase, moved.sign_offs) == (
        "prototype",
        "mvp",
        (approval.trail_seq,),
    )
    record = trail.records_for_run("r-1")[-1]
    assert (record.kind, record.actor, record.seq) == ("pilot.phase_moved", "ana", moved.trail_seq)
    assert record.payload == {"organisation": "northtown", "pilot": "screening",
                              "from": "prototype", "to": "mvp", "run_id": "r-1",
                              "sign_offs": [approval.trail_seq]}  # fmt: skip
    assert reviews.phase("northtown", "screening") == "mvp"
    assert reviews.phase("southport", "screening") == "prototype"  # the same name elsewhere

    # To scale: an mvp run that passed, and the three capacities the scale pack names.
    with pytest.raises(PhaseMoveRefused, match="ran in the prototype phase, not in mvp"):
        reviews.move_phase(ana, "screening", to="scale", run_id="r-1")
    run(trail, "r-2", phase="mvp")
    reviews.sign_off(bo, "r-2", capacity="service owner", decision="approved")
    reviews.sign_off(cy, "r-2", capacity="data protection officer", decision="approved")
    with pytest.raises(PhaseMoveRefused) as refused:
        reviews.move_phase(ana, "screening", to="scale", run_id="r-2")
    assert "no approval for scale as AI review board" in str(refused.value)
    reviews.sign_off(
        people["dee"],
        "r-2",
        capacity="AI review board",
        decision="rejected",
        reason="no appeal data yet",
    )
    reviews.sign_off(ana, "r-2", capacity="AI review board", decision="approved")
    with pytest.raises(PhaseMoveRefused, match="dee rejected run r-2 as AI review board"):
        reviews.move_phase(ana, "screening", to="scale", run_id="r-2")
    run(trail, "r-3", phase="mvp")
    for who, capacity in zip((ana, bo, cy), SCALE, strict=True):
        reviews.sign_off(who, "r-3", capacity=capacity, decision="approved")
    assert reviews.move_phase(cy, "screening", to="scale", run_id="r-3").to_phase == "scale"
    with pytest.raises(PhaseMoveRefused, match="the last phase"):
        reviews.move_phase(ana, "screening", to="scale", run_id="r-3")
    engine = create_engine(check_url(url))
    with engine.connect() as conn:
        assert conn.execute(select(pilots.c.name, pilots.c.phase)).all() == [("screening", "scale")]
    engine.dispose()
    assert trail.verify().ok


def test_a_move_whose_row_was_never_written_is_caught_up(
    reviews: Reviews, trail: AuditTrail, people: dict[str, Principal], url: str
) -> None:
    run(trail, "r-1")
    reviews.sign_off(people["bo"], "r-1", capacity="lead", decision="approved")
    trail.append(
        "pilot.phase_moved",
        actor="ana",
        run_id="r-1",
        payload={
            "organisation": "northtown",
            "pilot": "screening",
            "from": "prototype",
            "to": "mvp",
            "run_id": "r-1",
            "sign_offs": [2],
        },
    )
    assert reviews.phase("northtown", "screening") == "mvp"


def test_the_journey_of_a_pilot(
    reviews: Reviews, trail: AuditTrail, people: dict[str, Principal]
) -> None:
    run(trail, "r-1", verdict="fail")
    run(trail, "r-2")
    run(trail, "r-other", pilot="routing")
    run(trail, "r-south", org="southport")
    reviews.sign_off(people["bo"], "r-1", capacity="lead", decision="rejected", reason="gap")
    reviews.sign_off(people["bo"], "r-2", capacity="lead", decision="approved")
    reviews.move_phase(people["ana"], "screening", to="mvp", run_id="r-2")
    shown = pilot_journey(reviews, people["cy"], "screening")
    assert (shown["organisation"], shown["pilot"], shown["phase"]) == (
        "northtown",
        "screening",
        "mvp",
    )
    assert [(r["run_id"], r["verdict"], r["passed"]) for r in shown["runs"]] == [
        ("r-1", "fail", False),
        ("r-2", "pass_with_warnings", True),
    ]
    assert shown["runs"][0]["disparities"] == [
        {"rule_id": "fairness.four-fifths", "outcome": "failed", "severity": "warn"}
    ]
    assert [(e["kind"], e["run_id"]) for e in shown["events"]] == [
        ("run.submitted", "r-1"),
        ("run.finished", "r-1"),
        ("run.submitted", "r-2"),
        ("run.finished", "r-2"),
        ("run.signed_off", "r-1"),
        ("run.signed_off", "r-2"),
        ("pilot.phase_moved", "r-2"),
    ]
    seqs = [e["seq"] for e in shown["events"]]
    assert seqs == sorted(seqs)
    assert pilot_journey(reviews, people["aud"], "screening", organisation="northtown") == shown
    # The same pilot name in another city is another pilot.
    assert [r["run_id"] for r in pilot_journey(reviews, people["sam"], "screening")["runs"]] == [
        "r-south"
    ]
    for who, pilot, org in (
        ("sam", "screening", "northtown"),
        ("ops", "screening", None),
        ("cy", "nothing", None),
    ):
        with pytest.raises(UnknownPilot):
            pilot_journey(reviews, people[who], pilot, organisation=org)
