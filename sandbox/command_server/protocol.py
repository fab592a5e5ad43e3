"""What a command and the command server say to each other over the server's Unix socket.

The command sends one request: a 4-byte length with the caller's standard input, output and
error and its working folder attached as file descriptors (`SCM_RIGHTS`), then that many
bytes of JSON (the arguments, the environment and the file-creation mask). The server answers
with two 5-byte messages: `P` and the process id of the command's process once it is started,
then `X` and its exit code once it has ended (128 + the signal's number when a signal ended
it). Standard library only: the command's side must start in milliseconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
from typing import Final, NamedTuple

__all__ = [
    "MAX_REQUEST_BYTES",
    "ProtocolError",
    "Request",
    "read_answer",
    "receive_request",
    "send_answer",
    "send_request",
]

#: The largest request taken (arguments and environment); a shell's is a few kilobytes.
MAX_REQUEST_BYTES: Final = 1 << 20
#: Standard input, output, error and the working folder, in that order.
PASSED_FDS: Final = 4
STARTED: Final = b"P"
EXITED: Final = b"X"
_LENGTH: Final = struct.Struct("!I")
_ANSWER: Final = struct.Struct("!ci")


class ProtocolError(Exception):
    """A message that is not what the protocol says (the connection is then dropped)."""


class Request(NamedTuple):  # a named tuple: dataclasses costs a command 13 ms to import
    """A command to run as its caller would: its arguments, environment and file mask."""

    argv: tuple[str, ...]
    env: dict[str, str]
    umask: int

    def encode(self) -> bytes:
        # ensure_ascii keeps the surrogates that stand for non-UTF-8 bytes of a variable.
        body = {"argv": list(self.argv), "env": self.env, "umask": self.umask}
        return json.dumps(body).encode("ascii")

    @classmethod
    def decode(cls, data: bytes) -> Request:
        try:
            body = json.loads(data)
        except ValueError as exc:
            raise ProtocolError(f"the request is not JSON: {exc}") from None
        if not isinstance(body, dict):
            raise ProtocolError("the request must be a JSON object")
        argv, env, umask = body.get("argv"), body.get("env"), body.get("umask")
        if not (isinstance(argv, list) and all(_text(a) for a in argv)):
            raise ProtocolError("argv must be a list of strings without NUL")
        if not (isinstance(env, dict) and all(_text(k) and _text(v) for k, v in env.items())):
            raise ProtocolError("env must map names to strings without NUL")
        if not (isinstance(umask, int) and 0 <= umask <= 0o777):
            raise ProtocolError("umask must be a file mode mask")
        return cls(argv=tuple(argv), env=env, umask=umask)


def send_request(connection: socket.socket, request: Request, fds: list[int]) -> None:
    """Send `request` with `fds` (standard input, output, error, working folder) attached."""
    body = request.encode()
    if len(body) > MAX_REQUEST_BYTES:
        raise ProtocolError(f"the request has {len(body)} bytes, more than {MAX_REQUEST_BYTES}")
    socket.send_fds(connection, [_LENGTH.pack(len(body))], fds)
    connection.sendall(body)


def receive_request(connection: socket.socket) -> tuple[Request, list[int]]:
    """The request on `connection` and the file descriptors that came with it (the caller
    owns them; on a ProtocolError they are closed already)."""
    header, fds, flags, _ = socket.recv_fds(connection, _LENGTH.size, PASSED_FDS)
    try:
        if flags & socket.MSG_CTRUNC or len(fds) != PASSED_FDS or len(header) != _LENGTH.size:
            raise ProtocolError("the request must come with exactly four file descriptors")
        (length,) = _LENGTH.unpack(header)
        if length > MAX_REQUEST_BYTES:
            raise ProtocolError(f"a request of {length} bytes is more than {MAX_REQUEST_BYTES}")
        return Request.decode(_exactly(connection, length)), fds
    except (ProtocolError, OSError):
        for fd in fds:
            _close(fd)
        raise


def send_answer(connection: socket.socket, kind: bytes, value: int) -> None:
    """`P` with the command's process id, or `X` with its exit code."""
    connection.sendall(_ANSWER.pack(kind, value))


def read_answer(connection: socket.socket) -> tuple[bytes, int] | None:
    """The next answer, or None when the server has closed the connection."""
    data = _exactly(connection, _ANSWER.size, allow_end=True)
    if not data:
        return None
    kind, value = _ANSWER.unpack(data)
    return bytes(kind), int(value)


def _exactly(connection: socket.socket, size: int, *, allow_end: bool = False) -> bytes:
    parts: list[bytes] = []
    remaining = size
    while remaining:
        part = connection.recv(min(remaining, 1 << 16))
        if not part:
            if allow_end and remaining == size:
                return b""
            raise ProtocolError(f"the connection ended {remaining} bytes short of a message")
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def _text(value: object) -> bool:
    """A string a process can hold as an argument or variable (no NUL byte)."""
    return isinstance(value, str) and "\0" not in value


def _close(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)
