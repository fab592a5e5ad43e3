"""Trail events: what happened, as small frozen records with a stable `kind` name.

Every kind the sandbox writes is declared here, once, as a subclass of `TrailEvent`; the
trail, bundles, attestations and recovery read the kinds (and which of them end a run) from
this module, so a new kind is one class here and no list elsewhere can miss it.

    TrailEvent                      actor, run_id, payload; `kind` and `terminal` per class
     ├── RunSubmitted               run.submitted     a pilot was handed in
     ├── RunRejected      terminal  run.rejected      its manifest could not be read
     ├── RunBlocked       terminal  run.blocked       a blocking rule kept it from starting
     ├── RunStarted                 run.started       its container was launched
     ├── RunFinished      terminal  run.finished      it ran and was evaluated
     ├── RunFailed        terminal  run.failed        it broke off with an error
     ├── RunLost          terminal  run.lost          its runner died; recovery closed it
     ├── AuditSubmitted             audit.submitted   predictions handed in for an audit
     ├── AuditFinished    terminal  audit.finished    the predictions-only audit ended
     ├── AuditReplayed              audit.replayed    a finished run was re-run to compare
     ├── JobSubmitted               job.submitted     a hosted submission passed the door, queued
     ├── JobBlocked                 job.blocked       a hosted submission blocked at the door
     ├── TrailRecovered             trail.recovered   bytes of an interrupted write set aside
     ├── TrailKeyRotated            trail.key_rotated the signing key was replaced
     ├── RunSignedOff               run.signed_off    a person approved or rejected a run
     └── PilotPhaseMoved            pilot.phase_moved a pilot went on to its next phase

A trail accepts other dotted lower-case kinds too (`AuditTrail.append`); they are never
terminal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import ClassVar, Final

__all__ = [
    "EVENTS",
    "KINDS",
    "SUBMITTED_KINDS",
    "TERMINAL_KINDS",
    "AuditFinished",
    "AuditReplayed",
    "AuditSubmitted",
    "JobBlocked",
    "JobSubmitted",
    "PilotPhaseMoved",
    "RunBlocked",
    "RunFailed",
    "RunFinished",
    "RunLost",
    "RunRejected",
    "RunSignedOff",
    "RunStarted",
    "RunSubmitted",
    "TrailEvent",
    "TrailKeyRotated",
    "TrailRecovered",
    "is_terminal",
]


@dataclass(frozen=True, kw_only=True)
class TrailEvent:
    """Something that happened, to be signed into the trail: who, for which run, and what.

    A subclass names its kind in its class statement:
    `class RunLost(TrailEvent, kind="run.lost", terminal=True)`.
    """

    kind: ClassVar[str] = ""
    #: Whether this event closes its run: nothing of the run's own follows it.
    terminal: ClassVar[bool] = False
    #: Whether this event opens a run (the first record of a run's evidence).
    opens_run: ClassVar[bool] = False

    actor: str
    run_id: str | None = None
    payload: Mapping[str, object] = field(default_factory=dict, hash=False)

    def __init_subclass__(
        cls, *, kind: str = "", terminal: bool = False, opens_run: bool = False
    ) -> None:
        super().__init_subclass__()
        cls.kind, cls.terminal, cls.opens_run = kind, terminal, opens_run


# Subclasses add no fields, so they stay frozen dataclasses without a decorator of their own.
class RunSubmitted(TrailEvent, kind="run.submitted", opens_run=True):
    """A pilot was handed in: hashes of its manifest, packs and data."""


class RunRejected(TrailEvent, kind="run.rejected", terminal=True):
    """A pilot whose manifest could not be read; it never ran."""


class RunBlocked(TrailEvent, kind="run.blocked", terminal=True):
    """A blocking rule kept the pilot from running (or marked it blocked afterwards)."""


class RunStarted(TrailEvent, kind="run.started"):
    """The container was launched: image digest and the hashes of what crossed the wall."""


class RunFinished(TrailEvent, kind="run.finished", terminal=True):
    """The run ended and was evaluated: verdict, output and report hashes."""


class RunFailed(TrailEvent, kind="run.failed", terminal=True):
    """The run broke off with an error."""


class RunLost(TrailEvent, kind="run.lost", terminal=True):
    """The runner died before the run ended; recovery closed the run."""


class AuditSubmitted(TrailEvent, kind="audit.submitted", opens_run=True):
    """Predictions made elsewhere were handed in for a predictions-only audit."""


class AuditFinished(TrailEvent, kind="audit.finished", terminal=True):
    """The predictions-only audit ended: verdict and report hashes."""


class AuditReplayed(TrailEvent, kind="audit.replayed"):
    """A finished run was re-run from its recorded inputs and the outputs compared."""


class JobSubmitted(TrailEvent, kind="job.submitted"):
    """A hosted submission passed its pre-run policies and was queued as a job."""


class JobBlocked(TrailEvent, kind="job.blocked"):
    """A hosted submission was blocked by its pre-run policies: no job, no run."""


class TrailRecovered(TrailEvent, kind="trail.recovered"):
    """The bytes of an interrupted write were set aside before the next record."""


class TrailKeyRotated(TrailEvent, kind="trail.key_rotated"):
    """The signing key was replaced; signed by the old key, naming the new one."""


class RunSignedOff(TrailEvent, kind="run.signed_off"):
    """A person of the run's organisation approved or rejected it, in a named capacity."""


class PilotPhaseMoved(TrailEvent, kind="pilot.phase_moved"):
    """A pilot moved one phase on, resting on one passed run and its approvals."""


_ALL: Final[tuple[type[TrailEvent], ...]] = (
    RunSubmitted,
    RunBlocked,
    RunStarted,
    RunFinished,
    RunFailed,
    RunRejected,
    RunLost,
    AuditSubmitted,
    AuditFinished,
    AuditReplayed,
    JobSubmitted,
    JobBlocked,
    TrailRecovered,
    TrailKeyRotated,
    RunSignedOff,
    PilotPhaseMoved,
)

#: Every event class the sandbox writes, by kind.
EVENTS: Final[Mapping[str, type[TrailEvent]]] = MappingProxyType({e.kind: e for e in _ALL})
#: The record kinds the sandbox writes. Other dotted lower-case names are accepted too.
KINDS: Final[tuple[str, ...]] = tuple(EVENTS)
#: The kinds that close a run: exactly one of them ends each run's own records.
TERMINAL_KINDS: Final[frozenset[str]] = frozenset(k for k, e in EVENTS.items() if e.terminal)
#: The kinds that open a run's evidence (a pilot run or a predictions-only audit).
SUBMITTED_KINDS: Final[tuple[str, ...]] = tuple(k for k, e in EVENTS.items() if e.opens_run)


def is_terminal(kind: str) -> bool:
    """Whether a record of `kind` closes its run."""
    return kind in TERMINAL_KINDS
