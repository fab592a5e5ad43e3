"""A command's process forked from the server: it becomes the caller's, then runs the command.

Before the command line is loaded, the child takes everything of the caller's that a command
reads: its standard input, output and error, its working folder, its whole environment, its
file-creation mask and its arguments. It then runs `sandbox.cli.main` and ends as a process
does (exit handlers, flushed streams) with the command's exit code.

What differs from a process the caller starts itself: resource limits (`ulimit`) and the
process group are the server's, and job control (Ctrl-Z) stops only the caller.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import traceback
from typing import NoReturn

from sandbox.command_server.protocol import Request

__all__ = ["run"]


def run(request: Request, fds: list[int]) -> NoReturn:
    """Become the caller's process (`fds`: its input, output, error and working folder), run
    the command line with its arguments, and exit with the command's code."""
    code = 1
    try:
        _adopt(request, fds)
        code = _command()
    except BaseException:  # the caller must still get an answer and a trace
        traceback.print_exc()
    finally:
        _flush()
    os._exit(code)


def _adopt(request: Request, fds: list[int]) -> None:
    stdin, stdout, stderr, folder = fds
    for fd, number in ((stdin, 0), (stdout, 1), (stderr, 2)):
        os.dup2(fd, number)
    os.fchdir(folder)
    for fd in set(fds):
        if fd > 2:
            os.close(fd)
    os.umask(request.umask)
    os.environ.clear()
    os.environ.update(request.env)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for stream in (sys.stdout, sys.stderr):
        # Python buffers a terminal's output by line and anything else by block.
        stream.reconfigure(line_buffering=stream.isatty())  # type: ignore[union-attr]
    sys.argv = ["sandbox", *request.argv]


def _command() -> int:
    from sandbox.cli import main
    from sandbox.cli.console import reopen

    reopen()

    try:
        main()
    except SystemExit as exc:
        code = _exit_code(exc.code)
    else:
        code = 0
    atexit._run_exitfuncs()  # what the command's own interpreter would run as it exits
    return code


def _exit_code(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value & 0xFF
    print(value, file=sys.stderr)
    return 1


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
