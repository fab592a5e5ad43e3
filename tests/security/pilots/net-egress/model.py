# ruff: noqa: SIM115 - a hostile pilot, written plainly
"""Tries to phone out over TCP, UDP and DNS, only to listeners the test started on this machine.

Every attempt is bounded in count and time; the findings go to /output/probe.json.
"""

import json
import os
import socket

from sklearn.linear_model import LogisticRegression

# A DNS query for "leak.invalid" (type A), as a resolver would send it.
DNS_QUERY = (
    bytes.fromhex("abcd01000001000000000000") + b"\x04leak\x07invalid\x00" + b"\x00\x01\x00\x01"
)


def attempt(action):
    try:
        action()
    except OSError as exc:
        return f"blocked: {exc.__class__.__name__}: {exc.strerror or exc}"
    return "sent"


def tcp(host, port):
    with socket.create_connection((host, port), timeout=2) as connection:
        connection.sendall(b"leaked")


def udp(host, port, data):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(data, (host, port))


def build_model(host="", tcp_port=0, udp_port=0, dns_port=0):
    probe = {
        "tcp": attempt(lambda: tcp(host, tcp_port)),
        "udp": attempt(lambda: udp(host, udp_port, b"leaked")),
        "dns_udp": attempt(lambda: udp(host, dns_port, DNS_QUERY)),
        "dns_tcp": attempt(lambda: tcp(host, dns_port)),
        "interfaces": sorted(name for _, name in socket.if_nameindex()),
        "routes": open("/proc/net/route").read().splitlines()[1:],
        "ipv6_routes": open("/proc/net/ipv6_route").read().splitlines()
        if os.path.exists("/proc/net/ipv6_route")
        else [],
    }
    with open("/output/probe.json", "w") as out:
        json.dump(probe, out, indent=2)
    return LogisticRegression(max_iter=200)
