# ruff: noqa: SIM115 - a hostile pilot, written plainly
"""Run twice at once: each copy leaves markers where a neighbour could see them (/tmp,
/dev/shm, /output, an abstract unix socket, SysV shared memory, its process list) and looks
for the other copy's markers.
"""

import ctypes
import ctypes.util
import json
import os
import socket
import time

from sklearn.linear_model import LogisticRegression

libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
IPC_CREAT, IPC_PRIVATE_KEY = 0o1000, 0x5A4D


def build_model(me="a", other="b"):
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(f"\0sandbox-peer-{me}")
    listener.listen(1)
    shm_id = libc.shmget(IPC_PRIVATE_KEY + ord(me), 4096, IPC_CREAT | 0o666)
    for folder in ("/tmp", "/dev/shm", "/output"):
        if os.path.isdir(folder):
            with open(f"{folder}/peer-{me}", "w") as handle:
                handle.write(me)
    seen = {}
    deadline = time.monotonic() + 6  # bounded: look for the neighbour for a few seconds
    while time.monotonic() < deadline:
        for folder in ("/tmp", "/dev/shm", "/output"):
            if os.path.exists(f"{folder}/peer-{other}"):
                seen[folder] = True
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
                client.connect(f"\0sandbox-peer-{other}")
                seen["abstract_socket"] = True
        except OSError:
            pass
        if libc.shmget(IPC_PRIVATE_KEY + ord(other), 0, 0) != -1:
            seen["sysv_shm"] = True
        time.sleep(0.2)
    probe = {
        "me": me,
        "seen": seen,
        "shm_created": shm_id != -1,
        "processes": sorted(
            open(f"/proc/{p}/cmdline", "rb").read().replace(b"\0", b" ").decode()
            for p in os.listdir("/proc")
            if p.isdigit()
        ),
    }
    with open("/output/probe.json", "w") as out:
        json.dump(probe, out, indent=2)
    listener.close()
    return LogisticRegression(max_iter=200)
