"""The audit trail's cost per run at a short and at a long history, and their ratio.

    python benchmarks/bench_trail.py [--small 100] [--large 100000] [--runs 30]

A run's trail work is: append its submitted, started and finished records, write a
checkpoint (verifying what was appended since the last one), and find the run's records.
Both trails are built first (signed in a tight loop, then indexed and checkpointed once, as
a long-lived sandbox would have them); then runs alternate between the two trails, each with
a fresh `AuditTrail` as a new `sandbox run` process would open, and the medians are compared.
Exits with status 1 if the long trail's cost per run is 1.5 times the short one's or more.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from sandbox.audit.checkpoint import write_checkpoint
from sandbox.audit.record import GENESIS_HASH, TrailRecord, rfc3339
from sandbox.audit.signing import Signer
from sandbox.audit.trail import AuditTrail

MAX_RATIO = 1.5
_KINDS = ("run.submitted", "run.started", "run.finished")


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _payload(kind: str, run: str) -> dict[str, Any]:
    """About the size of a real run's payloads: a dozen file hashes and a verdict."""
    files = {f"file{i}.csv": _digest(f"{run}/{kind}/{i}") for i in range(12)}
    return {"pilot": "benchmark", "manifest_sha256": _digest(run), "data": files, "verdict": "pass"}


def build_trail(path: Path, size: int, signer: Signer) -> None:
    """Write `size` signed, chained records of size // 3 runs, straight to the file."""
    from datetime import UTC, datetime

    prev, now = GENESIS_HASH, rfc3339(datetime.now(UTC))
    with path.open("wb") as handle:
        for seq in range(size):
            kind, run = _KINDS[seq % 3], f"history-{seq // 3}"
            draft = TrailRecord(
                seq=seq,
                kind=kind,
                time=now,
                actor="bench",
                run_id=run,
                payload=_payload(kind, run),
                prev=prev,
                key_id=signer.key_id,
                sig="",
            )
            line = replace(draft, sig=signer.sign(draft.signed_bytes())).canonical()
            handle.write(line + b"\n")
            prev = "sha256:" + hashlib.sha256(line).hexdigest()


def one_run(folder: Path, signer: Signer, run_id: str) -> float:
    """Seconds for one run's trail work on the trail in `folder`."""
    started = time.perf_counter()
    trail = AuditTrail(folder / "trail.jsonl", signer)
    for kind in _KINDS:
        trail.append(kind, actor="bench", run_id=run_id, payload=_payload(kind, run_id))
    write_checkpoint(trail, signer, folder / "checkpoints", keys=signer.verifier())
    records = trail.records_for_run(run_id)
    elapsed = time.perf_counter() - started
    if [r.kind for r in records] != list(_KINDS):
        raise SystemExit(f"run {run_id}: found {[r.kind for r in records]}, not its 3 records")
    return elapsed


def prepare(folder: Path, size: int, signer: Signer) -> float:
    """Build, index and checkpoint a trail of `size` records; returns the seconds taken."""
    started = time.perf_counter()
    folder.mkdir()
    build_trail(folder / "trail.jsonl", size, signer)
    trail = AuditTrail(folder / "trail.jsonl", signer)
    trail.records_for_run("history-0")  # builds the run index
    write_checkpoint(trail, signer, folder / "checkpoints", keys=signer.verifier())
    return time.perf_counter() - started


def run(*, small: int = 100, large: int = 100_000, runs: int = 30) -> dict[str, float]:
    """Median seconds per run at both sizes, their ratio and the set-up times."""
    signer = Signer.generate()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        setup = {size: prepare(root / f"trail-{size}", size, signer) for size in (small, large)}
        for size in (small, large):  # one warm-up each: imports, page cache, SQLite
            one_run(root / f"trail-{size}", signer, "warm-up")
        times: dict[int, list[float]] = {small: [], large: []}
        for i in range(runs):
            for size in (small, large) if i % 2 else (large, small):
                times[size].append(one_run(root / f"trail-{size}", signer, f"run-{i}"))
    per_run = {size: statistics.median(values) for size, values in times.items()}
    return {
        "small_records": small,
        "large_records": large,
        "small_s": per_run[small],
        "large_s": per_run[large],
        "ratio": per_run[large] / per_run[small],
        "setup_small_s": setup[small],
        "setup_large_s": setup[large],
    }


def main(argv: list[str] | None = None) -> int:
    """Print the cost per run at both sizes and the ratio; 1 if the ratio is too high."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    result = run(small=args.small, large=args.large, runs=args.runs)
    print(f"trail set-up: {result['setup_small_s']:.1f} s and {result['setup_large_s']:.1f} s")
    print(
        "per run (3 appends + checkpoint + the run's records), median of "
        f"{args.runs} runs:\n"
        f"  at {args.small:>9,} prior records: {result['small_s'] * 1000:8.2f} ms\n"
        f"  at {args.large:>9,} prior records: {result['large_s'] * 1000:8.2f} ms\n"
        f"  ratio: {result['ratio']:.2f} (must stay under {MAX_RATIO})"
    )
    return 0 if result["ratio"] < MAX_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
