"""Ed25519 keys that sign audit-trail records, and the verifier auditors use offline.

The private key is a PEM file readable by its owner only (0600, in a 0700 folder); the public
key is written beside it as `<key file name>.pub` so it can be handed to an auditor. A key is
named by its `key_id`: "ed25519:" + the first 16 hex digits of the sha256 of the raw 32-byte
public key.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from sandbox.errors import AuditError

__all__ = ["Signer", "Verifier", "key_id_of", "public_key_path_for"]


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """The short, stable name of a public key: "ed25519:<16 hex of sha256(raw key)>"."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


def public_key_path_for(key_path: Path) -> Path:
    """Where the public key of the private key at `key_path` lives (`<name>.pub`)."""
    return key_path.with_name(key_path.name + ".pub")


def _public_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def fsync_dir(folder: Path) -> None:
    """Make a folder's entries (a new or renamed file) durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_exclusive(path: Path, data: bytes, mode: int) -> None:
    """Write `data` to a new file created with O_EXCL and `mode`, then fsync it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode)
    try:
        os.fchmod(fd, mode)  # the umask may have removed bits we want (never adds any)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(path: Path, data: bytes, mode: int, *, replace: bool) -> bool:
    """Atomically make `data` appear at `path`; without `replace`, lose to an existing file.

    The content is written to a private temporary file first, so readers never see a half
    written key. Returns False when another process published `path` first.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    _write_exclusive(tmp, data, mode)
    try:
        if replace:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # atomic and fails if `path` exists: first writer wins
            except FileExistsError:
                return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    fsync_dir(path.parent)
    return True


class Verifier:
    """Checks signatures made by one Ed25519 public key."""

    __slots__ = ("_public_key", "key_id")

    def __init__(self, public_key: Ed25519PublicKey) -> None:
        self._public_key = public_key
        self.key_id = key_id_of(public_key)

    @classmethod
    def from_public_key_pem(cls, pem: bytes, *, source: str = "public key") -> Verifier:
        """A verifier for a PEM (SubjectPublicKeyInfo) Ed25519 public key."""
        try:
            key = serialization.load_pem_public_key(pem)
        except ValueError as exc:
            raise AuditError(f"{source}: not a PEM public key ({exc})") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise AuditError(f"{source}: not an Ed25519 public key ({type(key).__name__})")
        return cls(key)

    @classmethod
    def from_public_key_file(cls, path: Path) -> Verifier:
        """A verifier for the PEM public key in `path` (e.g. the `.pub` beside the signing key)."""
        try:
            pem = Path(path).read_bytes()
        except OSError as exc:
            raise AuditError(f"{path}: cannot read the public key ({exc.strerror})") from exc
        return cls.from_public_key_pem(pem, source=str(path))

    def public_key_pem(self) -> bytes:
        """The public key as PEM, to publish or hand to an auditor."""
        return _public_pem(self._public_key)

    def verify(self, data: bytes, signature_b64: str) -> bool:
        """Whether `signature_b64` is this key's signature of `data`.

        Only the canonical base64 spelling is accepted, so a signature string has exactly one
        valid form and no byte of it can be altered unnoticed.
        """
        try:
            signature = base64.b64decode(signature_b64.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            return False
        if base64.b64encode(signature).decode("ascii") != signature_b64:
            return False
        try:
            self._public_key.verify(signature, data)
        except InvalidSignature:
            return False
        return True


class Signer:
    """Signs with one Ed25519 private key; build it with `Signer.load_or_create`."""

    __slots__ = ("_private_key", "key_id", "public_key_path")

    def __init__(self, private_key: Ed25519PrivateKey, *, public_key_path: Path | None = None):
        self._private_key = private_key
        self.key_id = key_id_of(private_key.public_key())
        self.public_key_path = public_key_path

    @classmethod
    def generate(cls) -> Signer:
        """A signer with a fresh key that lives in memory only (tests, throwaway trails)."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, key_path: Path) -> Signer:
        """Load the private key at `key_path`, creating it (0600, folder 0700) on first use.

        The public key is (re)written beside it as `<name>.pub`. Refuses a private key that
        group or others may read.
        """
        key_path = Path(key_path)
        if not key_path.exists():
            cls._create(key_path)
        private_key = cls._load(key_path)
        pub_path = public_key_path_for(key_path)
        pem = _public_pem(private_key.public_key())
        try:
            current = pub_path.read_bytes() if pub_path.exists() else None
            if current != pem:
                _publish(pub_path, pem, 0o644, replace=True)
        except OSError as exc:
            raise AuditError(
                f"{pub_path}: cannot write the public key ({exc.strerror}); "
                "check the folder's permissions"
            ) from exc
        return cls(private_key, public_key_path=pub_path)

    def install(self, key_path: Path) -> Signer:
        """Write this signer's key to `key_path` (atomically, 0600), replacing what is there.

        Used by key rotation: the old private key is overwritten, so keep its public key first
        (see `sandbox.audit.keyring`) for the records it signed to keep verifying.
        """
        key_path = Path(key_path)
        pem = self._private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        pub_path = public_key_path_for(key_path)
        try:
            _publish(key_path, pem, 0o600, replace=True)
            _publish(pub_path, _public_pem(self._private_key.public_key()), 0o644, replace=True)
        except OSError as exc:
            raise AuditError(
                f"{key_path}: cannot write the signing key ({exc.strerror}); "
                "check that its folder is writable"
            ) from exc
        return Signer(self._private_key, public_key_path=pub_path)

    @staticmethod
    def _create(key_path: Path) -> None:
        folder = key_path.parent
        try:
            if not folder.exists():
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.chmod(folder, 0o700)
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            # Losing the race to a concurrent creator is fine: everyone loads the winner's key.
            _publish(key_path, pem, 0o600, replace=False)
        except OSError as exc:
            raise AuditError(
                f"{key_path}: cannot create the signing key ({exc.strerror}); "
                "check that its folder is writable"
            ) from exc

    @staticmethod
    def _load(key_path: Path) -> Ed25519PrivateKey:
        try:
            fd = os.open(key_path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError as exc:
            raise AuditError(
                f"{key_path}: cannot open the signing key ({exc.strerror}); "
                "it must be a regular file, not a symbolic link"
            ) from exc
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise AuditError(f"{key_path}: the signing key must be a regular file")
            if info.st_mode & 0o077:
                raise AuditError(
                    f"{key_path}: the signing key is accessible to group or others "
                    f"(mode {stat.S_IMODE(info.st_mode):04o}); fix it with `chmod 600 {key_path}`"
                )
            pem = handle.read()
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as exc:
            raise AuditError(
                f"{key_path}: not an unencrypted PEM private key ({exc}); "
                "move it aside to have a new key created"
            ) from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise AuditError(f"{key_path}: not an Ed25519 private key ({type(key).__name__})")
        return key

    def verifier(self) -> Verifier:
        """The verifier that checks this signer's signatures."""
        return Verifier(self._private_key.public_key())

    def sign(self, data: bytes) -> str:
        """The base64 Ed25519 signature of `data`."""
        return base64.b64encode(self._private_key.sign(data)).decode("ascii")
