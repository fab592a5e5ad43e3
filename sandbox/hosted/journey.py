"""A pilot's journey for the dashboard: its runs, verdicts, sign-offs and phase moves, in order.

`pilot_journey(reviews, reader, pilot)` reads the pilot's runs by their ids from the jobs
table, or, for a pilot that has no job (runs recorded before the hosted mode), from the
trail's `run.submitted` records of the organisation. Everything else comes from each run's
signed records: its phase, its verdict and headline disparities, the sign-offs given on it and
the phase moves resting on it. `events` lists them all in trail order, which is the order they
happened in. A pilot the caller may not read, or that has no run and no phase on the register,
is `UnknownPilot`, whichever it is.
"""

from __future__ import annotations

from typing import Any, Final

from sandbox.audit.events import SUBMITTED_KINDS, TERMINAL_KINDS
from sandbox.audit.record import TrailRecord
from sandbox.errors import UserInputError
from sandbox.hosted.access import Action, allowed
from sandbox.hosted.identity import Principal
from sandbox.hosted.reviews import Reviews, check_pilot_name
from sandbox.hosted.runfacts import RunFacts, read_run

__all__ = ["MAX_RUNS", "UnknownPilot", "pilot_journey"]

MAX_RUNS: Final = 100  # the newest runs; older ones stay in the trail and the jobs list
_SIGN_OFF_FIELDS: Final = (
    "reviewer", "reviewer_name", "capacity", "decision", "reason", "publish", "phase",
)  # fmt: skip
_MOVE_FIELDS: Final = ("from", "to", "sign_offs")


class UnknownPilot(UserInputError):
    """No such pilot for the caller: unknown, or another organisation's (the API's 404)."""


def _event(record: TrailRecord, facts: RunFacts) -> dict[str, Any] | None:
    event: dict[str, Any] = {
        "seq": record.seq,
        "time": record.time,
        "kind": record.kind,
        "run_id": record.run_id,
        "actor": record.actor,
    }
    p = record.payload
    if record.kind in SUBMITTED_KINDS:
        return event | {"phase": facts.phase}
    if record.kind in TERMINAL_KINDS:
        return event | {"verdict": facts.verdict, "passed": facts.passed}
    if record.kind == "run.signed_off":
        return event | {key: p.get(key) for key in _SIGN_OFF_FIELDS}
    if record.kind == "pilot.phase_moved":
        return event | {key: p.get(key) for key in _MOVE_FIELDS}
    return None  # run.started and the like: the dashboard shows decisions, not stages


def _run(facts: RunFacts, job: tuple[str, str] | None) -> dict[str, Any]:
    return {
        "run_id": facts.run_id,
        "job_id": job[0] if job else None,
        "job_state": job[1] if job else None,
        "phase": facts.phase,
        "submitted": facts.submitted,
        "ended": facts.ended_at,
        "verdict": facts.verdict,
        "passed": facts.passed,
        "disparities": list(facts.disparities),
    }


def _run_ids(
    reviews: Reviews, organisation: str, pilot: str
) -> list[tuple[str, tuple[str, str] | None]]:
    from_jobs = reviews.runs_of(organisation, pilot, limit=MAX_RUNS)
    if from_jobs:
        return [(run_id, (job_id, state)) for job_id, state, run_id in from_jobs]
    submitted = [
        r.run_id
        for r in reviews.trail.store.records_of_kind("run.submitted")
        if r.run_id and r.payload.get("tenant") == organisation and r.payload.get("pilot") == pilot
    ]
    return [(run_id, None) for run_id in submitted[-MAX_RUNS:]]


def pilot_journey(
    reviews: Reviews, reader: Principal, pilot: str, *, organisation: str | None = None
) -> dict[str, Any]:
    """The pilot's journey as JSON-ready data: phase, runs and events in trail order."""
    check_pilot_name(pilot)
    org = organisation or reader.organisation
    unknown = UnknownPilot(
        f"pilot {pilot}: no such pilot for {reader.id}; `sandbox jobs list` shows the pilots "
        "your organisation has run"
    )
    if not allowed(reader, Action.READ_RUN, org):
        raise unknown
    runs: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for run_id, job in _run_ids(reviews, org, pilot):
        facts = read_run(reviews.trail, run_id)
        if facts is None or facts.organisation != org or facts.pilot != pilot:
            continue  # a job whose run never reached the trail, or a record that is not its
        runs.append(_run(facts, job))
        events.extend(e for r in facts.records if (e := _event(r, facts)) is not None)
    phase = reviews.phase(org, pilot)
    if not runs and not reviews.moves(org, pilot):
        raise unknown
    events.sort(key=lambda e: int(e["seq"]))
    return {"organisation": org, "pilot": pilot, "phase": phase, "runs": runs, "events": events}
