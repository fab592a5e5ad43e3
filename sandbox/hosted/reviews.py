"""Sign-offs of runs and phase moves of pilots, on PostgreSQL and in the signed trail.

`Reviews(url, trail)` records the decisions a city's people take on its runs:

- `sign_off`: a person (kind user) with the reviewer role approves or rejects one of their
  organisation's runs, in a named capacity, for the phase after the run's own. The capacity
  must be one that phase's packs require (`phases.required_capacities`), or any when they
  require none. A rejection needs a reason; an approval needs a run that passed. One person
  gives one decision per run (so never two capacities), and never on a run of a job they
  submitted.
- `move_phase`: a reviewer moves a pilot one phase on, resting on one passed run in its
  current phase and that run's approvals (`phases.move_problems` says what is missing).

Each decision is first appended to the trail (`run.signed_off`, `pilot.phase_moved`) and then
copied into a row that carries the record's sequence number, in a transaction holding an
advisory lock on the run (sign-offs) or the pilot (moves). Trail first, because the signed
record is the decision: a row without a record would be a claim with no evidence, while a
record without a row (the process died between the two) is repaired from the trail by the
next reader or writer (`review_rows.catch_up_*`) before anything is checked against the rows.

Facts about a run are read from the trail (`runfacts.read_run`), never from the caller. A run
unknown, or of another organisation, gives the same `UnknownRun`, so no answer says that a run
exists elsewhere.
"""

from __future__ import annotations

import unicodedata
from typing import Final

from sqlalchemy import Connection, select

from sandbox.audit.events import PilotPhaseMoved, RunSignedOff
from sandbox.audit.trail import AuditTrail
from sandbox.errors import AccessDenied, UserInputError
from sandbox.hosted.access import Action, allowed
from sandbox.hosted.database import SETTING
from sandbox.hosted.identity import Principal, Role
from sandbox.hosted.phases import (
    FIRST_PHASE,
    capacity_for,
    check_phase,
    move_problems,
    next_phase,
    required_capacities,
)
from sandbox.hosted.repository import Clock, Repository, utcnow
from sandbox.hosted.review_rows import (
    Decision,
    PhaseMove,
    SignOff,
    catch_up_pilot,
    catch_up_sign_offs,
    move_from,
    sign_off_from,
)
from sandbox.hosted.runfacts import RunFacts, check_run_id, read_run
from sandbox.hosted.tables import jobs, sign_offs

__all__ = [
    "MAX_REASON",
    "Decision",
    "PhaseMove",
    "PhaseMoveRefused",
    "Reviews",
    "SignOff",
    "SignOffRefused",
    "UnknownRun",
    "check_pilot_name",
]

MAX_REASON: Final = 2000
_PILOT: Final = "1-63 characters of a-z, 0-9 and '-', starting with a letter or digit"


class UnknownRun(UserInputError):
    """No such run for the caller: unknown, or another organisation's (the API's 404)."""


class SignOffRefused(UserInputError):
    """A sign-off the rules do not allow; the message says why and what to do."""


class PhaseMoveRefused(UserInputError):
    """A phase move the rules do not allow; `missing` lists each missing piece."""

    def __init__(self, message: str, missing: tuple[str, ...]) -> None:
        super().__init__(message)
        self.missing = missing


def check_pilot_name(value: object) -> str:
    """`value` if it is a pilot name (a manifest's `pilot.name` slug); UserInputError if not."""
    ok = isinstance(value, str) and 0 < len(value) < 64 and value[0] != "-"
    if not ok or not all(c in "abcdefghijklmnopqrstuvwxyz0123456789-" for c in str(value)):
        shown = ascii(value[:60]) if isinstance(value, str) else type(value).__name__
        raise UserInputError(f"pilot: {shown} is not a pilot name ({_PILOT}, as in pilot.yaml)")
    return str(value)


def _reason(value: object, decision: Decision) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if decision is Decision.REJECTED:
            raise UserInputError("reason: a rejection needs a reason; say what must change")
        return None
    if not isinstance(value, str) or len(value) > MAX_REASON:
        raise UserInputError(f"reason: give text of at most {MAX_REASON} characters")
    if any(not (c.isprintable() or c == "\n") for c in value):
        raise UserInputError("reason: holds control characters; use plain text and line breaks")
    return unicodedata.normalize("NFC", value.strip())


def _decision(value: object) -> Decision:
    try:
        return Decision(value if isinstance(value, str) else "")
    except ValueError:
        shown = ascii(value[:40]) if isinstance(value, str) else type(value).__name__
        raise UserInputError(f"decision: {shown} is not one of approved, rejected") from None


