"""The trust anchor: which public keys a verification starts from, and where they came from.

A signature proves only that the holder of a key signed; which key deserves trust has to come
from outside what is being verified. A `KeyChain` starts from its roots and grows only along
the trail's own signed hand-overs:

    pinned   keys an auditor holds (`--trusted-key FILE`, `--keys DIR` of published keys):
             a trail or bundle re-signed with any other key does not verify
    local    the sandbox's own key folder (`<home>/keys/`): the operator's default, which
             proves the trail intact but not who wrote it: whoever can replace both the trail
             and the key folder can forge both, so verification says so
    bundle   the keys inside a bundle: proves the bundle intact, not who made it

Every other key is trusted only from a `trail.key_rotated` record signed by a key already
trusted, that carries the new public key, and only for records after it. A public key
dropped into a keys folder is therefore never used on its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sandbox.audit.events import TrailKeyRotated
from sandbox.audit.record import TrailRecord
from sandbox.audit.signing import Verifier
from sandbox.errors import AuditError, UserInputError

__all__ = ["KeyChain", "Source", "TrustedKey", "pinned_chain"]

#: Where the roots of a key chain came from.
Source = Literal["pinned", "local", "bundle"]


@dataclass(frozen=True)
class TrustedKey:
    """One key of a chain: since which record it is trusted, and why."""

    verifier: Verifier
    since_seq: int  # -1 for a root: trusted for every record
    origin: str  # e.g. "pinned: /auditor/city.pub", "rotation record seq 12 (signed by ...)"


class KeyChain(Mapping[str, Verifier]):
    """Trusted keys by key id: the roots, then every key a trusted rotation record announced.

    Verification calls `follow` with each record whose signature it checked, so the chain
    grows in trail order; build a fresh chain for each verification.
    """

    def __init__(
        self, roots: Mapping[str, tuple[Verifier, str]], *, source: Source, anchor: str
    ) -> None:
        self.source: Source = source
        self.anchor = anchor  # where the roots came from, for the output
        self.trusted: dict[str, TrustedKey] = {
            key_id: TrustedKey(verifier, -1, origin) for key_id, (verifier, origin) in roots.items()
        }

    def fresh(self) -> KeyChain:
        """A new chain with the same roots and nothing followed yet."""
        roots = {k: (t.verifier, t.origin) for k, t in self.trusted.items() if t.since_seq < 0}
        return KeyChain(roots, source=self.source, anchor=self.anchor)

    def __getitem__(self, key_id: str) -> Verifier:
        return self.trusted[key_id].verifier

    def __iter__(self) -> Iterator[str]:
        return iter(self.trusted)

    def __len__(self) -> int:
        return len(self.trusted)

    def trusted_for(self, key_id: str, seq: int) -> Verifier | None:
        """The key `key_id` if it may sign the record at `seq`, else None."""
        found = self.trusted.get(key_id)
        return found.verifier if found is not None and found.since_seq < seq else None

    def as_of(self, size: int) -> dict[str, Verifier]:
        """The keys trusted for a trail of `size` records (to check its checkpoint)."""
        return {k: t.verifier for k, t in self.trusted.items() if t.since_seq < size}

    def follow(self, record: TrailRecord) -> None:
        """Trust the key a verified rotation record announces, from the next record on."""
        if record.kind != TrailKeyRotated.kind or record.key_id not in self.trusted:
            return
        payload = record.payload
        new_id, pem = payload.get("new_key_id"), payload.get("new_public_key")
        if payload.get("old_key_id") != record.key_id or not isinstance(pem, str):
            return
        try:
            verifier = Verifier.from_public_key_pem(pem.encode("ascii"), source="rotation")
        except (AuditError, UnicodeEncodeError):
            return  # its later records then fail as signed by an untrusted key
        if verifier.key_id != new_id or new_id in self.trusted:
            return
        self.trusted[new_id] = TrustedKey(
            verifier, record.seq, f"rotation record seq {record.seq} (signed by {record.key_id})"
        )

    def why_not(self, key_id: str, seq: int) -> str:
        """Why the record at `seq` signed by `key_id` is not trusted."""
        found = self.trusted.get(key_id)
        if found is not None:
            return (
                f"signed by key {key_id}, which is trusted only after its rotation record "
                f"seq {found.since_seq}"
            )
        roots = ", ".join(k for k, t in self.trusted.items() if t.since_seq < 0) or "none"
        return (
            f"signed by key {key_id}, which is neither a {self.source} key ({roots}) nor "
            "announced by a signed rotation record before it"
        )

    def describe(self) -> list[str]:
        """One line per trusted key: its id and where its trust came from."""
        return [f"{key_id}  {t.origin}" for key_id, t in self.trusted.items()]


def pinned_chain(files: list[Path], folders: list[Path]) -> KeyChain:
    """A chain rooted in the public key files and folders of `*.pub` an auditor holds."""
    roots: dict[str, tuple[Verifier, str]] = {}
    for path in files:
        if not path.is_file():
            raise UserInputError(f"--trusted-key {path}: no such file")
    for folder in folders:
        if not folder.is_dir():
            raise UserInputError(f"--keys {folder}: not a folder of public keys")
        for path in sorted(folder.glob("*.pub")):
            verifier = Verifier.from_public_key_file(path)
            roots.setdefault(verifier.key_id, (verifier, f"pinned: {path}"))
    for path in files:
        verifier = Verifier.from_public_key_file(path)
        roots.setdefault(verifier.key_id, (verifier, f"pinned: {path}"))
    if not roots:
        where = ", ".join(str(f) for f in folders)
        raise UserInputError(f"--keys {where}: holds no *.pub public key to pin")
    anchor = ", ".join(str(p) for p in [*files, *folders])
    return KeyChain(roots, source="pinned", anchor=anchor)
