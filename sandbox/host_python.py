"""How the sandbox starts Python helper processes on the host: `module_command`.

A command runs in whatever folder its user is in, a pilot's folder among them. `python -m`
puts that folder first on the module path, so a pilot's `mlflow.py`, `json.py` or `sandbox/`
there would run on the host in place of the real module, in every helper process (the tracking
sidecar, the shared one that outlives the command, the PDF's). `-P` (Python 3.11) leaves the
folder off the path.
"""

from __future__ import annotations

import sys

__all__ = ["module_command"]


def module_command(module: str, *args: str) -> list[str]:
    """The command that runs `module` with this interpreter, never importing from the cwd."""
    return [sys.executable, "-P", "-m", module, *args]
