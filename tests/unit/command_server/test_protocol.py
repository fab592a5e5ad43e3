"""The command server's messages over a real socket pair, with real file descriptors."""

from __future__ import annotations

import json
import os
import socket
import struct
from collections.abc import Iterator

import pytest

from sandbox.command_server.protocol import (
    EXITED,
    MAX_REQUEST_BYTES,
    STARTED,
    ProtocolError,
    Request,
    read_answer,
    receive_request,
    send_answer,
    send_request,
)


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with left, right:
        right.settimeout(5)
        yield left, right


def _fds() -> list[int]:
    return [os.open(os.devnull, os.O_RDONLY) for _ in range(4)]


def _open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def test_a_request_arrives_whole_with_its_four_descriptors(pair) -> None:  # type: ignore[no-untyped-def]
    left, right = pair
    undecodable = os.fsdecode(b"caf\xe9")  # a variable that is not UTF-8
    request = Request(
        argv=("audit", "evaluate", "--data", "é.csv"), env={"X": undecodable}, umask=0o27
    )
    sent = _fds()
    send_request(left, request, sent)
    received, fds = receive_request(right)
    assert received == request
    assert len(fds) == 4 and not set(fds) & set(sent)  # new descriptors, the same files
    assert all(os.path.samestat(os.fstat(a), os.fstat(b)) for a, b in zip(sent, fds, strict=True))
    for fd in sent + fds:
        os.close(fd)


def test_answers_come_in_order_and_the_end_is_none(pair) -> None:  # type: ignore[no-untyped-def]
    left, right = pair
    send_answer(left, STARTED, 4242)
    send_answer(left, EXITED, 3)
    left.shutdown(socket.SHUT_WR)
    assert read_answer(right) == (STARTED, 4242)
    assert read_answer(right) == (EXITED, 3)
    assert read_answer(right) is None


def test_too_few_descriptors_are_refused_and_closed(pair) -> None:  # type: ignore[no-untyped-def]
    left, right = pair
    body = Request(argv=(), env={}, umask=0o22).encode()
    sent = _fds()[:2]
    socket.send_fds(left, [struct.pack("!I", len(body))], sent)
    left.sendall(body)
    before = set(os.listdir("/proc/self/fd"))
    with pytest.raises(ProtocolError, match="four file descriptors"):
        receive_request(right)
    assert set(os.listdir("/proc/self/fd")) <= before  # what came was closed
    for fd in sent:
        os.close(fd)


def test_an_oversized_request_is_refused_before_it_is_read(pair) -> None:  # type: ignore[no-untyped-def]
    left, right = pair
    sent = _fds()
    socket.send_fds(left, [struct.pack("!I", MAX_REQUEST_BYTES + 1)], sent)
    with pytest.raises(ProtocolError, match="bytes is more than"):
        receive_request(right)
    for fd in sent:
        os.close(fd)


def test_a_request_cut_short_is_refused(pair) -> None:  # type: ignore[no-untyped-def]
    left, right = pair
    sent = _fds()
    socket.send_fds(left, [struct.pack("!I", 100)], sent)
    left.sendall(b"{}")
    left.shutdown(socket.SHUT_WR)
    with pytest.raises(ProtocolError, match="short"):
        receive_request(right)
    for fd in sent:
        os.close(fd)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"not json", "not JSON"),
        (b"[]", "JSON object"),
        (json.dumps({"argv": ["a\u0000b"], "env": {}, "umask": 18}).encode(), "argv"),
        (json.dumps({"argv": [], "env": {"A": "x\u0000"}, "umask": 18}).encode(), "env"),
        (json.dumps({"argv": "run", "env": {}, "umask": 18}).encode(), "argv"),
        (json.dumps({"argv": [], "env": {"A": 1}, "umask": 18}).encode(), "env"),
        (json.dumps({"argv": [], "env": {}, "umask": 0o1000}).encode(), "umask"),
        (json.dumps({"argv": [], "env": {}, "umask": True * 0 - 1}).encode(), "umask"),
    ],
)
def test_a_malformed_request_is_refused(body: bytes, problem: str) -> None:
    with pytest.raises(ProtocolError, match=problem):
        Request.decode(body)


def test_a_request_too_large_to_send_is_refused_before_sending(pair) -> None:  # type: ignore[no-untyped-def]
    left, _ = pair
    request = Request(argv=("x" * MAX_REQUEST_BYTES,), env={}, umask=0o22)
    with pytest.raises(ProtocolError, match="more than"):
        send_request(left, request, [])
