"""The PostgreSQL trail's tables, and bringing a database up to them at open.

    trail_schema   one row: the version of these tables the database holds
    trail_head     one row: size and last record's hash; appends lock it (SELECT ... FOR UPDATE)
    trail_records  one row per record: its position and its canonical line, byte for byte as
                   the file store writes it (without the newline), with seq, run id and kind
                   indexed
    trail_nodes    the Merkle tree: every complete subtree's hash, kept as records are appended

Migrations run in one transaction under an advisory lock keyed by the schema, so processes
opening the same trail at once neither race on CREATE nor run a step twice. The tables go
into the connection's current schema (the first on its search_path), so one database can hold
several trails: `?options=-csearch_path%3Dcity_a` in the URL.
"""

from __future__ import annotations

from typing import Final

import psycopg
from psycopg.rows import TupleRow

from sandbox.audit.record import GENESIS_HASH
from sandbox.errors import AuditError

__all__ = ["SCHEMA_VERSION", "migrate"]

_V1: Final = """
CREATE TABLE trail_head (
    id integer PRIMARY KEY CHECK (id = 0),
    size bigint NOT NULL CHECK (size >= 0),
    hash text NOT NULL
);
CREATE TABLE trail_records (
    pos bigint PRIMARY KEY CHECK (pos >= 0),
    line bytea NOT NULL,
    seq bigint,
    run_id text,
    kind text
);
CREATE INDEX trail_records_by_run ON trail_records (run_id, pos);
CREATE INDEX trail_records_by_kind ON trail_records (kind, pos);
CREATE TABLE trail_nodes (
    level integer NOT NULL,
    idx bigint NOT NULL,
    hash bytea NOT NULL,
    PRIMARY KEY (level, idx)
);
"""

#: Each step takes the tables from the version before it to its own (index + 1).
_MIGRATIONS: Final[tuple[str, ...]] = (_V1,)
SCHEMA_VERSION: Final = len(_MIGRATIONS)


def migrate(conn: psycopg.Connection[TupleRow], location: str) -> int:
    """Create or upgrade the trail's tables in the current schema; returns the version."""
    with conn.transaction():
        found = conn.execute("SELECT current_schema()").fetchone()
        schema = found[0] if found is not None else None
        if schema is None:
            raise AuditError(
                f"{location}: no schema to create the trail's tables in (the search_path names "
                "none that exists); create it, or fix `options=-csearch_path` in the URL"
            )
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{schema}.trail_schema",))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS trail_schema ("
            "id integer PRIMARY KEY CHECK (id = 0), version integer NOT NULL)"
        )
        row = conn.execute("SELECT version FROM trail_schema WHERE id = 0").fetchone()
        version = int(row[0]) if row is not None else 0
        if version > SCHEMA_VERSION:
            raise AuditError(
                f"{location}: the trail's tables are at version {version}, newer than this "
                f"sandbox knows ({SCHEMA_VERSION}); upgrade the sandbox before writing to it"
            )
        for step in _MIGRATIONS[version:]:
            conn.execute(step.encode())
        conn.execute(  # the empty trail's head, once
            "INSERT INTO trail_head (id, size, hash) VALUES (0, 0, %s) ON CONFLICT DO NOTHING",
            (GENESIS_HASH,),
        )
        conn.execute(
            "INSERT INTO trail_schema (id, version) VALUES (0, %s) "
            "ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version",
            (SCHEMA_VERSION,),
        )
    return SCHEMA_VERSION
