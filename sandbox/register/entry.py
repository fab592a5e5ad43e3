"""One register entry: a published algorithm's newest approved run and what is written for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.register.approvals import Approval

__all__ = ["Entry"]


@dataclass(frozen=True)
class Entry:
    """One published algorithm: its newest approved run and everything written for it."""

    id: str
    approval: Approval
    summary: dict[str, Any]  # the entry as register.json holds it
    standard: dict[str, Any]  # entries/<id>.json: the Dutch standard's shape
    atrs: dict[str, Any]  # entries/<id>.atrs.json
    attestation: dict[str, Any]
    proofs: dict[str, Any] = field(default_factory=dict)
