"""`Repository`: what every table group of the hosted state shares on PostgreSQL.

An engine opened from a checked URL, a clock that must say UTC, and transactions whose
database errors become one `HostedStateError` naming the server with its password hidden.
`Accounts`, `Jobs` and `Reviews` are repositories; each adds its own statements.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Self

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from sandbox.errors import UserInputError
from sandbox.hosted.database import SETTING, check_url, failure, open_engine

__all__ = ["Clock", "Repository", "utcnow"]

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The default clock."""
    return datetime.now(UTC)


class Repository:
    """A group of hosted tables on one database (`migrate` first)."""

    def __init__(self, url: str, *, setting: str = SETTING, clock: Clock = utcnow) -> None:
        self._url = check_url(url, setting=setting)
        self._engine = open_engine(self._url)
        self._clock = clock

    def close(self) -> None:
        """Close the pooled connections (the next call opens new ones)."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError(f"the {type(self).__name__} clock must return an aware datetime")
        return now.astimezone(UTC)

    @contextmanager
    def _transaction(
        self,
        doing: str,
        *,
        conflicts: Mapping[str, str] | None = None,
        locks: tuple[str, ...] = (),
    ) -> Iterator[Connection]:
        """One transaction, holding the advisory `locks` (taken in order) until it ends; a
        broken constraint named in `conflicts` is the caller's error, with that message."""
        try:
            with self._engine.begin() as conn:
                for key in locks:
                    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
                yield conn
        except IntegrityError as exc:
            constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
            if conflicts and isinstance(constraint, str) and constraint in conflicts:
                raise UserInputError(conflicts[constraint]) from None
            raise failure(exc, self._url, doing) from None
        except SQLAlchemyError as exc:
            raise failure(exc, self._url, doing) from None
