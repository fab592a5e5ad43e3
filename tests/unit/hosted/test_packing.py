"""pack_pilot refuses what a server would refuse, from the folder's listing, before reading."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from sandbox.errors import ArchiveRefused
from sandbox.hosted.intake import ArchiveLimits
from sandbox.hosted.packing import pack_pilot

from .archives import MANIFEST


@pytest.fixture
def pilot(tmp_path: Path) -> Path:
    folder = tmp_path / "pilot"
    (folder / "data").mkdir(parents=True)
    (folder / "pilot.yaml").write_bytes(MANIFEST)
    (folder / "model.py").write_text("def build_model():\n    return None\n")
    (folder / "data" / "cases.csv").write_text("a,b\n1,0\n")
    return folder


def _refused(folder: Path, limits: ArchiveLimits | None = None) -> str:
    with pytest.raises(ArchiveRefused) as caught:
        pack_pilot(folder, limits or ArchiveLimits())
    return str(caught.value)


def test_a_link_out_of_the_folder_is_refused(pilot: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.csv").write_text("x\n")
    (pilot / "data" / "outside.csv").symlink_to(tmp_path / "secret.csv")
    message = _refused(pilot)
    assert f"{pilot}/data/outside.csv: a link that points outside the pilot folder" in message
    (pilot / "data" / "outside.csv").unlink()
    (pilot / "data" / "up.csv").symlink_to("../../secret.csv")
    assert "a link that points outside the pilot folder" in _refused(pilot)


def test_a_link_to_a_folder_is_refused(pilot: Path) -> None:
    (pilot / "more").symlink_to("data")
    assert f"{pilot}/more: a link to a folder" in _refused(pilot)


def test_fifos_sockets_and_devices_are_refused(pilot: Path) -> None:
    os.mkfifo(pilot / "data" / "pipe.csv")
    assert f"{pilot}/data/pipe.csv: a device, FIFO or socket" in _refused(pilot)
    (pilot / "data" / "pipe.csv").unlink()
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(pilot / "sock"))
        assert f"{pilot}/sock: a device, FIFO or socket" in _refused(pilot)
    (pilot / "sock").unlink()
    if os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    os.mknod(pilot / "null", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    assert f"{pilot}/null: a device, FIFO or socket" in _refused(pilot)


def test_a_folder_over_the_size_limit_is_refused_before_reading(pilot: Path) -> None:
    with (pilot / "data" / "sparse.csv").open("wb") as handle:
        handle.truncate(64 << 30)  # 64 GiB that occupy no disk: reading it would take minutes
    message = _refused(pilot)
    assert "over the limit of 1073741824 (max_uncompressed_bytes)" in message
    assert str(pilot) in message


def test_too_many_files_are_refused(pilot: Path) -> None:
    for index in range(12):
        (pilot / "data" / f"part-{index}.csv").write_text("a\n")
    message = _refused(pilot, ArchiveLimits(max_files=10))
    assert "more than 10 files (max_files)" in message


def test_the_compressed_limit_holds_while_packing(pilot: Path) -> None:
    (pilot / "data" / "noise.bin").write_bytes(os.urandom(256 * 1024))
    message = _refused(pilot, ArchiveLimits(max_compressed_bytes=64 * 1024))
    assert f"{pilot}: the packed archive is over 65536 bytes (max_compressed_bytes)" in message


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("a" * 200 + "/" + "b" * 60 + ".csv", "over the limit of 255"),
        ("report\x1b[2J.md", "control character"),
        ("back\\slash.csv", "backslash"),
    ],
)
def test_names_the_server_would_refuse_are_refused(pilot: Path, name: str, rule: str) -> None:
    (pilot / "data" / name).parent.mkdir(exist_ok=True)
    (pilot / "data" / name).write_text("x\n")
    assert rule in _refused(pilot)


def test_too_deep_folders_are_refused(pilot: Path) -> None:
    deep = pilot.joinpath(*["d"] * 17)
    deep.mkdir(parents=True)
    assert "17 levels deep, over the limit of 16" in _refused(pilot)


def test_names_that_collide_on_another_system_are_refused(pilot: Path) -> None:
    (pilot / "data" / "Cases.csv").write_text("a\n")
    message = _refused(pilot)
    assert "collides with" in message and "normalisation and case folding" in message


def test_a_name_that_is_not_utf8_is_refused(pilot: Path) -> None:
    os.close(os.open(bytes(pilot / "data") + b"/caf\xe9.csv", os.O_CREAT | os.O_WRONLY, 0o644))
    assert "not valid UTF-8" in _refused(pilot)


def test_a_folder_without_a_manifest_is_refused(pilot: Path, tmp_path: Path) -> None:
    (pilot / "pilot.yaml").unlink()
    assert f"{pilot}: no pilot.yaml" in _refused(pilot)
    assert "not a folder" in _refused(tmp_path / "missing")
