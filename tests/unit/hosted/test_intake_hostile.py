"""receive_archive refuses hostile uploads while they stream, and keeps nothing of them."""

from __future__ import annotations

import random
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.errors import ArchiveRefused, UserInputError
from sandbox.hosted.intake import ArchiveLimits, ArchiveStore, receive_archive

from .archives import (
    MANIFEST,
    Chunks,
    Entry,
    gz,
    gz_lazily,
    header,
    pilot_archive,
    tar_bytes,
    zeros,
)

SMALL = ArchiveLimits(
    max_compressed_bytes=1 << 20,
    max_uncompressed_bytes=4 << 20,
    max_files=1000,
    max_name_bytes=255,
    max_depth=16,
)


@pytest.fixture
def store(tmp_path: Path) -> ArchiveStore:
    return ArchiveStore(tmp_path / "store")


def _refused(body: bytes | Chunks, store: ArchiveStore, limits: ArchiveLimits = SMALL) -> str:
    chunks = body if isinstance(body, Chunks) else Chunks(body)
    with pytest.raises(ArchiveRefused) as caught:
        receive_archive(chunks, store, limits)
    assert list(store.root.iterdir()) == [], "a refused upload must leave nothing in the store"
    assert isinstance(caught.value, UserInputError) and caught.value.exit_code == 2
    return str(caught.value)


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("../x", "'..'"),
        ("/etc/x", "absolute"),
        ("a/../../x", "'..'"),
        ("data/./x.csv", "'.' part"),
        ("data//x.csv", "empty"),
        ("data\\..\\x", "backslash"),
    ],
)
def test_path_tricks_are_refused(store: ArchiveStore, name: str, rule: str) -> None:
    message = _refused(pilot_archive(Entry(name, b"x")), store)
    assert f"archive entry {name!a}" in message
    assert rule in message


@pytest.mark.parametrize(
    ("entry", "kind"),
    [
        (Entry("model.py", kind=tarfile.SYMTYPE, linkname="/etc/passwd"), "symbolic link"),
        (Entry("up", kind=tarfile.SYMTYPE, linkname="../../.."), "symbolic link"),
        (Entry("copy.yaml", kind=tarfile.LNKTYPE, linkname="pilot.yaml"), "hard link"),
        (Entry("null", kind=tarfile.CHRTYPE), "character device"),
        (Entry("disk", kind=tarfile.BLKTYPE), "block device"),
        (Entry("pipe", kind=tarfile.FIFOTYPE), "FIFO"),
    ],
)
def test_links_devices_and_fifos_are_refused(store: ArchiveStore, entry: Entry, kind: str) -> None:
    message = _refused(pilot_archive(entry), store)
    assert f"archive entry {entry.name!r}: {kind}" in message
    assert "only regular files and folders" in message


def test_a_gzip_bomb_stops_at_the_decompressed_limit(store: ArchiveStore) -> None:
    # A valid pilot, then 8 GiB of zeros (the end-of-archive padding, made endless), compressed
    # only as it is pulled: refused once 4 MiB are decompressed.
    tar = tar_bytes(Entry("pilot.yaml", MANIFEST))
    body = Chunks(gz_lazily([tar, *zeros(8 << 30)]))
    message = _refused(body, store)
    assert "more than 4194304 bytes once decompressed (max_uncompressed_bytes)" in message
    assert not body.exhausted
    assert body.consumed < 32 * 1024  # 4 MiB of zeros deflate to about 4 KiB


def test_a_header_declaring_a_huge_file_is_refused_before_its_data(store: ArchiveStore) -> None:
    size = 8**11 - 1  # the largest size an octal ustar header holds: 8 GiB less one byte
    huge = tar_bytes(Entry("pilot.yaml", MANIFEST), end=False) + header("data/zeros.csv", size=size)
    body = Chunks(gz_lazily([huge, *zeros(8 << 30)]))
    message = _refused(body, store)
    assert f"archive entry 'data/zeros.csv': declares {size} bytes" in message
    assert "max_uncompressed_bytes" in message
    assert body.consumed <= 2 * 4096


def test_a_million_tiny_files_stop_at_the_file_limit(store: ArchiveStore) -> None:
    def headers() -> Iterator[bytes]:
        yield tar_bytes(Entry("pilot.yaml", MANIFEST), end=False)
        for index in range(1_000_000):
            yield header(f"f/{index}")

    body = Chunks(gz_lazily(headers()))
    message = _refused(body, store)
    assert "archive entry 'f/999': more than 1000 entries (max_files)" in message
    assert not body.exhausted
    assert body.consumed < 64 * 1024  # about a thousand 512-byte headers, compressed


def test_the_compressed_limit_holds_while_streaming(store: ArchiveStore) -> None:
    noise = random.Random(15).randbytes(1 << 20)  # incompressible, seeded
    body = Chunks(gz(tar_bytes(Entry("pilot.yaml", MANIFEST), Entry("noise.bin", noise))))
    message = _refused(body, store, ArchiveLimits(max_compressed_bytes=64 * 1024))
    assert "more than 65536 compressed bytes (max_compressed_bytes)" in message
    assert body.consumed <= 64 * 1024 + 4096


def test_over_long_and_too_deep_names_are_refused(store: ArchiveStore) -> None:
    long_name = "data/" + "a" * 300 + ".csv"
    message = _refused(pilot_archive(Entry(long_name, b"x")), store)
    assert "the name is 309 bytes long, over the limit of 255" in message
    deep = "/".join(["d"] * 17) + "/x.csv"
    message = _refused(pilot_archive(Entry(deep, b"x")), store)
    assert "18 levels deep, over the limit of 16" in message


