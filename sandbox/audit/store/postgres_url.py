"""A PostgreSQL trail URL: checked before any connection, and never shown with its password.

The URL is libpq's (`postgresql://USER:PASSWORD@HOST:PORT/DATABASE?options`). Every message
and every `location` shows it through `redact`, and any text a driver or server returns goes
through `scrub` first, so a password never reaches a log, a report or a traceback.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import quote, unquote, urlsplit

from sandbox.errors import UserInputError

__all__ = ["SCHEMES", "check_url", "redact", "scrub"]

SCHEMES: Final = ("postgresql", "postgres")
_HIDDEN: Final = "***"
_MAX_URL: Final = 4096
_FORM: Final = "postgresql://USER:PASSWORD@HOST:PORT/DATABASE"


# user:password@ up to the last "@": a password with an unencoded "/" or "@" is hidden too.
_USERINFO: Final = re.compile(r"^(?P<head>[^:/?#]*://[^:/?#@]*):(?P<secret>.*)@(?P<tail>[^@]*)$")
_QUERY_PASSWORD: Final = re.compile(r"(?i)([?&]password=)([^&#]*)")


def _secrets(url: str) -> list[str]:
    """The password as written in the URL and as decoded, from the user part and the query."""
    found = [m.group(2) for m in _QUERY_PASSWORD.finditer(url)]
    userinfo = _USERINFO.match(url)
    if userinfo is not None:
        found.append(userinfo["secret"])
    values = {v for v in found if v}
    values |= {unquote(v) for v in values} | {quote(v, safe="") for v in values}
    return sorted(values, key=len, reverse=True)  # the longest first: no half-replaced secret


def scrub(text: str, url: str) -> str:
    """`text` with every form of the URL's password replaced by ***."""
    for secret in _secrets(url):
        text = text.replace(secret, _HIDDEN)
    return text


def redact(url: str) -> str:
    """The URL with its password (in the user part or the query) shown as ***."""
    userinfo = _USERINFO.match(url)
    shown = f"{userinfo['head']}:{_HIDDEN}@{userinfo['tail']}" if userinfo is not None else url
    return scrub(_QUERY_PASSWORD.sub(rf"\g<1>{_HIDDEN}", shown), url)


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
