"""Terminal escapes from a pilot never reach the operator's terminal raw.

A file name or a group label may hold an escape sequence that retitles the window, plants a
hyperlink or clears the screen. Every string the CLI prints goes through one console that
shows control characters as visible escapes.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.cli.console import SafeConsole, visible

ATTACKS = {
    "window title": "\x1b]0;owned\x07",
    "hyperlink": "\x1b]8;;https://example.invalid\x1b\\click\x1b]8;;\x1b\\",
    "clear screen": "\x1b[2J\x1b[H",
    "bidi override": "abc\u202edcba",
    "c1 control": "\x9b31m",
}


@pytest.mark.parametrize("payload", ATTACKS.values(), ids=ATTACKS.keys())
def test_control_characters_are_shown_not_obeyed(payload: str) -> None:
    out = io.StringIO()
    SafeConsole(file=out, force_terminal=False, width=200).print(f"group {payload} found")
    text = out.getvalue()
    assert not any(ch in text for ch in "\x1b\x07\x9b\u202e")
    assert visible(payload) in text


def test_styling_of_our_own_survives_on_a_terminal() -> None:
    out = io.StringIO()
    SafeConsole(file=out, force_terminal=True, color_system="standard").print(
        "[red]error:[/] \x1b[2J", highlight=False
    )
    assert out.getvalue().startswith("\x1b[31merror:")  # rich's colour, added after
    assert "\x1b[2J" not in out.getvalue()


def test_an_escape_in_a_pilot_path_reaches_stderr_escaped(tmp_path: Path) -> None:
    cli = Path(sys.executable).with_name("sandbox")
    env = {**os.environ, "SANDBOX_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [str(cli), "run", str(tmp_path / "pilot\x1b]0;owned\x07")],
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert b"\x1b" not in done.stderr and b"\x07" not in done.stderr
    assert b"\\x1b" in done.stderr
