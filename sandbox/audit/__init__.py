"""The integrity chain: a signed, hash-chained trail that auditors verify offline.

    events.py       every trail event kind as a small frozen record; which kinds end a run
    record.py       the record format: one signed link as canonical JSON (RFC 8785)
    trail.py        `AuditTrail`: signs events and appends them to a store; reads by run
    store/          the `TrailStore` protocol; the JSON Lines file store (locking, crash-safe
                    appends, fragment recovery, a run index) and an in-memory store
    verify.py       store-neutral verification: canonical form, links, keys, signatures
    signing.py      Ed25519 signer and verifier, key files
    keyring.py      every key the trail was ever signed with (rotation keeps old records valid)
    anchor.py       the trust anchor: pinned (or local) keys, grown only by signed rotations
    merkle.py       the RFC 9162 Merkle tree over the records: roots, inclusion, consistency
    checkpoint.py   signed (size, head, Merkle root) checkpoints to hand to a third party;
                    written after verifying only what was appended since the last one
    attestation.py  in-toto / DSSE attestations of one run's inputs and outputs
    report_integrity.py  a run's report files against the hashes its signed record holds
    bundle/         one run's evidence archive (export.py), verifiable offline (verify.py)

Names load on first use, so importing the package (and starting the CLI) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.audit.events import KINDS, TERMINAL_KINDS, TrailEvent
    from sandbox.audit.record import TrailRecord
    from sandbox.audit.signing import Signer, Verifier
    from sandbox.audit.store import FileTrailStore, Head, MemoryTrailStore, TrailStore
    from sandbox.audit.trail import AuditTrail, iter_records, records_for_run
    from sandbox.audit.verify import TrailVerification, verify_trail

_HOMES = {
    "sandbox.audit.events": ("KINDS", "TERMINAL_KINDS", "TrailEvent"),
    "sandbox.audit.record": ("TrailRecord",),
    "sandbox.audit.signing": ("Signer", "Verifier"),
    "sandbox.audit.store": ("FileTrailStore", "Head", "MemoryTrailStore", "TrailStore"),
    "sandbox.audit.trail": ("AuditTrail", "iter_records", "records_for_run"),
    "sandbox.audit.verify": ("TrailVerification", "verify_trail"),
}
_LAZY = {name: module for module, names in _HOMES.items() for name in names}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
