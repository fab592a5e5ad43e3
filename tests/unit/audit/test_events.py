"""Trail events: one definition of every kind, and of the kinds that end a run."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sandbox
from sandbox.audit import events, trail
from sandbox.audit.events import (
    EVENTS,
    KINDS,
    SUBMITTED_KINDS,
    TERMINAL_KINDS,
    RunLost,
    TrailEvent,
    is_terminal,
)
from sandbox.audit.signing import Signer
from sandbox.audit.store import MemoryTrailStore
from sandbox.audit.trail import AuditTrail


def test_every_kind_that_closes_a_run_is_terminal() -> None:
    assert {
        "run.finished",
        "run.blocked",
        "run.failed",
        "run.rejected",
        "run.lost",
        "audit.finished",
    } == TERMINAL_KINDS
    assert set(SUBMITTED_KINDS) == {"run.submitted", "audit.submitted"}
    assert not is_terminal("run.started") and not is_terminal("audit.replayed")


def test_the_trail_knows_every_kind_it_is_told_to_write() -> None:
    assert trail.KINDS is KINDS
    assert "run.lost" in KINDS
    assert all(EVENTS[kind].kind == kind for kind in KINDS)


def test_events_are_frozen_and_carry_actor_run_and_payload() -> None:
    event = RunLost(actor="sandbox", run_id="r1", payload={"reason": "killed"})
    with pytest.raises(AttributeError):
        event.actor = "someone else"  # type: ignore[misc]
    assert event.kind == "run.lost" and event.terminal
    assert isinstance(event, TrailEvent)


def test_recording_an_event_writes_its_kind() -> None:
    audit_trail = AuditTrail(MemoryTrailStore(), Signer.generate())
    record = audit_trail.record(RunLost(actor="sandbox", run_id="r1", payload={"n": 1}))
    assert (record.kind, record.run_id, record.payload) == ("run.lost", "r1", {"n": 1})
    assert audit_trail.records_for_run("r1") == [record]


def test_no_module_keeps_its_own_set_of_terminal_kinds() -> None:
    """A frozenset or tuple literal of several kinds outside events.py is a second definition."""
    root = Path(sandbox.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        if path == Path(events.__file__):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Set | ast.Tuple | ast.List):
                kinds = [
                    e.value
                    for e in node.elts
                    if isinstance(e, ast.Constant) and e.value in TERMINAL_KINDS
                ]
                if len(kinds) >= 2:
                    offenders.append(f"{path.relative_to(root)}:{node.lineno}: {kinds}")
    assert not offenders, offenders
