"""Ed25519 signing keys: created private, reloaded stable, refused when exposed."""

from __future__ import annotations

import base64
import os
import re
import stat
from pathlib import Path

import pytest

from sandbox.audit.signing import Signer, Verifier, public_key_path_for
from sandbox.errors import AuditError


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_key_is_created_owner_only_with_public_key_beside_it(tmp_path: Path) -> None:
    key_path = tmp_path / "keys" / "trail.key"

    signer = Signer.load_or_create(key_path)

    assert _mode(key_path) == 0o600
    assert _mode(key_path.parent) == 0o700
    assert key_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    pub = public_key_path_for(key_path)
    assert pub.name == "trail.key.pub"
    assert signer.public_key_path == pub
    assert pub.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert re.fullmatch(r"ed25519:[0-9a-f]{16}", signer.key_id)
    assert not list(key_path.parent.glob(".*.tmp"))


def test_key_is_created_0600_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        Signer.load_or_create(tmp_path / "trail.key")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "trail.key") == 0o600


def test_reload_gives_the_same_key(tmp_path: Path) -> None:
    key_path = tmp_path / "trail.key"
    first = Signer.load_or_create(key_path)
    again = Signer.load_or_create(key_path)

    assert again.key_id == first.key_id
    verifier = Verifier.from_public_key_file(public_key_path_for(key_path))
    assert verifier.key_id == first.key_id
    assert verifier.verify(b"data", again.sign(b"data"))


def test_missing_public_key_is_written_again(tmp_path: Path) -> None:
    key_path = tmp_path / "trail.key"
    signer = Signer.load_or_create(key_path)
    public_key_path_for(key_path).unlink()

    Signer.load_or_create(key_path)

    assert Verifier.from_public_key_file(public_key_path_for(key_path)).key_id == signer.key_id


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o602])
def test_key_readable_by_others_is_refused_with_the_fix(tmp_path: Path, mode: int) -> None:
    key_path = tmp_path / "trail.key"
    Signer.load_or_create(key_path)
    key_path.chmod(mode)

    with pytest.raises(AuditError, match=r"chmod 600"):
        Signer.load_or_create(key_path)


def test_symlinked_key_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real.key"
    Signer.load_or_create(real)
    link = tmp_path / "link.key"
    link.symlink_to(real)

    with pytest.raises(AuditError, match="symbolic link"):
        Signer.load_or_create(link)


def test_garbage_key_file_is_refused(tmp_path: Path) -> None:
    key_path = tmp_path / "trail.key"
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"not a key")
    os.close(fd)

    with pytest.raises(AuditError, match="PEM private key"):
        Signer.load_or_create(key_path)


def test_signature_round_trip_and_wrong_key_fails() -> None:
    signer, other = Signer.generate(), Signer.generate()
    signature = signer.sign(b"record")

    assert signer.verifier().verify(b"record", signature)
    assert not other.verifier().verify(b"record", signature)
    assert not signer.verifier().verify(b"record!", signature)
    assert signer.key_id != other.key_id


@pytest.mark.parametrize("bad", ["", "!!!", "é", "AAAA", "not base64 at all"])
def test_malformed_signature_is_false_not_an_error(bad: str) -> None:
    assert not Signer.generate().verifier().verify(b"record", bad)


def test_non_canonical_base64_spelling_is_rejected() -> None:
    signer = Signer.generate()
    signature = signer.sign(b"record")
    raw = base64.b64decode(signature)
    # 64 bytes leave 4 unused bits in the last base64 digit: set them to get a second spelling
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = signature[-3]
    twin = signature[:-3] + alphabet[alphabet.index(last) | 0b0001] + "=="
    if twin == signature:
        twin = signature[:-3] + alphabet[alphabet.index(last) & ~0b0001] + "=="
    assert base64.b64decode(twin) == raw

    assert not signer.verifier().verify(b"record", twin)


def test_verifier_from_public_pem_matches_signer() -> None:
    signer = Signer.generate()
    verifier = Verifier.from_public_key_pem(signer.verifier().public_key_pem())
    assert verifier.key_id == signer.key_id


def test_public_key_file_errors_are_audit_errors(tmp_path: Path) -> None:
    with pytest.raises(AuditError, match="cannot read"):
        Verifier.from_public_key_file(tmp_path / "missing.pub")
    (tmp_path / "junk.pub").write_text("junk")
    with pytest.raises(AuditError, match="not a PEM public key"):
        Verifier.from_public_key_file(tmp_path / "junk.pub")
