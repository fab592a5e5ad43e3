"""A job's advisory lock: which live database session runs the job, taken again after a drop.

The lock is session-level, on a connection of its own that is kept out of the pool while the
lock is held. PostgreSQL drops it with the connection: when the worker dies (at once, or after
the TCP keepalives below for a vanished host) and also when the server restarts under a live
worker. `take` therefore checks the connection first and, if it has gone, opens a new one and
tries again, so a worker keeps its lock across a restart unless another session took it first.
The lock alone never decides that a worker died: the attempt's lease does (`job_states`).
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import URL, Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from sandbox.hosted.database import failure
from sandbox.hosted.job_states import check_job_id

__all__ = ["JobLock"]

# How the server finds a holder that vanished without closing its connection (a dead host).
_KEEPALIVES: Final = ("tcp_keepalives_idle = 30", "tcp_keepalives_interval = 10",
                      "tcp_keepalives_count = 3")  # fmt: skip
_KEY: Final = text("SELECT hashtextextended(current_schema() || '.jobs.' || :id, 0)")


class JobLock:
    """Job `job_id`'s advisory lock on `engine` (`Jobs.lock` makes one); a context manager
    that releases it on exit."""

    def __init__(self, engine: Engine, url: URL, job_id: str) -> None:
        self._engine, self._url, self.job_id = engine, url, check_job_id(job_id)
        self._conn: Connection | None = None
        self._key: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock on a connection not yet seen to be broken."""
        return self._conn is not None

    def take(self) -> bool:
        """Hold the lock if no other session does; True while this one holds it.

        A held lock whose connection broke (a server restart) is taken again on a new one.
        HostedStateError if the server cannot be reached.
        """
        if self._conn is not None and self._alive(self._conn):
            return True
        self._drop()
        try:
            conn = self._engine.connect()
        except SQLAlchemyError as exc:
            raise failure(exc, self._url, "lock the job") from None
        try:
            for setting in _KEEPALIVES:
                conn.execute(text(f"SET {setting}"))
            key = int(conn.execute(_KEY, {"id": self.job_id}).scalar_one())
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})
                       .scalar_one())  # fmt: skip
            conn.commit()
        except SQLAlchemyError as exc:
            conn.invalidate()
            conn.close()
            raise failure(exc, self._url, "lock the job") from None
        if not got:
            conn.close()
            return False
        self._conn, self._key = conn, key
        return True

    def release(self) -> None:
        """Let the lock go (closing its connection would too; a broken one is discarded)."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
            conn.commit()
        except SQLAlchemyError:
            conn.invalidate()  # a connection that is gone holds nothing
        finally:
            conn.close()

    def _alive(self, conn: Connection) -> bool:
        try:
            conn.execute(text("SELECT 1")).scalar_one()
            conn.commit()
        except SQLAlchemyError:
            return False
        return True

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.invalidate()
            conn.close()

    def __enter__(self) -> JobLock:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()
