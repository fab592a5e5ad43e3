"""Ignores every polite signal (TERM, INT, HUP, QUIT, USR1/2), in itself and a child: only a
hard kill stops it.
"""

import os
import signal
import time

POLITE = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1)


def build_model():
    for number in POLITE:
        signal.signal(number, signal.SIG_IGN)
    if os.fork() == 0:
        os.setsid()  # a child in its own session, also ignoring signals
    while True:
        time.sleep(0.5)
