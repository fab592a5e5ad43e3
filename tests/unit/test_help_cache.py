"""A kept help page is the page the command line renders, and is used only where it is."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from sandbox import help_cache

COMMAND = Path(sys.executable).with_name("sandbox")


def _help(env: dict[str, str], *args: str) -> bytes:
    result = subprocess.run(
        [str(COMMAND), *args], env={**os.environ, **env}, capture_output=True, check=True
    )
    return result.stdout


def _help_on_a_terminal(env: dict[str, str]) -> bytes:
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 93, 0, 0))
    proc = subprocess.Popen(
        [str(COMMAND), "--help"],
        stdin=child,
        stdout=child,
        stderr=child,
        env={**os.environ, "TERM": "xterm-256color", **env},
    )
    os.close(child)
    out = b""
    while True:
        try:
            data = os.read(main, 1 << 16)
        except OSError:  # the terminal's other end closed
            break
        if not data:
            break
        out += data
    assert proc.wait(timeout=60) == 0
    os.close(main)
    return out


def _pages(cache: Path) -> list[Path]:
    return sorted((cache / "ai-commons-sandbox" / "help").iterdir())


@pytest.mark.parametrize("args", [(), ("--help",)])
def test_a_kept_page_is_the_rendered_page(tmp_path: Path, args: tuple[str, ...]) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path)}
    rendered = _help({**env, "SANDBOX_HELP_CACHE": "false"}, *args)
    assert b"Usage: sandbox" in rendered and not (tmp_path / "ai-commons-sandbox").exists()
    assert _help(env, *args) == rendered  # rendered, and kept
    (page,) = _pages(tmp_path)
    assert page.stat().st_mode & 0o777 == 0o600
    assert page.parent.stat().st_mode & 0o777 == 0o700
    assert _help(env, *args) == rendered  # printed from the page


def test_on_a_terminal_too_colours_and_width_included(tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path)}
    rendered = _help_on_a_terminal({**env, "SANDBOX_HELP_CACHE": "false"})
    assert b"\x1b[" in rendered  # rich's colours
    assert _help_on_a_terminal(env) == rendered
    assert _help_on_a_terminal(env) == rendered
    assert len(_pages(tmp_path)) == 1


def test_the_key_follows_the_arguments_output_and_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = help_cache.cache_key(["--help"])
    assert key is not None and key == help_cache.cache_key(["--help"])
    assert help_cache.cache_key([]) not in (None, key)
    assert help_cache.cache_key(["run", "--help"]) is None  # only the top-level page
    monkeypatch.setenv("PWD", "/elsewhere")  # changes between shells, never the page
    assert help_cache.cache_key(["--help"]) == key
    monkeypatch.setenv("COLUMNS", "61")
    assert help_cache.cache_key(["--help"]) != key
    monkeypatch.setenv("SANDBOX_HELP_CACHE", "false")
    assert help_cache.cache_key(["--help"]) is None


def test_the_key_follows_the_code() -> None:
    stamped = {Path(path).name for path, _, _ in help_cache._code()}
    assert {"__init__.py", "run.py", "launcher.py", "help_cache.py", "core.py"} <= stamped


def test_a_page_is_used_only_from_a_private_folder_and_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    help_cache.keep_page("k", "page")
    assert help_cache.kept_page("k") == "page"
    folder = tmp_path / "ai-commons-sandbox" / "help"
    folder.chmod(0o777)  # another local user could plant a page
    assert help_cache.kept_page("k") is None
    help_cache.keep_page("k2", "x")
    assert not (folder / "k2").exists()
    folder.chmod(0o700)
    (folder / "link").symlink_to(folder / "k")
    assert help_cache.kept_page("link") is None
    (folder / "big").write_bytes(b"x" * (help_cache._MAX_PAGE_BYTES + 1))
    assert help_cache.kept_page("big") is None


def test_only_the_newest_pages_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for n in range(help_cache.MAX_PAGES + 5):
        help_cache.keep_page(f"k{n}", str(n))
        os.utime(tmp_path / "ai-commons-sandbox" / "help" / f"k{n}", (n, n))
    help_cache.keep_page("last", "last")
    kept = {p.name for p in _pages(tmp_path)}
    assert len(kept) == help_cache.MAX_PAGES and "last" in kept and "k0" not in kept
