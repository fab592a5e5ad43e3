"""Properties over generated archives: the streaming check and tarfile agree, or it refuses."""

from __future__ import annotations

import tarfile
import tempfile
from pathlib import Path

from hypothesis import event, given, settings
from hypothesis import strategies as st

from sandbox.errors import ArchiveRefused
from sandbox.hosted.intake import ArchiveLimits, ArchiveStore, receive_archive
from sandbox.hosted.unpack import unpack_archive

from .archives import MANIFEST, Entry, gz, tar_bytes

# Parts chosen to collide, climb, hide and confuse: case and normalisation twins, dots,
# separators, a control character and a name long enough to need a pax header.
SAFE = st.sampled_from(["data", "f", "g", "h", "k", "caf\u00e9", "m" * 120])
HOSTILE = st.sampled_from(["Data", "cafe\u0301", ".", "..", "", "a\\b", "x\x01"])
PARTS = st.one_of(SAFE, SAFE, SAFE, HOSTILE)
NAMES = st.lists(PARTS, min_size=1, max_size=4).map("/".join)
KINDS = st.sampled_from([tarfile.REGTYPE] * 4 + [tarfile.DIRTYPE, tarfile.SYMTYPE])
ENTRIES = st.lists(
    st.tuples(NAMES, KINDS, st.binary(max_size=40)), max_size=6, unique_by=lambda e: e[0]
)
LIMITS = ArchiveLimits(max_files=6, max_name_bytes=255, max_depth=3)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(ENTRIES)
def test_an_archive_is_refused_or_unpacks_to_exactly_what_was_checked(
    entries: list[tuple[str, bytes, bytes]],
) -> None:
    members = [Entry("pilot.yaml", MANIFEST)]
    for name, kind, data in entries:
        members.append(Entry(name, data, kind=kind, linkname="pilot.yaml"))
    body = gz(tar_bytes(*members))
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        store = ArchiveStore(root / "store")
        try:
            stored = receive_archive([body], store, LIMITS)
        except ArchiveRefused:
            event("refused")
            assert list(store.root.iterdir()) == []
            return
        event("unpacked")
        unpacked = unpack_archive(stored, root / "pilot", LIMITS)
        on_disk = sorted(
            p.relative_to(unpacked).as_posix() for p in unpacked.rglob("*") if p.is_file()
        )
        assert on_disk == sorted(stored.contents.files)
        assert not any(p.is_symlink() for p in unpacked.rglob("*"))
        assert sorted(p.name for p in root.iterdir()) == ["pilot", "store"]
