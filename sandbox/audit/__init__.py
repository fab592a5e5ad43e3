"""The integrity chain: a signed, hash-chained trail that auditors verify offline.

    signing.py      Ed25519 signer and verifier, key files
    keyring.py      every key the trail was ever signed with (rotation keeps old records valid)
    trail.py        the append-only JSON Lines trail: crash-safe appends, records, verification
    checkpoint.py   signed (size, head) checkpoints to hand to a third party
    attestation.py  in-toto / DSSE attestations of one run's inputs and outputs
    bundle.py       one run's evidence archive, verifiable offline with nothing else

Names load on first use, so importing the package (and starting the CLI) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.audit.signing import Signer, Verifier
    from sandbox.audit.trail import (
        AuditTrail,
        TrailRecord,
        TrailVerification,
        iter_records,
        records_for_run,
        verify_trail,
    )

_HOMES = {
    "sandbox.audit.signing": ("Signer", "Verifier"),
    "sandbox.audit.trail": (
        "AuditTrail",
        "TrailRecord",
        "TrailVerification",
        "iter_records",
        "records_for_run",
        "verify_trail",
    ),
}
_LAZY = {name: module for module, names in _HOMES.items() for name in names}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
