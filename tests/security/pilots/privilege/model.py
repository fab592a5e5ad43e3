"""Tries to gain privilege: setuid binaries, setuid(0), chown, raw sockets, mount, unshare,
the kernel keyring, ptrace, loading modules, changing the clock. Findings go to probe.json.
"""

import ctypes
import ctypes.util
import json
import os
import socket
import stat

from sklearn.linear_model import LogisticRegression

libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
# x86_64 syscall numbers
SYS_ADD_KEY, SYS_KEYCTL, SYS_PTRACE, SYS_INIT_MODULE, SYS_UNSHARE = 248, 250, 101, 175, 272
CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWNET = 0x10000000, 0x00020000, 0x40000000
PTRACE_ATTACH = 16


def syscall(number, *args):
    result = libc.syscall(number, *args)
    if result == -1:
        return "denied: " + os.strerror(ctypes.get_errno())
    return f"allowed ({result})"


def call(action):
    try:
        result = action()
    except OSError as exc:
        return f"denied: {exc.strerror}"
    return f"allowed ({result})"


def setuid_files():
    found = []
    for top in ("/bin", "/sbin", "/usr", "/opt", "/lib", "/etc"):
        for folder, _dirs, files in os.walk(top):
            for name in files:
                path = os.path.join(folder, name)
                try:
                    mode = os.lstat(path).st_mode
                except OSError:
                    continue
                if stat.S_ISREG(mode) and mode & (stat.S_ISUID | stat.S_ISGID):
                    found.append(path)
    return found


def status_field(name, pid="self"):
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith(name + ":"):
                return line.split(":", 1)[1].strip()
    return None


def build_model():
    open("/output/owned.txt", "w").close()
    probe = {
        "uid": os.getuid(),
        "gid": os.getgid(),
        "groups": os.getgroups(),
        "cap_eff": status_field("CapEff"),
        "cap_bnd": status_field("CapBnd"),
        "cap_amb": status_field("CapAmb"),
        "no_new_privs": status_field("NoNewPrivs"),
        "seccomp": status_field("Seccomp"),
        "setuid_files": setuid_files(),
        "setuid(0)": call(lambda: os.setuid(0)),
        "setgid(0)": call(lambda: os.setgid(0)),
        "chown": call(lambda: os.chown("/output/owned.txt", 0, 0)),
        "raw_socket": call(lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, 1).close()),
        "packet_socket": call(lambda: socket.socket(17, socket.SOCK_RAW, 0).close()),
        "mount": syscall_mount(),
        "unshare_user": syscall(SYS_UNSHARE, CLONE_NEWUSER),
        "unshare_mount": syscall(SYS_UNSHARE, CLONE_NEWNS),
        "unshare_net": syscall(SYS_UNSHARE, CLONE_NEWNET),
        "add_key": syscall(SYS_ADD_KEY, b"user", b"sandbox-probe", b"secret", 6, -3),
        "keyctl": syscall(SYS_KEYCTL, 0, -3, 0),  # KEYCTL_GET_KEYRING_ID of the session keyring
        "ptrace_pid1": syscall(SYS_PTRACE, PTRACE_ATTACH, 1, 0, 0),
        "pid1_uid": status_field("Uid", 1),
        "pid1_cap_eff": status_field("CapEff", 1),
        "init_module": syscall(SYS_INIT_MODULE, 0, 0, b""),
        "settimeofday": call(lambda: __import__("time").clock_settime(0, 0.0)),
        "sethostname": syscall(170, b"evil", 4),
        "mknod_device": call(
            lambda: os.mknod("/output/disk", 0o600 | stat.S_IFBLK, os.makedev(8, 0))
        ),
        "nice_-20": call(lambda: os.nice(-20)),
    }
    os.unlink("/output/owned.txt")
    with open("/output/probe.json", "w") as out:
        json.dump(probe, out, indent=2)
    return LogisticRegression(max_iter=200)


def syscall_mount():
    result = libc.mount(b"tmpfs", b"/tmp", b"tmpfs", 0, None)
    if result == -1:
        return "denied: " + os.strerror(ctypes.get_errno())
    return "allowed"
