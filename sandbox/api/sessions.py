"""Browser sessions: a random id in the cookie, the city's token never leaves the server.

A session is created by signing in with a token and holds only that token's SHA-256, so
deleting the token from the tenants file ends every session opened with it. Sessions live in
the server's memory: a restart signs everyone out, and the store is bounded (the oldest session
goes first). Each session has an absolute lifetime and an idle timeout, and its own CSRF token
for the forms it may post (sign-out).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final

__all__ = ["IDLE_S", "LIFETIME_S", "MAX_SESSIONS", "Session", "SessionStore"]

LIFETIME_S: Final = 8 * 3600
IDLE_S: Final = 3600
MAX_SESSIONS: Final = 10_000


@dataclass(frozen=True, kw_only=True)
class Session:
    """One signed-in browser."""

    token_sha256: str  # which token opened it; the city is looked up afresh on every request
    csrf: str  # the token the session's forms carry
    created: float
    last_seen: float


def _key(session_id: str) -> str:
    # The store is keyed by a hash, so a dump of the server's memory yields no usable cookie.
    return hashlib.sha256(session_id.encode("utf-8", errors="surrogatepass")).hexdigest()


class SessionStore:
    """Sessions by (hashed) id, bounded in number and in time."""

    def __init__(
        self,
        *,
        lifetime_s: float = LIFETIME_S,
        idle_s: float = IDLE_S,
        max_sessions: int = MAX_SESSIONS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lifetime_s = lifetime_s
        self.idle_s = idle_s
        self.max_sessions = max_sessions
        self._clock = clock
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def open(self, token_sha256: str) -> tuple[str, Session]:
        """A new session for the token with this hash: (the cookie's id, the session)."""
        session_id = secrets.token_urlsafe(32)
        now = self._clock()
        session = Session(
            token_sha256=token_sha256, csrf=secrets.token_urlsafe(32), created=now, last_seen=now
        )
        with self._lock:
            self._sessions[_key(session_id)] = session
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)
        return session_id, session

    def get(self, session_id: str) -> Session | None:
        """The live session with this id (its idle clock restarts); None when unknown or over."""
        key = _key(session_id)
        now = self._clock()
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                return None
            if now - session.created > self.lifetime_s or now - session.last_seen > self.idle_s:
                del self._sessions[key]
                return None
            session = replace(session, last_seen=now)
            self._sessions[key] = session
            return session

    def close(self, session_id: str) -> None:
        """End the session with this id (signing out); unknown ids are ignored."""
        with self._lock:
            self._sessions.pop(_key(session_id), None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)
