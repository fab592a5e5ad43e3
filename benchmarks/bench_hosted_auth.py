"""What authenticating a hosted sandbox's token costs, for a valid token and each bad kind.

    python benchmarks/bench_hosted_auth.py [--rounds 400] [--seed 7]

Needs the PostgreSQL server of `scripts/postgres.sh` (its URL is read from the script). It
makes a schema of its own, migrates it, issues tokens, and then, round after round, calls
`authenticate` once with each kind of token in a seeded random order, so every kind meets
the same load. It prints the median and the 90th percentile per kind and each median's ratio
to a wrong secret under a known prefix, and it times `migrate` on a fresh schema and on a
current one (the cost every start-up pays). The schema is dropped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import secrets
import statistics
import subprocess
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import psycopg

from sandbox.errors import AccessDenied
from sandbox.hosted.accounts import Accounts
from sandbox.hosted.migrate import migrate

ROOT = Path(__file__).resolve().parents[1]


def _url() -> str:
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "postgres.sh")], capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()[-1]


def _schema(base: str, name: str) -> str:
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}".encode())
    return f"{base}?options={quote(f'-csearch_path={name}', safe='')}"


def _time(accounts: Accounts, token: str) -> float:
    start = time.perf_counter()
    with contextlib.suppress(AccessDenied):
        accounts.authenticate(token)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    base = _url()
    names = [f"bench_hosted_{secrets.token_hex(4)}" for _ in range(2)]
    try:
        url = _schema(base, names[0])
        start = time.perf_counter()
        migrate(url)
        fresh = time.perf_counter() - start
        current = statistics.median(_timed_migrate(url) for _ in range(5))
        print(f"migrate: fresh schema {fresh * 1000:.0f} ms, current (median of 5) "
              f"{current * 1000:.0f} ms")  # fmt: skip
        with Accounts(url) as accounts:
            tokens = _tokens(accounts)
            accounts.authenticate(tokens["valid"])  # warm the pool and the server's caches
            times: dict[str, list[float]] = {kind: [] for kind in tokens}
            order = list(tokens)
            rng = random.Random(args.seed)
            for _ in range(args.rounds):
                rng.shuffle(order)
                for kind in order:
                    times[kind].append(_time(accounts, tokens[kind]))
        reference = statistics.median(times["wrong secret"])
        print(f"authenticate, {args.rounds} interleaved rounds (ms):")
        for kind, found in times.items():
            median = statistics.median(found)
            p90 = statistics.quantiles(found, n=10)[-1]
            print(f"  {kind:<14} median {median * 1000:6.2f}  p90 {p90 * 1000:6.2f}  "
                  f"ratio to wrong secret {median / reference:.2f}")  # fmt: skip
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            for name in names:
                conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE".encode())


def _timed_migrate(url: str) -> float:
    start = time.perf_counter()
    migrate(url)
    return time.perf_counter() - start


def _tokens(accounts: Accounts) -> dict[str, str]:
    accounts.create_organisation("northtown", "Northtown")
    accounts.create_principal("ana", "northtown", "Ana", roles=["data_team"])
    valid = accounts.issue_token("ana", expires_in=timedelta(days=1))
    expired = accounts.issue_token("ana", expires_in=timedelta(days=1))
    revoked = accounts.issue_token("ana", expires_in=timedelta(days=1))
    accounts.expire_token("northtown", expired.info.id)
    accounts.revoke_token("northtown", revoked.info.id)
    return {
        "valid": valid.token,
        "wrong secret": f"sbx_{valid.info.prefix}_{secrets.token_urlsafe(32)}",
        "expired": expired.token,
        "revoked": revoked.token,
        "unknown": f"sbx_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}",
        "malformed": "sbx_" + "x" * 200,
    }


if __name__ == "__main__":
    main()
