"""The keyring: every public key that ever signed the trail, so key rotation breaks nothing.

The signing key lives at `<home>/keys/trail-ed25519.pem` (its public key beside it as
`.pub`). Public keys of the current and all retired keys are kept in `<home>/keys/public/`,
one PEM file per key named after its key id (`ed25519-<16 hex>.pub`). A record names the key
that signed it (`key_id`), and the verifier picks that key from the keyring.

Rotation appends a `trail.key_rotated` record signed by the *old* key that names the new
key and carries its public key: the chain itself vouches for the hand-over.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sandbox.audit.anchor import KeyChain
from sandbox.audit.events import TrailKeyRotated
from sandbox.audit.record import TrailRecord
from sandbox.audit.signing import Signer, Verifier, public_key_path_for
from sandbox.audit.store import TrailStore
from sandbox.audit.trail import AuditTrail
from sandbox.errors import AuditError

__all__ = [
    "Rotation",
    "archive_public_key",
    "export_public_keys",
    "key_file_name",
    "keyring_dir",
    "load_keyring",
    "local_chain",
    "read_keyring_dir",
    "rotate_key",
]


def keyring_dir(key_path: Path) -> Path:
    """The folder of public keys kept beside the signing key (`<keys>/public/`)."""
    return Path(key_path).parent / "public"


def key_file_name(key_id: str) -> str:
    """The file name of a public key in a keyring folder: `ed25519-<16 hex>.pub`."""
    return key_id.replace(":", "-") + ".pub"


def archive_public_key(verifier: Verifier, folder: Path) -> Path:
    """Keep `verifier`'s public key in `folder` (idempotent); returns its file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / key_file_name(verifier.key_id)
    pem = verifier.public_key_pem()
    if not path.exists() or path.read_bytes() != pem:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(pem)
        tmp.replace(path)
    return path


def read_keyring_dir(folder: Path) -> dict[str, Verifier]:
    """Every `*.pub` public key in `folder`, by key id; a file named after another key fails."""
    keys: dict[str, Verifier] = {}
    if not folder.is_dir():
        return keys
    for path in sorted(folder.glob("*.pub")):
        verifier = Verifier.from_public_key_file(path)
        if path.name.startswith("ed25519-") and path.name != key_file_name(verifier.key_id):
            raise AuditError(
                f"{path}: the file is named after another key than the one it holds "
                f"({verifier.key_id}); rename it to {key_file_name(verifier.key_id)}"
            )
        keys[verifier.key_id] = verifier
    return keys


def load_keyring(key_path: Path) -> dict[str, Verifier]:
    """The current public key (beside `key_path`) and every retired one, by key id."""
    keys = read_keyring_dir(keyring_dir(key_path))
    current = public_key_path_for(Path(key_path))
    if current.is_file():
        verifier = Verifier.from_public_key_file(current)
        keys[verifier.key_id] = verifier
    return keys


def local_chain(key_path: Path, first_key_id: str | None) -> KeyChain:
    """The operator's trust anchor: the local key that signed the trail's first record.

    Later keys are trusted only through the trail's signed rotation records, so a public key
    dropped into the keys folder is never trusted by itself. `first_key_id` None (an empty
    trail) roots the chain in the current key.
    """
    key_path = Path(key_path)
    for path in [public_key_path_for(key_path), *sorted(keyring_dir(key_path).glob("*.pub"))]:
        if not path.is_file():
            continue
        verifier = Verifier.from_public_key_file(path)
        if first_key_id in (None, verifier.key_id):
            root = {verifier.key_id: (verifier, f"local key folder: {path}")}
            return KeyChain(root, source="local", anchor=str(key_path.parent))
    return KeyChain({}, source="local", anchor=str(key_path.parent))


@dataclass(frozen=True, kw_only=True)
class Rotation:
    """A completed key rotation: the retired and the new key, and the record of the hand-over."""

    old_key_id: str
    new_key_id: str
    record: TrailRecord
    signer: Signer


def rotate_key(trail_path: Path | TrailStore, key_path: Path, *, actor: str) -> Rotation:
    """Retire the signing key at `key_path` and put a new one in its place.

    The old public key is kept in the keyring, then a `trail.key_rotated` record signed by the
    old key announces the new key, and only then is the private key replaced.
    """
    old = Signer.load_or_create(key_path)
    folder = keyring_dir(key_path)
    archive_public_key(old.verifier(), folder)
    new = Signer.generate()
    archive_public_key(new.verifier(), folder)
    record = AuditTrail(trail_path, old).record(
        TrailKeyRotated(
            actor=actor,
            payload={
                "old_key_id": old.key_id,
                "new_key_id": new.key_id,
                "new_public_key": new.verifier().public_key_pem().decode("ascii"),
            },
        )
    )
    # Install the very key announced in the record. Should this fail, the record names a key
    # that never signed anything and the old key stays in place: rotate again.
    installed = new.install(key_path)
    return Rotation(old_key_id=old.key_id, new_key_id=new.key_id, record=record, signer=installed)


def export_public_keys(keys: Mapping[str, Verifier], dest: Path, *, current: str | None) -> Path:
    """Write every public key to `dest` with an index `keys.json`; returns the index."""
    dest.mkdir(parents=True, exist_ok=True)
    files = {}
    for key_id, verifier in sorted(keys.items()):
        files[key_id] = archive_public_key(verifier, dest).name
    index = dest / "keys.json"
    index.write_text(
        json.dumps({"current": current, "keys": files}, indent=2, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    return index
