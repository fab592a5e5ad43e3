"""The hosted state's database: its URL checked, an engine for it, errors without the password.

The URL is libpq's (`postgresql://USER:PASSWORD@HOST:PORT/DATABASE?options`), the form
`scripts/postgres.sh` prints; it is driven through psycopg 3 (the `hosted` extra). The tables go
into the connection's current schema, the first on its search_path, so one database can keep
the hosted state apart from a trail or MLflow (`?options=-csearch_path%3Dhosted`). Every
message shows the URL with its password (in the user part or the query) as *** and has the
password removed from whatever the driver or the server said (`sandbox.url_secrets`).
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import URL, Engine, create_engine, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.pool import NullPool

from sandbox import url_secrets
from sandbox.errors import HostedStateError, UserInputError

__all__ = ["SETTING", "check_url", "failure", "open_engine", "redact"]

SETTING: Final = "SANDBOX_HOSTED_URL"
_FORM: Final = "postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
_MAX_URL: Final = 4096
_CONNECT_TIMEOUT_S: Final = 10
_SCHEMES: Final = frozenset({"postgresql", "postgres", "postgresql+psycopg"})


def check_url(url: object, *, setting: str = SETTING) -> URL:
    """The URL, for psycopg 3, if it names a PostgreSQL server; UserInputError if not."""
    fix = f"set {setting} to {_FORM} (`bash scripts/postgres.sh` prints one)"
    if not isinstance(url, str) or not url.strip():
        raise UserInputError(f"{setting}: empty; {fix}")
    if len(url) > _MAX_URL:
        raise UserInputError(f"{setting}: longer than {_MAX_URL} characters; {fix}")
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise UserInputError(f"{setting}: not a URL; {fix}") from None
    shown = redact(parsed)
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise UserInputError(f"{setting}: {shown} has no valid port (1-65535); {fix}")
    if parsed.drivername not in _SCHEMES:
        raise UserInputError(f"{setting}: {shown} is not a PostgreSQL URL; {fix}")
    if not parsed.host and "host" not in parsed.query:
        raise UserInputError(f"{setting}: {shown} names no host; {fix}")
    return parsed.set(drivername="postgresql+psycopg")


def _text(url: URL) -> str:
    return url.render_as_string(hide_password=False).replace("+psycopg", "", 1)


def redact(url: URL) -> str:
    """The URL as text, its password (in the user part or the query) shown as ***."""
    return url_secrets.redact(_text(url))


def scrub(text: str, url: URL) -> str:
    """`text` with every form of the URL's password replaced by ***."""
    return url_secrets.scrub(text, _text(url))


def open_engine(url: URL, *, pooled: bool = True) -> Engine:
    """An engine on `url` (checked by `check_url`); connections time out after 10 s."""
    return create_engine(
        url,
        poolclass=None if pooled else NullPool,
        pool_pre_ping=pooled,  # a server restart costs one reconnect, not a failed request
        connect_args={"connect_timeout": _CONNECT_TIMEOUT_S},
    )


def failure(exc: SQLAlchemyError, url: URL, doing: str) -> HostedStateError:
    """A one-line error for a failed database call: the server, what failed, what to check."""
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    reason = scrub(" ".join(str(original).split()), url)[:400]
    message = f"{redact(url)}: cannot {doing} ({reason})"
    if isinstance(exc, OperationalError | InterfaceError):  # the server, not the request
        message += (
            "; check that the server runs (`bash scripts/postgres.sh` starts one) and that "
            f"{SETTING} names its host, port, database, user and password"
        )
    return HostedStateError(message)