@pytest.mark.parametrize(
    "name", ["a\x00b.csv", "report\x1b[31m.md", "line\nbreak.csv", "del\x7f.csv", "c1\x9b.csv"]
)
def test_nul_and_control_characters_are_refused(store: ArchiveStore, name: str) -> None:
    entry = Entry("ignored", b"x", pax={"path": name})  # pax carries any byte but '\n' framing
    message = _refused(pilot_archive(entry), store)
    assert "control character (or NUL)" in message
    assert "\x1b" not in message and "\x00" not in message  # shown escaped


@pytest.mark.parametrize(
    ("first", "second", "rule"),
    [
        ("README.md", "readme.md", "collides with 'README.md'"),
        ("data/Caf\u00e9.csv", "data/cafe\u0301.csv", "collides with"),
        ("Data/a.csv", "data/b.csv", "collides with 'Data'"),
        ("STRASSE.csv", "stra\u00dfe.csv", "collides with"),
        ("model.py", "model.py", "appears twice"),
        ("data", "data/x.csv", "both a file and a folder"),
    ],
)
def test_names_that_collide_are_refused(
    store: ArchiveStore, first: str, second: str, rule: str
) -> None:
    message = _refused(pilot_archive(Entry(first, b"1"), Entry(second, b"2")), store)
    assert rule in message
    assert "archive entry" in message


def test_a_truncated_upload_is_refused(store: ArchiveStore) -> None:
    whole = pilot_archive(Entry("data/x.csv", b"a,b\n" * 5000))
    message = _refused(whole[: len(whole) // 2], store)
    assert "the compressed stream ends early" in message


def test_a_tar_cut_short_inside_a_complete_gzip_is_refused(store: ArchiveStore) -> None:
    tar = tar_bytes(Entry("pilot.yaml", MANIFEST), Entry("data/x.csv", b"a" * 5000))
    message = _refused(gz(tar[:2048]), store)
    assert "archive entry 'data/x.csv': the archive ends inside its data" in message
    message = _refused(gz(tar_bytes(Entry("pilot.yaml", MANIFEST), end=False)), store)
    assert "without the end-of-archive marker" in message


@pytest.mark.parametrize(
    "body",
    [
        tar_bytes(Entry("pilot.yaml", MANIFEST)),  # a plain tar
        b"PK\x03\x04" + bytes(200),  # a zip
        b"pilot:\n  name: x\n",  # the manifest itself
        b"\x1f",  # one byte
    ],
    ids=["plain-tar", "zip", "yaml", "one-byte"],
)
def test_a_body_that_is_not_gzip_is_refused(store: ArchiveStore, body: bytes) -> None:
    assert "not gzip-compressed" in _refused(body, store)


def test_an_empty_body_is_refused(store: ArchiveStore) -> None:
    assert "ends early" in _refused(b"", store)


def test_corrupt_gzip_data_is_refused(store: ArchiveStore) -> None:
    body = bytearray(pilot_archive(Entry("data/x.csv", b"a,b\n" * 500)))
    body[20:40] = bytes(20)
    assert "corrupt gzip data" in _refused(bytes(body), store)


def test_nothing_may_follow_the_archive(store: ArchiveStore) -> None:
    archive = pilot_archive()
    assert "bytes after the end of the gzip stream" in _refused(archive + archive, store)
    assert "bytes after the end of the gzip stream" in _refused(archive + b"junk", store)
    hidden = tar_bytes(Entry("pilot.yaml", MANIFEST)) + header("smuggled.py", size=0)
    assert "data after the end-of-archive marker" in _refused(gz(hidden), store)


def test_tar_dialects_that_tarfile_would_buffer_or_misread_are_refused(
    store: ArchiveStore,
) -> None:
    long_name = Entry("d/" + "a" * 150, b"x")
    gnu = gz(tar_bytes(Entry("pilot.yaml", MANIFEST), long_name, fmt=tarfile.GNU_FORMAT))
    assert "GNU long-name header not allowed" in _refused(gnu, store)
    big_pax = pilot_archive(Entry("x.csv", b"x", pax={"comment": "c" * 20_000}))
    assert "an extended (pax) header of" in _refused(big_pax, store)
    link = pilot_archive(Entry("x.csv", b"x", pax={"linkpath": "/etc/passwd"}))
    assert "pax keyword 'linkpath' is not accepted" in _refused(link, store)
    sparse = pilot_archive(Entry("x.csv", b"x", pax={"GNU.sparse.name": "pilot.yaml"}))
    assert "pax keyword 'GNU.sparse.name'" in _refused(sparse, store)
    glob = pilot_archive(Entry("g", kind=tarfile.XGLTYPE))
    assert "global pax header not allowed" in _refused(glob, store)


def test_a_damaged_header_is_refused(store: ArchiveStore) -> None:
    tar = bytearray(tar_bytes(Entry("pilot.yaml", MANIFEST)))
    tar[0:1] = b"P"  # 'pilot.yaml' -> 'Pilot.yaml' without fixing the checksum
    assert "header checksum mismatch" in _refused(gz(bytes(tar)), store)
    v7 = bytearray(tar_bytes(Entry("pilot.yaml", MANIFEST), fmt=tarfile.USTAR_FORMAT))
    v7[257:265] = bytes(8)
    assert "not a ustar or pax tar header" in _refused(gz(bytes(v7)), store)


def test_a_folder_entry_carrying_data_is_refused(store: ArchiveStore) -> None:
    tar = tar_bytes(Entry("pilot.yaml", MANIFEST), end=False)
    folder = header("data/", size=512, kind=tarfile.DIRTYPE)
    body = gz(tar + folder + bytes(512) + bytes(1024))
    assert "a folder entry carrying 512 bytes of data" in _refused(body, store)
