"""Leaves zombies (children never waited for) and a daemon that outlives the model and keeps
rewriting the outputs after the harness is done; then behaves.
"""

import os
import time

from sklearn.linear_model import LogisticRegression


def daemon():
    if os.fork():
        os._exit(0)  # the middle process exits: the daemon is orphaned
    os.setsid()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.05)
        try:
            with open("/output/late.txt", "a") as handle:
                handle.write("written after the harness ended\n")
        except OSError:
            pass


def build_model():
    for _ in range(20):
        if os.fork() == 0:
            os._exit(0)  # a zombie: the parent never waits for it
    if os.fork() == 0:
        daemon()
        os._exit(0)
    return LogisticRegression(max_iter=200)
