"""Where the command server listens, and which commands go to it."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

from sandbox.command_server import address
from sandbox.command_server.client import enabled


def test_the_socket_is_in_a_private_folder_named_for_the_user(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    short = Path(tempfile.mkdtemp(prefix="sbx-"))  # a socket's path is at most 107 bytes
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(short))
    path = address.socket_path()
    assert path is not None
    assert path.parent == short / f"ai-commons-sandbox-{os.getuid()}"
    assert path.parent.stat().st_mode & 0o777 == 0o700


def test_no_socket_where_the_folder_is_not_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    folder = tmp_path / f"ai-commons-sandbox-{os.getuid()}"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)  # open to others: someone else could plant a socket
    assert address.socket_path() is None


def test_the_digest_follows_the_environment_and_mask_but_not_the_shells_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = address.digest()
    for volatile in ("PWD", "OLDPWD", "SHLVL", "_", "COLUMNS", "LINES"):
        monkeypatch.setenv(volatile, "changed")
    assert address.digest() == first
    monkeypatch.setenv("SANDBOX_HOME", "/somewhere/else")
    assert address.digest() != first
    monkeypatch.delenv("SANDBOX_HOME")
    mask = os.umask(0o002)
    try:
        assert address.digest() != first
    finally:
        os.umask(mask)


def test_the_digest_follows_the_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "sandbox"
    (package / "cli").mkdir(parents=True)
    module = package / "cli" / "run.py"
    module.write_text("x = 1\n")
    monkeypatch.setattr(address, "_PACKAGE", package)
    first = address.digest()
    os.utime(module, ns=(0, 10**18))
    assert address.digest() != first


@pytest.mark.parametrize(
    ("switch", "args", "served"),
    [
        ("", ["run", "pilot"], False),
        ("false", ["run", "pilot"], False),
        ("true", ["run", "pilot"], True),
        ("1", ["audit", "evaluate"], True),
        ("true", [], False),
        ("true", ["server", "start"], False),
        ("true", ["api", "serve"], False),
        ("true", ["worker"], False),
    ],
)
def test_which_commands_go_to_the_server(
    switch: str, args: list[str], served: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANDBOX_COMMAND_SERVER", switch)
    assert enabled(args) is served


def test_the_digest_is_the_same_from_any_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative entry on the module path (an empty PYTHONPATH part) is not the server's."""
    monkeypatch.setattr(sys, "path", [sys.path[0], "", "relative", *sys.path[1:]])
    first = address.digest()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "new-file").write_text("changes the folder's time")
    assert address.digest() == first
