"""What a submission to the hosted API costs, against receiving its archive alone.

    python benchmarks/bench_hosted_submit.py [--rounds 7] [--rows 100000] [--seed 7]

Needs the PostgreSQL server of `scripts/postgres.sh`. It packs one pilot (the tests' binary
pilot with `--rows` generated rows), makes a schema of its own with one organisation and a
data-team token, and then, round after round, in a seeded random order:

- `receive`: `receive_archive` on the archive's 64 KiB pieces, into a scratch store;
- `submit`: POST /api/v1/submissions through the app in-process (body streamed in the same
  pieces): the archive checked while it streams, unpacked, the manifest and data read, the
  pre-run policies, the job created, a signed `job.submitted` record appended, and the job
  handed to an `enqueue` that drops it.

It prints each one's median and the ratio of the medians. The schemas are dropped at the end.
"""

from __future__ import annotations

import argparse
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import psycopg
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.api.hosted import create_hosted_app
from sandbox.hosted.accounts import Accounts
from sandbox.hosted.intake import ArchiveStore, receive_archive
from sandbox.hosted.migrate import migrate
from sandbox.hosted.packing import pack_pilot
from sandbox.settings import Settings
from tests.pilots import make_frame, manifest_dict, write_pilot

PIECE = 64 * 1024


def _server() -> str:
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "postgres.sh")], capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()[-1]


def _schema(server: str, made: list[str]) -> str:
    name = f"bench_{secrets.token_hex(6)}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}".encode())
    made.append(name)
    return f"{server}?options={quote(f'-csearch_path={name}', safe='')}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    server, made = _server(), []
    work = Path(tempfile.mkdtemp(prefix="bench-submit-"))
    try:
        manifest = manifest_dict()
        manifest["pilot"]["owner"]["city"] = "Northtown"
        pilot = write_pilot(work / "pilot", manifest=manifest, frame=make_frame(args.rows))
        body = pack_pilot(pilot).data
        pieces = [body[i : i + PIECE] for i in range(0, len(body), PIECE)]
        url = _schema(server, made)
        migrate(url)
        with Accounts(url) as accounts:
            accounts.create_organisation("northtown", "Northtown")
            accounts.create_principal("nt-data", "northtown", "CI", roles=["data_team"])
            token = accounts.issue_token("nt-data", expires_in=timedelta(days=1)).token
        settings = Settings(
            home=work / "home", hosted_url=url, trail_url=_schema(server, made), tenant=None
        )
        app = create_hosted_app(settings, enqueue=lambda job, _: None, migrate_on_start=False)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/gzip"}
        scratch = ArchiveStore(work / "scratch")

        def receive() -> None:
            receive_archive(iter(pieces), scratch)

        def submit() -> None:
            answer = client.post("/api/v1/submissions", content=iter(pieces), headers=headers)
            assert answer.status_code == 202, answer.text

        times: dict[str, list[float]] = {"receive": [], "submit": []}
        rng = random.Random(args.seed)
        with TestClient(app) as client:
            submit()  # warm up: imports, connections, the trail's first record
            for _round in range(args.rounds):
                order = list(times)
                rng.shuffle(order)
                for name in order:
                    started = time.perf_counter()
                    (receive if name == "receive" else submit)()
                    times[name].append(time.perf_counter() - started)
        medians = {name: statistics.median(found) for name, found in times.items()}
        print(
            f"archive: {len(body) / 1e6:.1f} MB compressed, {args.rows} rows, {args.rounds} rounds"
        )
        for name, median in medians.items():
            print(f"{name:8} median {median * 1000:8.1f} ms")
        print(f"submit / receive: {medians['submit'] / medians['receive']:.1f}")
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            for name in made:
                conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE".encode())
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
