"""The caller's signal relay: signals before the command's process is known are not lost."""

from __future__ import annotations

import signal
import subprocess
import sys

from sandbox.command_server.client import _Relay


def test_a_signal_before_the_process_is_known_reaches_it_once_it_is() -> None:
    command = [sys.executable, "-c", "import time; time.sleep(60)"]
    with subprocess.Popen(command) as process:
        relay = _Relay()
        relay(signal.SIGTERM, None)  # Ctrl-C or kill while the request is on its way
        assert process.poll() is None
        relay.to(process.pid)
        assert process.wait(timeout=30) == -signal.SIGTERM


def test_a_request_not_taken_puts_the_handlers_back_and_raises_what_came_meanwhile() -> None:
    seen: list[int] = []
    relay = _Relay()
    before = {signal.SIGUSR1: lambda signum, _frame: seen.append(signum)}
    previous = signal.signal(signal.SIGUSR1, relay)
    try:
        signal.raise_signal(signal.SIGUSR1)  # kept: no process yet
        assert seen == []
        relay.back(before)  # this process will run the command itself
        assert seen == [signal.SIGUSR1]
        assert signal.getsignal(signal.SIGUSR1) is before[signal.SIGUSR1]
    finally:
        signal.signal(signal.SIGUSR1, previous)
