"""Tries to read what belongs to the host: canary files, the environment of the host and of
PID 1, the mount table, secrets under /proc and /sys, the pilot's own data file.

Whatever it manages to read is written to /output/probe.json for the test to inspect.
"""

import glob
import json
import os

from sklearn.linear_model import LogisticRegression

LIMIT = 4096


def read(path):
    try:
        with open(path, "rb") as handle:
            return "read: " + handle.read(LIMIT).decode("utf-8", errors="replace")
    except OSError as exc:
        return f"denied: {exc.__class__.__name__}: {exc.strerror}"


def build_model(canaries=()):
    targets = [
        *canaries,
        "/proc/1/environ",
        "/proc/self/environ",
        "/proc/self/mountinfo",
        "/proc/mounts",
        "/proc/kcore",
        "/proc/keys",
        "/proc/timer_list",
        "/proc/sched_debug",
        "/proc/kallsyms",
        "/proc/sysrq-trigger",
        "/proc/1/root/etc/hostname",
        "/sys/firmware/dmi/tables/DMI",
        "/sys/kernel/security/lsm",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
        "/etc/shadow",
        "/root/.bash_history",
        "/pilot/data.csv",
        "/pilot/secrets.txt",
        "/input/../pilot/data.csv",
        "/var/run/secrets/kubernetes.io/serviceaccount/token",
    ]
    probe = {
        "environ": dict(os.environ),
        "files": {path: read(path) for path in targets},
        "pilot_listing": sorted(os.listdir("/pilot")),
        "input_listing": sorted(os.listdir("/input")),
        "proc_pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        "home_dirs": sorted(glob.glob("/home/*") + glob.glob("/root/*")),
    }
    with open("/output/probe.json", "w") as out:
        json.dump(probe, out, indent=2)
    return LogisticRegression(max_iter=200)
