"""A PostgreSQL trail URL: checked before any connection, and never shown with its password.

The URL is libpq's (`postgresql://USER:PASSWORD@HOST:PORT/DATABASE?options`). Every message
and every `location` shows it through `redact`, and any text a driver or server returns goes
through `scrub` first (both from `sandbox.url_secrets`), so a password never reaches a log, a
report or a traceback.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

from sandbox.errors import UserInputError
from sandbox.url_secrets import redact, scrub

__all__ = ["SCHEMES", "check_url", "redact", "scrub"]

SCHEMES: Final = ("postgresql", "postgres")
_MAX_URL: Final = 4096
_FORM: Final = "postgresql://USER:PASSWORD@HOST:PORT/DATABASE"


def check_url(url: str, *, setting: str = "SANDBOX_TRAIL_URL") -> str:
    """The URL if it names a PostgreSQL server; UserInputError naming `setting` if not."""
    fix = f"set {setting} to {_FORM} (see docs/operators.md)"
    if not isinstance(url, str) or not url.strip():
        raise UserInputError(f"{setting}: empty; {fix}")
    if len(url) > _MAX_URL:
        raise UserInputError(f"{setting}: longer than {_MAX_URL} characters; {fix}")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a port that is not a number in range
    except ValueError as exc:
        raise UserInputError(f"{setting}: {redact(url)} is not a URL ({exc}); {fix}") from None
    if parts.scheme not in SCHEMES:
        raise UserInputError(
            f"{setting}: {redact(url)} is not a PostgreSQL URL (scheme {parts.scheme or 'none'}"
            f"); {fix}"
        )
    if not parts.hostname and "host=" not in parts.query:
        raise UserInputError(f"{setting}: {redact(url)} names no host; {fix}")
    return url
