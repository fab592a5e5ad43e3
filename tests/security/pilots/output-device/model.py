# ruff: noqa: SIM105 - a hostile pilot, written plainly
"""Leaves special files in /output: a device node (if it can) and a FIFO that would block a
careless reader for ever.
"""

import os
import stat

from sklearn.linear_model import LogisticRegression


def build_model():
    try:
        os.mknod("/output/null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except OSError:
        pass  # no CAP_MKNOD: the FIFO below is what reaches the host
    os.mkfifo("/output/pipe")
    return LogisticRegression(max_iter=200)
