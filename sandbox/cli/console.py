"""The consoles every command prints to, and shared argument types.

Text printed here often comes from a pilot (file names, group labels, error messages), and a
terminal obeys control characters: an escape sequence could retitle the window, plant a
hyperlink or clear the screen. Both consoles therefore show every control character as a
visible escape (`\x1b`) before rich reads the text; rich's own styling is added afterwards.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

__all__ = ["OutOption", "PilotArg", "TenantOption", "console", "errors", "reopen", "visible"]

# C0 controls except tab and newline, DEL, C1 controls, and the bidirectional overrides that
# can make a terminal show text in another order than it is.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """`text` with every control character written as a visible escape."""
    return _CONTROL.sub(lambda m: ascii(m.group())[1:-1], text)


class SafeConsole(Console):
    """A rich console that never passes a control character of its text to the terminal."""

    def render_str(self, text: str, *args: Any, **kwargs: Any) -> Text:
        """Render `text` (markup and all) after making its control characters visible."""
        return super().render_str(visible(text), *args, **kwargs)


console = SafeConsole()
errors = SafeConsole(stderr=True)


def reopen() -> None:
    """Have both consoles look again at the process's terminal and environment, as when they
    were made: a process forked from the command server has taken on its caller's."""
    console.__init__()  # type: ignore[misc]
    errors.__init__(stderr=True)  # type: ignore[misc]


PilotArg = Annotated[
    Path, typer.Argument(help="A pilot folder holding a pilot.yaml.", show_default=False)
]
OutOption = Annotated[
    Path | None, typer.Option("--out", help="Also write the reports into this folder.")
]
TenantOption = Annotated[
    str | None,
    typer.Option(
        "--tenant",
        help="The city the run is recorded for (default: SANDBOX_TENANT); "
        "the API serves the run to that city's token alone.",
        show_default=False,
    ),
]
