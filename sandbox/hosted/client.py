"""The client of a hosted sandbox's API: what `sandbox submit` and `sandbox jobs` call.

A city's token travels in every request, so the server must be reached over HTTPS; plain
HTTP is accepted only to a loopback address, where nothing leaves the machine. Redirects are
not followed (a redirect could carry the token elsewhere). Every request has a connect, read
and write timeout, and every answer is read raw (``Accept-Encoding: identity``) with a cap on
its size before it is parsed, so a slow, huge or compressed answer cannot hold the client.

Errors map onto the command line's exit codes: the server refusing the request (a refused
archive, an unknown job, a token it does not accept) is a `UserInputError` (2); a server that
cannot be reached, fails, or answers outside the API is a `ServerUnavailable` or
`BadResponse` (1). Messages the server sends are cut to a bounded length.
"""

from __future__ import annotations

import ipaddress
import json
import re
import ssl
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from sandbox.errors import AccessDenied, SandboxError, UserInputError
from sandbox.hosted.views import BadResponse, JobView, Submission

__all__ = [
    "MAX_RESPONSE_BYTES",
    "HostedClient",
    "ServerUnavailable",
    "check_job_id",
    "check_server",
]

MAX_RESPONSE_BYTES: Final = 4 * 1024 * 1024  # a list of 10,000 jobs fits
_MAX_MESSAGE: Final = 500
_MAX_URL: Final = 2048
_JOB_ID: Final = re.compile(r"job_[a-z0-9]{26}")
_TIMEOUT: Final = httpx.Timeout(connect=10.0, read=120.0, write=120.0, pool=10.0)
_REFUSED: Final = frozenset({400, 404, 409, 413, 422})


class ServerUnavailable(SandboxError):
    """The server cannot be reached, timed out, or failed (5xx): try again later (exit 1)."""


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_server(url: object) -> str:
    """The server's base URL without a trailing slash; UserInputError naming the fix if not."""
    form = "https://HOST[:PORT] (plain http only to a loopback address such as 127.0.0.1)"
    if not isinstance(url, str) or not url or len(url) > _MAX_URL:
        raise UserInputError(f"--server: give the hosted sandbox's address, {form}")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port  # raises on a port that is not a number in range
    except ValueError:
        raise UserInputError(f"--server: {url!r} is not a URL; give {form}") from None
    if parts.scheme not in {"https", "http"} or not host:
        raise UserInputError(f"--server: {url!r} is not an http(s) URL; give {form}")
    if parts.username is not None or parts.query or parts.fragment:
        raise UserInputError(
            f"--server: {parts.scheme}://{host}: no user, query or fragment in the address; the "
            "token goes in SANDBOX_TOKEN or --token-file"
        )
    if parts.scheme == "http" and not _is_loopback(host):
        raise UserInputError(
            f"--server: {url!r} is plain http to {host}, which is not a loopback address: the "
            "token would cross the network unencrypted; use https://"
        )
    return url.rstrip("/")


def check_job_id(job_id: object) -> str:
    """`job_id` if it reads as a job id (job_ and 26 characters); UserInputError if not."""
    if not isinstance(job_id, str) or not _JOB_ID.fullmatch(job_id):
        shown = repr(job_id)[:60] if isinstance(job_id, str) else "(none)"
        raise UserInputError(
            f"job id: {shown} is not a job id (job_ and 26 letters or digits, as `sandbox jobs "
            "list` shows them)"
        )
    return job_id


def _message(body: bytes) -> str:
    """The `error.message` of an error answer, or the start of its text."""
    try:
        data = json.loads(body)
        message = data["error"]["message"]
    except (ValueError, TypeError, KeyError):
        message = body.decode("utf-8", errors="replace")
    text = " ".join(str(message).split())
    return text[:_MAX_MESSAGE] + ("…" if len(text) > _MAX_MESSAGE else "")


