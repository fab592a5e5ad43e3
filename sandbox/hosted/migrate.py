"""Bring a database up to the hosted state's tables, safely from any number of processes.

`migrate(url)` is called at every start-up of a server or a worker. It runs in one
transaction that first takes a transaction-level advisory lock keyed by the schema, so
processes starting together queue: the first creates or upgrades the tables, the others find
them current and do nothing. PostgreSQL's DDL is transactional, so a start-up cut short
leaves the tables as they were. The revision is kept in `hosted_schema_version`, not Alembic's
default `alembic_version`, which MLflow's own tables use when they share the schema. A
database at a revision this sandbox does not know (a newer sandbox migrated it) is refused.

Alembic is imported here only: handling requests needs SQLAlchemy alone.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Final

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from sandbox.errors import HostedStateError
from sandbox.hosted.database import SETTING, check_url, failure, open_engine, redact

__all__ = ["VERSION_TABLE", "head_revision", "migrate"]

VERSION_TABLE: Final = "hosted_schema_version"
_MIGRATIONS: Final = Path(__file__).with_name("migrations")
# Alembic's `op` and `context` are module-wide proxies: one migration per process at a time.
_IN_PROCESS: Final = threading.Lock()


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head_revision() -> str:
    """The newest revision this sandbox knows."""
    head = _scripts().get_current_head()
    assert head is not None, "sandbox/hosted/migrations/versions holds no revision"
    return head


def _upgrade(conn: Connection, location: str) -> str:
    scripts = _scripts()
    found = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    known = {script.revision for script in scripts.walk_revisions()}
    unknown = sorted(set(found.get_current_heads()) - known)
    if unknown:
        raise HostedStateError(
            f"{location}: the hosted tables are at revision {', '.join(unknown)}, which this "
            f"sandbox does not know (its newest is {head_revision()}): a newer sandbox migrated "
            "them; upgrade this one before starting it"
        )
    with EnvironmentContext(
        _config(),
        scripts,
        # What `alembic upgrade head` runs, without an env.py: the steps from `rev` to head.
        fn=lambda rev, _context: scripts._upgrade_revs("head", rev),
        destination_rev="head",
    ) as env:
        env.configure(connection=conn, version_table=VERSION_TABLE, transactional_ddl=True)
        env.run_migrations()
    return head_revision()


def migrate(url: str, *, setting: str = SETTING) -> str:
    """Create or upgrade the hosted tables in the URL's current schema; returns the revision.

    Idempotent, and safe when many processes call it at once.
    """
    checked = check_url(url, setting=setting)
    location = redact(checked)
    engine = open_engine(checked, pooled=False)
    try:
        with _IN_PROCESS, engine.connect() as conn, conn.begin():
            schema = conn.execute(text("SELECT current_schema()")).scalar()
            if schema is None:
                raise HostedStateError(
                    f"{location}: no schema to create the hosted tables in (the search_path "
                    "names none that exists); create it, or fix `options=-csearch_path` in "
                    f"{setting}"
                )
            # Held until the transaction ends: concurrent start-ups run one after the other.
            conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                {"key": f"{schema}.{VERSION_TABLE}"},
            )
            return _upgrade(conn, location)
    except SQLAlchemyError as exc:
        raise failure(exc, checked, "migrate the hosted tables") from None
    finally:
        engine.dispose()
