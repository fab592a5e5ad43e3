"""unpack_archive trusts the store only for what it checked: it checks everything again."""

from __future__ import annotations

import hashlib
import os
import tarfile
from pathlib import Path

import pytest

from sandbox.errors import ArchiveRefused
from sandbox.hosted.intake import ArchiveStore, StoredArchive, receive_archive
from sandbox.hosted.scan import ArchiveContents
from sandbox.hosted.unpack import unpack_archive

from .archives import MANIFEST, Entry, gz, pilot_archive, tar_bytes


@pytest.fixture
def store(tmp_path: Path) -> ArchiveStore:
    return ArchiveStore(tmp_path / "store")


def _plant(store: ArchiveStore, body: bytes) -> StoredArchive:
    """An archive written into the store directly, as if the store had been tampered with."""
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    path = store.path_for(digest)
    path.write_bytes(body)
    contents = ArchiveContents(digest, len(body), 0, (), 0)
    return StoredArchive(path=path, contents=contents)


def test_an_archive_without_a_manifest_is_refused_at_unpack(
    store: ArchiveStore, tmp_path: Path
) -> None:
    stored = receive_archive([gz(tar_bytes(Entry("model.py", b"x = 1\n")))], store)
    with pytest.raises(ArchiveRefused) as caught:
        unpack_archive(stored, tmp_path / "pilot")
    assert f"archive {stored.digest}: no pilot.yaml at its top level, so it is not a pilot" in str(
        caught.value
    )
    assert "pack the pilot folder itself" in str(caught.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]  # nothing left behind


def test_a_nested_manifest_is_not_a_pilot(store: ArchiveStore, tmp_path: Path) -> None:
    stored = receive_archive([gz(tar_bytes(Entry("pilot/pilot.yaml", MANIFEST)))], store)
    with pytest.raises(ArchiveRefused, match="no pilot.yaml at its top level"):
        unpack_archive(stored, tmp_path / "pilot")


def test_an_archive_planted_in_the_store_is_checked_again(
    store: ArchiveStore, tmp_path: Path
) -> None:
    planted = _plant(store, pilot_archive(Entry("evil", kind=tarfile.SYMTYPE, linkname="/")))
    with pytest.raises(ArchiveRefused, match="archive entry 'evil': symbolic link to '/'"):
        unpack_archive(planted, tmp_path / "pilot")
    with pytest.raises(ArchiveRefused, match="symbolic link"):
        store.open(planted.digest)
    assert not (tmp_path / "pilot").exists()


def test_a_stored_archive_changed_after_its_check_is_refused(
    store: ArchiveStore, tmp_path: Path
) -> None:
    stored = receive_archive([pilot_archive()], store)
    os.chmod(stored.path, 0o600)
    stored.path.write_bytes(pilot_archive(Entry("extra.py", b"import os\n")))
    with pytest.raises(ArchiveRefused, match="the stored archive was changed"):
        unpack_archive(stored, tmp_path / "pilot")
    with pytest.raises(ArchiveRefused, match="hash to sha256:"):
        store.open(stored.digest)


def test_a_link_in_place_of_a_stored_archive_is_not_followed(
    store: ArchiveStore, tmp_path: Path
) -> None:
    stored = receive_archive([pilot_archive()], store)
    target = tmp_path / "elsewhere.tar.gz"
    stored.path.rename(target)
    stored.path.symlink_to(target)
    with pytest.raises(ArchiveRefused, match="cannot read the stored archive"):
        unpack_archive(stored, tmp_path / "pilot")


def test_unpacking_needs_a_new_folder(store: ArchiveStore, tmp_path: Path) -> None:
    stored = receive_archive([pilot_archive()], store)
    (tmp_path / "pilot").mkdir()
    with pytest.raises(FileExistsError, match="unpack into a new folder"):
        unpack_archive(stored, tmp_path / "pilot")
    with pytest.raises(ArchiveRefused, match="not an archive digest"):
        store.path_for("sha256:../../etc/passwd")


def test_folder_entries_are_accepted_and_files_keep_their_bytes(
    store: ArchiveStore, tmp_path: Path
) -> None:
    body = gz(
        tar_bytes(
            Entry("data", kind=tarfile.DIRTYPE),
            Entry("pilot.yaml", MANIFEST),
            Entry("data/caf\u00e9.csv", b"a,b\n1,2\n"),  # a pax header carries the UTF-8 name
        )
    )
    stored = receive_archive([body], store)
    assert stored.contents.files == ("pilot.yaml", "data/caf\u00e9.csv")
    assert stored.contents.folders == 1
    unpacked = unpack_archive(stored, tmp_path / "pilot")
    assert (unpacked / "data" / "caf\u00e9.csv").read_bytes() == b"a,b\n1,2\n"
