"""A blueprint packed by the client, received by the server and unpacked is the same pilot."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sandbox.cli import app
from sandbox.hosted.intake import ArchiveStore, receive_archive
from sandbox.hosted.packing import pack_pilot
from sandbox.hosted.unpack import unpack_archive
from sandbox.manifest import load_manifest

ROOT = Path(__file__).resolve().parents[3]
BLUEPRINTS = ROOT / "blueprints"


def _files(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize("name", ["benefits-eligibility-screening", "ask-the-city"])
def test_a_blueprint_survives_the_round_trip(tmp_path: Path, name: str) -> None:
    folder = BLUEPRINTS / name
    packed = pack_pilot(folder)
    stored = receive_archive(packed.chunks(64 * 1024), ArchiveStore(tmp_path / "store"))
    assert stored.digest == packed.digest
    assert stored.path == tmp_path / "store" / f"{packed.digest.removeprefix('sha256:')}.tar.gz"
    assert stat.S_IMODE(stored.path.stat().st_mode) == 0o600
    assert stored.contents.files == packed.files
    assert stored.contents.uncompressed_bytes == packed.uncompressed_bytes

    unpacked = unpack_archive(stored, tmp_path / "pilot")
    assert stat.S_IMODE(unpacked.stat().st_mode) == 0o700
    assert _files(unpacked) == _files(folder)
    assert load_manifest(unpacked) == load_manifest(folder)


def test_the_same_folder_always_gives_the_same_bytes(tmp_path: Path) -> None:
    original = BLUEPRINTS / "benefits-eligibility-screening"
    first = pack_pilot(original)
    assert pack_pilot(original).data == first.data
    # A copy made elsewhere, with other times, modes and creation order, packs identically.
    copy = tmp_path / "copy"
    for relative in sorted(_files(original), reverse=True):
        target = copy / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((original / relative).read_bytes())
        os.chmod(target, 0o600)
        os.utime(target, (1_234_567_890, 1_234_567_890))
    again = pack_pilot(copy)
    assert again.digest == first.digest and again.data == first.data
    assert first.digest.startswith("sha256:") and len(first.digest) == 71


def test_receiving_the_same_archive_twice_keeps_one_copy(tmp_path: Path) -> None:
    packed = pack_pilot(BLUEPRINTS / "ask-the-city")
    store = ArchiveStore(tmp_path / "store")
    first = receive_archive(packed.chunks(), store)
    second = receive_archive(packed.chunks(7_001), store)
    assert first.path == second.path and first.contents == second.contents
    assert [p.name for p in store.root.iterdir()] == [first.path.name]
    assert stat.S_IMODE(store.root.stat().st_mode) == 0o700
    assert store.open(packed.digest).contents == first.contents


def test_what_is_packed_and_what_is_left_out(tmp_path: Path) -> None:
    folder = tmp_path / "pilot"
    shutil.copytree(BLUEPRINTS / "ask-the-city", folder)
    for hidden in (".git/objects", ".venv/lib", "__pycache__", "data/__pycache__"):
        (folder / hidden).mkdir(parents=True)
        (folder / hidden / "x.pyc").write_bytes(b"\x00")
    (folder / ".gitignore").write_text("*.pyc\n")
    (folder / ".env").write_text("TOKEN=secret\n")  # hidden files may hold secrets: left out
    (folder / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(folder / "run.sh", 0o700)
    (folder / "canaries.txt").symlink_to("data/canaries.txt")  # a link inside: packed as a copy
    packed = pack_pilot(folder)
    assert not any(
        part.startswith(".") or part == "__pycache__" for f in packed.files for part in f.split("/")
    )
    assert {"run.sh", "canaries.txt", "pilot.yaml"} <= set(packed.files)
    assert list(packed.files) == sorted(packed.files, key=lambda f: f.encode())

    store = ArchiveStore(tmp_path / "store")
    unpacked = unpack_archive(receive_archive(packed.chunks(), store), tmp_path / "out")
    assert (unpacked / "canaries.txt").read_bytes() == (folder / "data/canaries.txt").read_bytes()
    assert not (unpacked / "canaries.txt").is_symlink()
    assert stat.S_IMODE((unpacked / "run.sh").stat().st_mode) == 0o755
    assert stat.S_IMODE((unpacked / "pilot.yaml").stat().st_mode) == 0o644


def test_the_policy_check_answers_the_same_for_the_unpacked_folder(tmp_path: Path) -> None:
    folder = BLUEPRINTS / "ask-the-city"  # the quickest blueprint to check: no table to profile
    store = ArchiveStore(tmp_path / "store")
    unpacked = unpack_archive(
        receive_archive(pack_pilot(folder).chunks(), store), tmp_path / "pilot"
    )
    runner = CliRunner()
    original = runner.invoke(app, ["policy", "check", str(folder)])
    received = runner.invoke(app, ["policy", "check", str(unpacked)])
    assert received.exit_code == original.exit_code
    assert "pre-run verdict" in received.output
    assert received.output.replace(str(unpacked), "PILOT") == original.output.replace(
        str(folder), "PILOT"
    )
