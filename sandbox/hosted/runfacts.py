"""What the audit trail says of one run: whose it is, which pilot, which phase, how it ended.

Sign-offs and phase moves rest on these facts, read from the signed records (the file or the
PostgreSQL store), never from what a caller says: the organisation is the `tenant` the run
was recorded for (a worker runs a job with the job's organisation id as its tenant), the
pilot and phase come from `run.submitted`, the verdict from the terminal record. A run passed
when it ended with `run.finished` and a verdict of pass or pass with warnings.

The headline disparities are the run.finished payload's `disparities` list when it holds one,
else the outcome of each fairness rule in its `governance` section.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from sandbox.audit.events import TERMINAL_KINDS
from sandbox.audit.record import TrailRecord
from sandbox.audit.trail import AuditTrail
from sandbox.errors import UserInputError
from sandbox.hosted.phases import phase_of_run

__all__ = [
    "MAX_HEADLINES",
    "PASSING",
    "RUN_ID",
    "RunFacts",
    "check_run_id",
    "headline_disparities",
    "read_run",
]

RUN_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
PASSING: Final = frozenset({"pass", "pass_with_warnings"})
MAX_HEADLINES: Final = 20  # a journey shows headlines, not a run's whole evaluation
_FAIRNESS: Final = ("fairness.", "phase.fairness.")
_SHORT: Final = 200


@dataclass(frozen=True, kw_only=True)
class RunFacts:
    """One run as its trail records tell it."""

    run_id: str
    organisation: str | None
    pilot: str | None
    phase: str | None
    submitted: str  # the run.submitted record's time (RFC 3339)
    ended: str | None = None  # the terminal record's kind; None while the run goes on
    ended_at: str | None = None
    verdict: str | None = None
    terminal_seq: int | None = None
    disparities: tuple[dict[str, Any], ...] = field(default=(), hash=False)
    records: tuple[TrailRecord, ...] = field(default=(), hash=False, repr=False)

    @property
    def passed(self) -> bool:
        """Whether the run ended evaluated with a passing verdict."""
        return self.ended == "run.finished" and self.verdict in PASSING


def check_run_id(value: object) -> str:
    """`value` if it is a run id; UserInputError naming the rule if not."""
    if not isinstance(value, str) or not RUN_ID.fullmatch(value):
        shown = ascii(value[:60]) if isinstance(value, str) else type(value).__name__
        raise UserInputError(
            f"run id: {shown} is not a run id (1-128 of A-Z, a-z, 0-9, '_', '.', '-'); use "
            "the run id a job shows"
        )
    return value


def _text(value: object) -> str | None:
    return value[:_SHORT] if isinstance(value, str) else None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def headline_disparities(terminal: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
    """The disparities a run's terminal payload headlines, at most `MAX_HEADLINES`."""
    listed = terminal.get("disparities")
    if isinstance(listed, list):
        kept = []
        for item in listed[:MAX_HEADLINES]:
            if isinstance(item, Mapping):
                kept.append(
                    {
                        str(k)[:_SHORT]: (_text(v) if isinstance(v, str) else _number(v))
                        for k, v in list(item.items())[:12]
                    }
                )
        return tuple(kept)
    governance = terminal.get("governance")
    rules = governance.get("rules") if isinstance(governance, Mapping) else None
    if not isinstance(rules, Mapping):
        return ()
    found = []
    for rule_id, result in rules.items():
        if not isinstance(rule_id, str) or not rule_id.startswith(_FAIRNESS):
            continue
        outcome, _, severity = str(result).partition(":")
        found.append({"rule_id": rule_id[:_SHORT], "outcome": outcome, "severity": severity})
        if len(found) == MAX_HEADLINES:
            break
    return tuple(found)


def read_run(trail: AuditTrail, run_id: str) -> RunFacts | None:
    """The facts of pilot run `run_id`, or None when the trail holds no `run.submitted` for it."""
    records = tuple(trail.records_for_run(check_run_id(run_id)))
    submitted = next((r for r in records if r.kind == "run.submitted"), None)
    if submitted is None:
        return None
    payload = submitted.payload
    terminal = next((r for r in records if r.kind in TERMINAL_KINDS), None)
    facts = RunFacts(
        run_id=run_id,
        organisation=_text(payload.get("tenant")),
        pilot=_text(payload.get("pilot")),
        phase=phase_of_run(payload),
        submitted=submitted.time,
        records=records,
    )
    if terminal is None:
        return facts
    ending = terminal.payload
    # run.finished and run.blocked carry a verdict; a failed or lost run is named by its end.
    verdict = ending.get("verdict")
    return replace(
        facts,
        ended=terminal.kind,
        ended_at=terminal.time,
        verdict=_text(verdict) if isinstance(verdict, str) else terminal.kind.removeprefix("run."),
        terminal_seq=terminal.seq,
        disparities=headline_disparities(ending),
    )
