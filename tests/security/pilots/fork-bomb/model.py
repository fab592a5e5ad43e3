"""A fork bomb: every process forks for ever; the pids limit must hold it, the timeout end it."""

import os
import time


def build_model():
    while True:
        try:
            os.fork()
        except OSError:
            time.sleep(0.01)
