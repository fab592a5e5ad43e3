"""A hosted sandbox's API tokens: their format, and the one form a secret is stored in.

A token reads `sbx_<prefix>_<secret>`: a 12-hex-digit prefix (48 random bits) that names the
token in listings and finds its row, and a 256-bit secret (43 URL-safe characters) that only
the holder has. The database keeps the prefix and the SHA-256 of the secret, never the secret:
a copy of the database lets nobody sign in. A secret is high-entropy, so a fast hash is enough
(nothing to brute-force); it is compared with `hmac.compare_digest`.

`parse_token` never fails: a malformed token becomes a prefix that no row can have, so
refusing it costs the same lookup and comparison as refusing a wrong, expired or revoked one.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

__all__ = [
    "MAX_LIFETIME",
    "MAX_TOKEN_LENGTH",
    "NO_PREFIX",
    "IssuedToken",
    "TokenInfo",
    "TokenState",
    "new_token",
    "parse_token",
    "secret_digest",
]

MAX_LIFETIME: Final = timedelta(days=365)
MAX_TOKEN_LENGTH: Final = 128  # the longest string looked at; a real token is 60 characters
PREFIX_HEX: Final = 12
SECRET_BYTES: Final = 32
_TOKEN: Final = re.compile(r"sbx_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
# Fails the prefix check the tokens table enforces, so it matches no row.
NO_PREFIX: Final = "-" * PREFIX_HEX


class TokenState(StrEnum):
    """Where a token is in its life, at the moment it is listed."""

    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True, kw_only=True)
class TokenInfo:
    """What a listing shows of a token: everything but its secret."""

    id: int
    principal: str
    organisation: str
    prefix: str
    created: datetime
    expires: datetime
    revoked: datetime | None
    last_used: datetime | None
    state: TokenState

    @property
    def shown(self) -> str:
        """How the token is shown once issued: its prefix, never its secret."""
        return f"sbx_{self.prefix}_…"


@dataclass(frozen=True, kw_only=True)
class IssuedToken:
    """A new token: `token` is shown to its holder once, and kept nowhere."""

    token: str
    info: TokenInfo

    def __repr__(self) -> str:  # the secret stays out of logs and tracebacks
        return f"IssuedToken(info={self.info!r})"


def new_token() -> tuple[str, str, str]:
    """(prefix, secret, token) for a new token, from the operating system's random source."""
    prefix = secrets.token_hex(PREFIX_HEX // 2)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    return prefix, secret, f"sbx_{prefix}_{secret}"


def parse_token(token: object) -> tuple[str, str]:
    """(prefix, secret) of a well-formed token; (NO_PREFIX, something) of anything else."""
    # Straight-line on purpose: a malformed token runs the same lines as a well-formed one.
    head = token[: MAX_TOKEN_LENGTH + 1] if isinstance(token, str) else ""  # bounded first
    matched = _TOKEN.fullmatch(head)
    prefix, secret = (matched[1], matched[2]) if matched is not None else (NO_PREFIX, head)
    return prefix, secret


def secret_digest(secret: str) -> bytes:
    """The SHA-256 a secret is stored and compared as."""
    return hashlib.sha256(secret.encode("utf-8", errors="surrogatepass")).digest()