def _trusted(ca_file: Path | None) -> ssl.SSLContext | bool:
    """Certifi's authorities, or only those in `ca_file` (a private authority's, PEM)."""
    if ca_file is None:
        return True
    try:
        return ssl.create_default_context(cafile=str(ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise UserInputError(
            f"--ca-file {ca_file}: not a readable PEM file of certificates ({exc}); give the "
            "certificate of the authority that signed the server's"
        ) from None


class HostedClient:
    """Calls to one hosted sandbox, as the holder of one token."""

    def __init__(
        self,
        server: str,
        token: str,
        *,
        ca_file: Path | None = None,
        timeout: httpx.Timeout = _TIMEOUT,
    ) -> None:
        self.server = check_server(server)
        self._http = httpx.Client(
            base_url=self.server,
            verify=_trusted(ca_file),
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment sees the token
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "Accept-Encoding": "identity",
            },
        )

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> HostedClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def submit(self, chunks: Iterable[bytes]) -> Submission:
        """Stream a packed pilot (chunked); the pre-run verdict and the job, if one was queued."""
        headers = {"Content-Type": "application/gzip"}
        answer = self._call("POST", "/api/v1/submissions", content=chunks, headers=headers)
        return Submission.parse(answer)

    def jobs(self, *, organisation: str | None = None, limit: int = 100) -> list[JobView]:
        """The jobs the token may see, newest first."""
        params: dict[str, str | int] = {"limit": limit}
        if organisation is not None:
            params["organisation"] = organisation
        return JobView.parse_list(self._call("GET", "/api/v1/jobs", params=params))

    def job(self, job_id: str) -> JobView:
        """One job; UserInputError if it is unknown (or another organisation's)."""
        return JobView.parse(self._call("GET", f"/api/v1/jobs/{check_job_id(job_id)}"))

    def cancel(self, job_id: str) -> JobView:
        """Ask for a job to be cancelled: a queued job at once, a running one at its next step."""
        return JobView.parse(self._call("POST", f"/api/v1/jobs/{check_job_id(job_id)}/cancel"))

    def whoami(self) -> dict[str, Any]:
        """Who the token is: principal, organisation, roles, kind."""
        answer = self._call("GET", "/api/v1/whoami")
        if not isinstance(answer, dict):
            raise BadResponse("the server's answer to whoami is not an object")
        return answer

    def _call(
        self,
        method: str,
        path: str,
        *,
        content: Iterable[bytes] | None = None,
        params: dict[str, str | int] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        where = f"{self.server}{path}"
        try:
            with self._http.stream(
                method, path, content=content, params=params, headers=headers
            ) as response:
                body = self._read(response, where)
        except httpx.TimeoutException:
            raise ServerUnavailable(f"{where}: no answer in time; try again later") from None
        except httpx.HTTPError as exc:
            reason = " ".join(str(exc).split())[:_MAX_MESSAGE] or type(exc).__name__
            raise ServerUnavailable(
                f"{where}: cannot reach the server ({reason}); check the address and that the "
                "server runs"
            ) from None
        status = response.status_code
        if status == 401 or status == 403:
            raise AccessDenied(
                f"{where}: {_message(body)} (check the token in SANDBOX_TOKEN or --token-file)"
            )
        if status in _REFUSED:
            raise UserInputError(f"{where}: refused ({status}): {_message(body)}")
        if 300 <= status < 400:
            raise ServerUnavailable(
                f"{where}: the server redirects ({status}); give its final https:// address"
            )
        if not 200 <= status < 300:
            raise ServerUnavailable(f"{where}: the server failed ({status}): {_message(body)}")
        try:
            return json.loads(body)
        except ValueError:
            raise BadResponse(f"{where}: the server's answer is not JSON") from None

    @staticmethod
    def _read(response: httpx.Response, where: str) -> bytes:
        """The raw body, refused once it passes MAX_RESPONSE_BYTES."""
        encoding = response.headers.get("content-encoding", "identity").lower()
        if encoding != "identity":
            raise BadResponse(f"{where}: the server sent a {encoding[:20]!r}-encoded answer")
        declared = response.headers.get("content-length", "0")
        if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
            raise BadResponse(f"{where}: an answer of {declared} bytes, over the client's cap")
        pieces: list[bytes] = []
        total = 0
        for piece in response.iter_raw():
            total += len(piece)
            if total > MAX_RESPONSE_BYTES:
                raise BadResponse(
                    f"{where}: an answer over {MAX_RESPONSE_BYTES} bytes, the client's cap"
                )
            pieces.append(piece)
        return b"".join(pieces)