def _may_decide(principal: Principal, doing: str) -> None:
    if not allowed(principal, Action.SIGN_OFF, principal.organisation):
        raise AccessDenied(
            f"{principal.id} may not {doing}: it takes a person (kind user) with the "
            f"{Role.REVIEWER} role in {principal.organisation}; ask an operator for the role"
        )


class Reviews(Repository):
    """Sign-offs and phase moves of one hosted sandbox (`migrate` first)."""

    def __init__(
        self,
        url: str,
        trail: AuditTrail,
        *,
        setting: str = SETTING,
        clock: Clock = utcnow,
    ) -> None:
        super().__init__(url, setting=setting, clock=clock)
        self._trail = trail

    @property
    def trail(self) -> AuditTrail:
        """The trail the decisions are signed into and the runs' facts read from."""
        return self._trail

    def _run_of(self, principal: Principal, run_id: str, action: Action) -> RunFacts:
        """The run, if `principal` may take `action` on it; UnknownRun otherwise."""
        facts = read_run(self._trail, check_run_id(run_id))
        if (
            facts is None
            or not facts.organisation
            or not allowed(principal, action, facts.organisation)
        ):
            raise UnknownRun(
                f"run {run_id}: no such run for {principal.id}; use the run id one of your "
                "organisation's jobs shows"
            )
        return facts

    # --- sign-offs ------------------------------------------------------------------------

    def sign_off(
        self,
        reviewer: Principal,
        run_id: str,
        *,
        capacity: str,
        decision: Decision | str,
        reason: str | None = None,
        publish: bool = False,
    ) -> SignOff:
        """Record `reviewer`'s decision on `run_id`, in the trail and then in the table."""
        chosen = _decision(decision)
        why = _reason(reason, chosen)
        if not isinstance(publish, bool):
            raise UserInputError("publish: give true or false")
        _may_decide(reviewer, "sign off runs")
        facts = self._run_of(reviewer, run_id, Action.SIGN_OFF)
        if facts.ended is None:
            raise SignOffRefused(f"run {run_id} has not ended yet: sign it off once it has")
        if facts.phase is None or facts.pilot is None:
            raise SignOffRefused(f"run {run_id}: its record names no pilot or phase to sign for")
        phase = next_phase(facts.phase) or facts.phase
        named = capacity_for(capacity, phase, required_capacities(phase))
        if chosen is Decision.APPROVED and not facts.passed:
            raise SignOffRefused(
                f"run {run_id} did not pass (verdict {facts.verdict}): only a run that passed "
                "can be approved; approve a passed run, or reject this one with a reason"
            )
        with self._transaction("record the sign-off", locks=(f"run:{run_id}",)) as conn:
            # Read again under the lock: a record appended by a writer that then died counts.
            catch_up_sign_offs(conn, facts.pilot, self._trail.records_for_run(run_id))
            self._check_once(conn, reviewer, run_id)
            record = self._trail.record(
                RunSignedOff(
                    actor=reviewer.id,
                    run_id=run_id,
                    payload={
                        "organisation": reviewer.organisation,
                        "reviewer": reviewer.id,
                        "reviewer_name": reviewer.display_name,
                        "capacity": named,
                        "decision": chosen.value,
                        "reason": why,
                        "publish": publish,
                        "phase": phase,
                    },
                )
            )
            catch_up_sign_offs(conn, facts.pilot, [record])
            row = conn.execute(select(sign_offs).where(sign_offs.c.trail_seq == record.seq)).one()
        return sign_off_from(row)

    def _check_once(self, conn: Connection, reviewer: Principal, run_id: str) -> None:
        submitter = conn.execute(select(jobs.c.principal_id).where(jobs.c.run_id == run_id)).first()
        if submitter is not None and submitter.principal_id == reviewer.id:
            raise SignOffRefused(
                f"run {run_id}: {reviewer.id} submitted the job that ran it; another reviewer "
                "of the organisation signs it off"
            )
        earlier = conn.execute(
            select(sign_offs).where(
                sign_offs.c.run_id == run_id, sign_offs.c.principal_id == reviewer.id
            )
        ).first()
        if earlier is not None:
            raise SignOffRefused(
                f"run {run_id}: {reviewer.id} already {earlier.decision} it as "
                f"{earlier.capacity} (record {earlier.trail_seq}); one person gives one decision "
                "in one capacity per run"
            )

    def sign_offs(self, reader: Principal, run_id: str) -> list[SignOff]:
        """The sign-offs of a run `reader` may read, in trail order."""
        facts = self._run_of(reader, run_id, Action.READ_RUN)
        with self._transaction("read the sign-offs") as conn:
            if facts.pilot is not None:
                catch_up_sign_offs(conn, facts.pilot, facts.records)
            rows = conn.execute(
                select(sign_offs)
                .where(sign_offs.c.run_id == run_id)
                .order_by(sign_offs.c.trail_seq)
            ).all()
        return [sign_off_from(row) for row in rows]

    # --- phases ---------------------------------------------------------------------------

    def phase(self, organisation: str, pilot: str) -> str:
        """The pilot's phase on the register (the first phase until a move is recorded)."""
        check_pilot_name(pilot)
        moves = self._trail.store.records_of_kind(PilotPhaseMoved.kind)
        with self._transaction("read the pilot's phase") as conn:
            return catch_up_pilot(conn, organisation, pilot, moves) or FIRST_PHASE

    def moves(self, organisation: str, pilot: str) -> list[PhaseMove]:
        """The pilot's phase moves, oldest first, from the trail."""
        check_pilot_name(pilot)
        return [
            move_from(r)
            for r in self._trail.store.records_of_kind(PilotPhaseMoved.kind)
            if r.payload.get("organisation") == organisation and r.payload.get("pilot") == pilot
        ]

    def move_phase(self, mover: Principal, pilot: str, *, to: str, run_id: str) -> PhaseMove:
        """Move `pilot` one phase on, to `to`, resting on `run_id`; PhaseMoveRefused if not."""
        check_pilot_name(pilot)
        target = check_phase(to, field="to")
        _may_decide(mover, "move pilots between phases")
        org = mover.organisation
        facts = self._run_of(mover, run_id, Action.SIGN_OFF)
        if facts.pilot != pilot:
            raise PhaseMoveRefused(
                f"run {run_id} is a run of {facts.pilot}, not of {pilot}: move on a run of {pilot}",
                (f"a run of {pilot}",),
            )
        # The pilot's lock, then the run's (a sign-off takes the run's alone, so the order is
        # never reversed): no sign-off of the run lands between the check and the move.
        locks = (f"pilot:{org}/{pilot}", f"run:{run_id}")
        with self._transaction("move the pilot", locks=locks) as conn:
            moves = self._trail.store.records_of_kind(PilotPhaseMoved.kind)
            current = catch_up_pilot(conn, org, pilot, moves) or FIRST_PHASE
            catch_up_sign_offs(conn, pilot, self._trail.records_for_run(run_id))
            given = [
                sign_off_from(row)
                for row in conn.execute(
                    select(sign_offs)
                    .where(sign_offs.c.run_id == run_id)
                    .order_by(sign_offs.c.trail_seq)
                )
            ]
            problems = move_problems(
                pilot=pilot,
                current=current,
                target=target,
                run_id=run_id,
                run_phase=facts.phase,
                run_verdict=facts.verdict,
                run_passed=facts.passed,
                sign_offs=given,
                required=required_capacities(target),
            )
            if problems:
                raise PhaseMoveRefused(
                    f"cannot move {pilot} from {current} to {target}: " + "; ".join(problems),
                    tuple(problems),
                )
            resting = [
                s.trail_seq for s in given if s.phase == target and s.decision == Decision.APPROVED
            ]
            record = self._trail.record(
                PilotPhaseMoved(
                    actor=mover.id,
                    run_id=run_id,
                    payload={
                        "organisation": org,
                        "pilot": pilot,
                        "from": current,
                        "to": target,
                        "run_id": run_id,
                        "sign_offs": resting,
                    },
                )
            )
            catch_up_pilot(conn, org, pilot, [record])
        return move_from(record)

    def runs_of(self, organisation: str, pilot: str, *, limit: int) -> list[tuple[str, str, str]]:
        """(job id, job state, run id) of the pilot's jobs that started a run, oldest first."""
        check_pilot_name(pilot)
        with self._transaction("read the pilot's jobs") as conn:
            rows = conn.execute(
                select(jobs.c.id, jobs.c.state, jobs.c.run_id)
                .where(
                    jobs.c.organisation_id == organisation,
                    jobs.c.pilot_name == pilot,
                    jobs.c.run_id.is_not(None),
                )
                .order_by(jobs.c.created.desc())
                .limit(limit)
            ).all()
        return [(row.id, row.state, row.run_id) for row in reversed(rows)]
