"""What a run's own signed records say, as the API reads them from `<run_dir>/audit-record.json`.

The run workflow writes that file when the run ends: the run's trail records, signed. The API
takes two facts from it and from nowhere else: who the run belongs to (the `tenant` of the
submitted record, set by the operator, never the pilot's `owner.city`), and the hash of every
report file (the terminal record's `reports`). A report is served only after its bytes hash to
the recorded value, so a report edited after its run is refused, never served.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, Final

from sandbox.api.errors import ApiError
from sandbox.digests import bytes_sha256
from sandbox.runs.state import read_state

__all__ = ["MAX_REPORT_BYTES", "PENDING", "read_verified", "recorded_facts", "recorded_tenant"]

AUDIT_RECORD: Final = "audit-record.json"
MAX_RECORD_BYTES: Final = 10 * 1024 * 1024
MAX_REPORT_BYTES: Final = 50 * 1024 * 1024
_SUBMITTED: Final = frozenset({"run.submitted", "audit.submitted"})
PENDING: Final = "\x00pending"  # the run has not ended yet: ask again later


def _read_regular(path: Path, max_bytes: int) -> bytes | None:
    """The bytes of a regular file (no link, no FIFO), at most `max_bytes`; None otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(max_bytes + 1)
        return data if len(data) <= max_bytes else None
    finally:
        os.close(fd)


def _records(run_dir: Path) -> list[dict[str, Any]] | None:
    """The run's records; None when the file is missing, odd or not yet complete."""
    raw = _read_regular(run_dir / AUDIT_RECORD, MAX_RECORD_BYTES)
    if raw is None:
        return None
    try:
        records = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        return None
    return [r for r in records if r.get("run_id") == run_dir.name]


def recorded_tenant(run_dir: Path) -> str | None:
    """The tenant the run was recorded for; None (never served) or PENDING (not ended yet)."""
    records = _records(run_dir)
    if records is None:
        # Not written yet (the run goes on, or is closing) or half-written: look again later.
        # A run recovery marked lost never gets one, and has no report to serve.
        return None if read_state(run_dir).get("status") == "lost" else PENDING
    for record in records:
        if record.get("kind") in _SUBMITTED:
            payload = record.get("payload")
            tenant = payload.get("tenant") if isinstance(payload, dict) else None
            return tenant if isinstance(tenant, str) and tenant else None
    return None


def recorded_facts(run_dir: Path) -> dict[str, Any]:
    """What the signed records alone say of a run: pilot, version, start, verdict, failed rules."""
    records = _records(run_dir) or []
    facts: dict[str, Any] = {}
    for record in records:
        found = record.get("payload")
        payload: dict[str, Any] = found if isinstance(found, dict) else {}
        if record.get("kind") in _SUBMITTED:
            facts |= {"pilot": payload.get("pilot"), "version": payload.get("version")}
            facts["started_at"] = record.get("time")
        if "verdict" in payload:
            facts |= {"verdict": payload["verdict"], "failed_rules": payload.get("failed_rules")}
    return facts


def _recorded_hash(run_dir: Path, name: str) -> str | None:
    """The hash the run's terminal record gives the report file `name`."""
    for record in reversed(_records(run_dir) or []):
        payload = record.get("payload")
        reports = payload.get("reports") if isinstance(payload, dict) else None
        if isinstance(reports, dict):
            value = reports.get(name)
            return value if isinstance(value, str) else None
    return None


def read_verified(run_dir: Path, name: str) -> bytes:
    """The bytes of report `name` once they hash to the run's record; ApiError 409 if not."""
    expected = _recorded_hash(run_dir, name)
    data = _read_regular(run_dir / "reports" / name, MAX_REPORT_BYTES)
    if expected is None or data is None or bytes_sha256(data) != expected:
        raise ApiError(
            409,
            f"{name} of run {run_dir.name} does not match the hash in the run's signed record; "
            "it is not served (ask the operator to check the run with `sandbox audit verify`)",
        )
    return data
