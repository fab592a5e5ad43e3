"""What a bundle holds: its format name, its manifest's name, and the hashes of a run.

Shared by `export.py` (which writes bundles) and `verify.py` (which checks them).
"""

from __future__ import annotations

import re
from typing import Final

from sandbox.audit.events import SUBMITTED_KINDS, TERMINAL_KINDS
from sandbox.audit.record import JsonValue, TrailRecord

__all__ = [
    "BUNDLE_FORMAT",
    "MANIFEST",
    "PROOFS",
    "RECORDS",
    "RUN_ID_RE",
    "RUN_STATE_FIELDS",
    "run_hashes",
]

BUNDLE_FORMAT: Final = "ai-commons-sandbox/bundle/v2"
MANIFEST: Final = "MANIFEST.json"
#: The run's records and the trail's key rotations, as stored, each proven by `PROOFS`.
RECORDS: Final = "trail/records.jsonl"
#: Inclusion proofs of those records and consistency proofs to held checkpoints.
PROOFS: Final = "trail/proofs.json"
#: What of run.json a bundle keeps: no host path, no process id.
RUN_STATE_FIELDS: Final = ("run_id", "pilot", "mode", "status", "started_at")
RUN_ID_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def run_hashes(records: list[TrailRecord]) -> dict[str, JsonValue]:
    """The hashes a run's records hold, gathered in one object (`hashes.json`)."""
    by_kind = {r.kind: r.payload for r in records}
    submitted = next((by_kind[k] for k in SUBMITTED_KINDS if k in by_kind), {})
    started = by_kind.get("run.started", {})
    terminal = next((r.payload for r in reversed(records) if r.kind in TERMINAL_KINDS), {})
    return {
        "manifest_sha256": submitted.get("manifest_sha256"),
        "policy_packs": submitted.get("policy_packs"),
        "image": started.get("image"),
        "image_digest": started.get("image_digest"),
        "inputs": started.get("inputs", submitted.get("inputs")),
        "code": started.get("code"),
        "data": started.get("data", submitted.get("data")),
        "outputs": terminal.get("outputs"),
        "reports": terminal.get("reports"),
    }
