"""Passwords in service URLs (databases, brokers): never shown, whatever shows them.

A URL's password can sit in its user part (`scheme://USER:PASSWORD@HOST/...`) or in its query
(`?password=...`, which libpq reads too). `redact` shows a URL with both hidden; `scrub`
removes every form of them (as written, decoded, percent-encoded) from any text a driver, a
server or a broker returns, so a password never reaches a log, a report or a traceback. The
URL is handled as text: a URL too malformed to parse is still redacted.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import quote, unquote

__all__ = ["HIDDEN", "redact", "scrub"]

HIDDEN: Final = "***"

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
        text = text.replace(secret, HIDDEN)
    return text


def redact(url: str) -> str:
    """The URL with its password (in the user part or the query) shown as ***."""
    userinfo = _USERINFO.match(url)
    shown = f"{userinfo['head']}:{HIDDEN}@{userinfo['tail']}" if userinfo is not None else url
    return scrub(_QUERY_PASSWORD.sub(rf"\g<1>{HIDDEN}", shown), url)
