"""copy_out: only plain files and folders cross the wall, and a refused stream leaves nothing."""

from __future__ import annotations

import hashlib
import io
import stat
import tarfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.errors import OutputRejected
from sandbox.runtime import OutputLimits, copy_out

LIMITS = OutputLimits(max_total_bytes=1000, max_file_bytes=600, max_files=10)


def _member(name: str, *, data: bytes = b"", kind: bytes = tarfile.REGTYPE, **extra: object):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.mode = 0o644
    for key, value in extra.items():
        setattr(info, key, value)
    return info, (io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def _tar(*members: tuple[tarfile.TarInfo, io.BytesIO | None], chunk: int = 7) -> list[bytes]:
    """A tar stream cut into small chunks, the way an engine streams an archive."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for info, data in members:
            archive.addfile(info, data)
    raw = buffer.getvalue()
    return [raw[i : i + chunk] for i in range(0, len(raw), chunk)]


def _root() -> tuple[tarfile.TarInfo, None]:
    info, _ = _member("output", kind=tarfile.DIRTYPE)
    info.mode = 0o1777
    return info, None


def test_good_stream_is_copied_with_hashes_and_safe_modes(tmp_path: Path) -> None:
    data = b"row_id,prediction\nr1,1\n"
    stream = _tar(
        _root(),
        _member("output/predictions.csv", data=data, mode=0o4755),
        _member("output/model", kind=tarfile.DIRTYPE),
        _member("output/model/model.joblib", data=b"\x00\x01"),
    )

    hashes = copy_out(stream, tmp_path, LIMITS, root="output")

    assert hashes == {
        "model/model.joblib": "sha256:" + hashlib.sha256(b"\x00\x01").hexdigest(),
        "predictions.csv": "sha256:" + hashlib.sha256(data).hexdigest(),
    }
    written = tmp_path / "predictions.csv"
    assert written.read_bytes() == data
    assert stat.S_IMODE(written.stat().st_mode) == 0o600  # the owner's alone, no execute
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "predictions.csv"]


def test_without_root_names_are_taken_as_they_are(tmp_path: Path) -> None:
    hashes = copy_out(_tar(_member("./a.txt", data=b"a")), tmp_path, LIMITS)
    assert list(hashes) == ["a.txt"]


@pytest.mark.parametrize(
    ("member", "rule"),
    [
        (_member("output/link", kind=tarfile.SYMTYPE, linkname="/etc/passwd"), "symbolic link"),
        (_member("output/hard", kind=tarfile.LNKTYPE, linkname="output/a.txt"), "hard link"),
        (_member("output/null", kind=tarfile.CHRTYPE, devmajor=1, devminor=3), "device"),
        (_member("output/disk", kind=tarfile.BLKTYPE, devmajor=8, devminor=0), "device"),
        (_member("output/pipe", kind=tarfile.FIFOTYPE), "fifo"),
        (_member("output/../escape.txt", data=b"x"), "'..'"),
        (_member("/etc/cron.d/evil", data=b"x"), "absolute path"),
        (_member("output/bad\x01name", data=b"x"), "control character"),
        (_member("elsewhere/a.txt", data=b"x"), "outside the archive's top folder"),
        (_member("output/big.bin", data=b"x" * 601), "per-file cap"),
    ],
    ids=[
        "symlink",
        "hardlink",
        "char-device",
        "block-device",
        "fifo",
        "traversal",
        "absolute",
        "control-char",
        "outside-root",
        "too-big",
    ],
)
def test_bad_member_is_rejected_and_nothing_is_left(
    tmp_path: Path, member: tuple[tarfile.TarInfo, io.BytesIO | None], rule: str
) -> None:
    stream = _tar(_root(), _member("output/a.txt", data=b"ok"), member)

    with pytest.raises(OutputRejected, match=rule):
        copy_out(stream, tmp_path, LIMITS, root="output")

    assert list(tmp_path.iterdir()) == []


def test_total_size_over_the_cap_is_rejected(tmp_path: Path) -> None:
    stream = _tar(*(_member(f"f{i}", data=b"x" * 400) for i in range(3)))
    with pytest.raises(OutputRejected, match="total output"):
        copy_out(stream, tmp_path, LIMITS)
    assert list(tmp_path.iterdir()) == []


def test_too_many_members_are_rejected(tmp_path: Path) -> None:
    stream = _tar(*(_member(f"f{i}", data=b"x") for i in range(11)))
    with pytest.raises(OutputRejected, match="more than 10 members"):
        copy_out(stream, tmp_path, LIMITS)
    assert list(tmp_path.iterdir()) == []


def test_duplicate_member_is_rejected(tmp_path: Path) -> None:
    stream = _tar(_member("a.txt", data=b"1"), _member("a.txt", data=b"2"))
    with pytest.raises(OutputRejected, match="duplicate"):
        copy_out(stream, tmp_path, LIMITS)


def test_file_used_as_a_folder_is_rejected(tmp_path: Path) -> None:
    stream = _tar(_member("a", data=b"1"), _member("a/b", data=b"2"))
    with pytest.raises(OutputRejected, match="parent a is a file"):
        copy_out(stream, tmp_path, LIMITS)


def test_garbage_is_not_a_tar_stream(tmp_path: Path) -> None:
    with pytest.raises(OutputRejected, match="not a valid tar stream"):
        copy_out([b"this is not a tar archive" * 40], tmp_path, LIMITS)


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=1, max_size=2048))
def test_arbitrary_bytes_never_escape_or_crash(
    tmp_path_factory: pytest.TempPathFactory, blob: bytes
) -> None:
    dest = tmp_path_factory.mktemp("dest")
    try:
        hashes = copy_out([blob], dest, LIMITS)
    except OutputRejected:
        assert list(dest.iterdir()) == []
    else:
        for relative in hashes:
            assert (dest / relative).resolve().is_relative_to(dest.resolve())
