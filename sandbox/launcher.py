"""The `sandbox` command's entry point: a kept help page at once, anything else to the CLI.

`sandbox` and `sandbox --help` print the page kept by the last such command with the same
code, terminal and environment (`help_cache`) without loading the command line; every other
command, and a help page not kept yet, goes to `sandbox.cli.main`: in the warm command server
when it is switched on and listens (`command_server`), else in this process.
"""

from __future__ import annotations

import sys

from sandbox.help_cache import cache_key, kept_page

__all__ = ["main"]


def main() -> None:
    """Console entry point."""
    key = cache_key(sys.argv[1:])
    page = kept_page(key) if key is not None else None
    if page is None:
        from sandbox.command_server.client import served

        code = served(sys.argv[1:])
        if code is not None:
            sys.exit(code)
        from sandbox.cli import main as command_line

        command_line()
        return
    sys.stdout.write(page)
    sys.stdout.flush()
    sys.exit(0)
