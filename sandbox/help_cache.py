"""The top-level help page, kept once rendered: `sandbox` and `sandbox --help` in a blink.

Typer and rich take about 0.25 s to load and lay out the command list, five times what the
interpreter needs to start. The page is the same every time for the same code, terminal and
environment, so the first `sandbox --help` keeps what it printed, and later ones print that
without loading the command line at all (`sandbox.launcher`).

A kept page is used only under the key it was rendered under, a digest of everything the page
depends on:

- the arguments (`sandbox` alone and `sandbox --help`);
- the code: the interpreter, and the size and modification time of every module of the
  command line, of the sandbox's own package and of typer (with its click) and rich;
- the output: which of standard input, output and error are terminals, their sizes, and
  the output's encoding;
- the environment, all of it (rich and typer read `COLUMNS`, `TERM`, `NO_COLOR`,
  `FORCE_COLOR` and more), but for the variables that change from one shell to the next
  without changing any output (`PWD`, `OLDPWD`, `SHLVL`, `_`).

Pages live in `$XDG_CACHE_HOME/ai-commons-sandbox/help/` (else `~/.cache/...`), the newest
`MAX_PAGES` of them, in a folder only the user can enter; anything else (another owner, a
link, open to others, too large a file) and the help is rendered as before.
`SANDBOX_HELP_CACHE=false` turns it off.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import sys
from collections.abc import Sequence
from importlib.util import find_spec
from typing import TextIO

from sandbox.private_folder import private_folder

__all__ = ["HELP_ARGS", "MAX_PAGES", "Recorder", "cache_key", "keep_page", "kept_page"]

#: The argument lists whose output is kept.
HELP_ARGS: tuple[tuple[str, ...], ...] = ((), ("--help",))
_VOLATILE = frozenset({"PWD", "OLDPWD", "SHLVL", "_"})
_OFF = frozenset({"0", "false", "no", "off"})
_MAX_PAGE_BYTES = 1 << 16
#: Pages kept at most (the oldest go first).
MAX_PAGES = 32


def cache_key(args: Sequence[str]) -> str | None:
    """The digest the page for `args` is kept under; None if it is not to be kept."""
    switched_off = os.environ.get("SANDBOX_HELP_CACHE", "").lower() in _OFF
    if tuple(args) not in HELP_ARGS or switched_off:
        return None
    facts: list[object] = [list(args), sys.executable, sys.version, _code(), _output()]
    facts.append(sorted((k, v) for k, v in os.environ.items() if k not in _VOLATILE))
    return hashlib.sha256(repr(facts).encode("utf-8", "surrogateescape")).hexdigest()


def kept_page(key: str) -> str | None:
    """The page kept under `key`, if there is one and its folder is the user's alone."""
    folder = _folder(create=False)
    if folder is None:
        return None
    try:
        fd = os.open(os.path.join(folder, key), os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(_MAX_PAGE_BYTES + 1)
    if len(data) > _MAX_PAGE_BYTES:
        return None
    return data.decode("utf-8", "surrogateescape")


def keep_page(key: str, page: str) -> None:
    """Keep `page` under `key` (atomically; quietly nothing if the folder is not usable)."""
    folder = _folder(create=True)
    data = page.encode("utf-8", "surrogateescape")
    if folder is None or len(data) > _MAX_PAGE_BYTES:
        return
    partial = os.path.join(folder, f".{key}.{os.getpid()}")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(partial, os.path.join(folder, key))
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(partial)
    _prune(folder)


def _prune(folder: str) -> None:
    """Keep the newest `MAX_PAGES` pages: each new terminal size or environment adds one."""
    try:
        pages = sorted(os.scandir(folder), key=lambda e: e.stat(follow_symlinks=False).st_mtime)
    except OSError:
        return
    for stale in pages[:-MAX_PAGES]:
        with contextlib.suppress(OSError):
            os.unlink(stale.path)


class Recorder(io.TextIOBase):
    """Standard output as a text stream that keeps what is written and passes nothing on;
    it answers as the real one does about its terminal, size and encoding, so rich renders
    the same page. (No binary `buffer`: every writer writes text, and all of it is kept.)"""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream
        self._parts: list[str] = []

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # as a text stream refuses it (click probes with b"")
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._parts.append(text)
        return len(text)

    def text(self) -> str:
        """Everything written so far."""
        return "".join(self._parts)

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.stream.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self.stream.errors


def _folder(*, create: bool) -> str | None:
    """The cache folder if it is a real folder of this user's that nobody else can enter."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "ai-commons-sandbox", "help")
    return folder if private_folder(folder, create=create) else None


def _code() -> list[object]:
    """Size and modification time of every module the page is rendered by."""
    here = os.path.dirname(os.path.abspath(__file__))
    folders = [here, os.path.join(here, "cli")]
    for name in ("typer", "rich"):
        spec = find_spec(name)  # finds the package without importing it
        if spec is not None and spec.origin:
            folders.append(os.path.dirname(spec.origin))
            if name == "typer":
                folders.append(os.path.join(folders[-1], "_click"))  # typer's own click
    stamps: list[object] = []
    for folder in folders:
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.endswith(".py"):
                info = entry.stat()
                stamps.append((entry.path, info.st_size, info.st_mtime_ns))
    return stamps


def _output() -> list[object]:
    """Which standard streams are terminals and their sizes (rich takes its width from the
    first that is one), and the output's encoding."""
    streams: list[object] = []
    for fd in (0, 1, 2):
        try:
            streams.append((os.isatty(fd), tuple(os.get_terminal_size(fd))))
        except OSError:
            streams.append((os.isatty(fd), None))
    return [streams, getattr(sys.stdout, "encoding", None)]
