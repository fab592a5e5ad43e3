"""Fixtures for tests against a real PostgreSQL server, started by `scripts/postgres.sh`.

`pg_url` starts the server if none answers (a failure in CI, a skip on a laptop without one);
`new_schema` makes empty schemas, each call a URL whose search_path is a new one, dropped at
the end of the test. Test modules import both fixtures by name.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The sandbox's PostgreSQL URL, the server started (and the role created) if needed."""
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "postgres.sh")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        why = f"no PostgreSQL server (scripts/postgres.sh: {done.stderr.strip()[-400:]})"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI=true but {why}: the PostgreSQL tests must run in CI")
        pytest.skip(why)
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture
def new_schema(pg_url: str) -> Iterator[Callable[..., str]]:
    """Makes empty schemas; each call (with extra URL query options) returns a URL for one."""
    made: list[str] = []

    def make(**query: str) -> str:
        name = f"test_{secrets.token_hex(6)}"
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}".encode())
        made.append(name)
        extra = "".join(f"&{k}={quote(v, safe='')}" for k, v in query.items())
        return f"{pg_url}?options={quote(f'-csearch_path={name}', safe='')}{extra}"

    yield make
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for name in made:
            conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE".encode())
