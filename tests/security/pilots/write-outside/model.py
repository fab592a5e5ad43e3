"""Tries to write everywhere but /output: the root file system, the inputs, its own code,
/proc and /sys, the cgroup limits. Findings go to /output/probe.json.
"""

import json
import os

from sklearn.linear_model import LogisticRegression


def write(path, data=b"tampered"):
    try:
        with open(path, "ab") as handle:
            handle.write(data)
    except OSError as exc:
        return f"denied: {exc.__class__.__name__}: {exc.strerror}"
    return "written"


def build_model():
    targets = [
        "/etc/passwd",
        "/etc/hosts",
        "/etc/hostname",
        "/etc/resolv.conf",
        "/usr/bin/python3",
        "/opt/sandbox/harness.py",
        "/evil",
        "/input/train.parquet",
        "/input/score.parquet",
        "/input/spec.json",
        "/input/new.csv",
        "/pilot/model.py",
        "/pilot/new.py",
        "/proc/sys/kernel/hostname",
        "/proc/sysrq-trigger",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
        "/sys/fs/cgroup/pids/pids.max",
        "/sys/kernel/mm/transparent_hugepage/enabled",
    ]
    probe = {path: write(path) for path in targets}
    for name, action in {
        "chmod /input": lambda: os.chmod("/input/train.parquet", 0o777),
        "rename /input": lambda: os.rename("/input/train.parquet", "/input/x.csv"),
        "unlink /pilot": lambda: os.unlink("/pilot/model.py"),
        "mkdir /": lambda: os.mkdir("/evil-dir"),
        "symlink /etc": lambda: os.symlink("/output", "/etc/evil"),
    }.items():
        try:
            action()
            probe[name] = "done"
        except OSError as exc:
            probe[name] = f"denied: {exc.__class__.__name__}: {exc.strerror}"
    with open("/output/probe.json", "w") as out:
        json.dump(probe, out, indent=2)
    return LogisticRegression(max_iter=200)
