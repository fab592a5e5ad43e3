"""Predictions-only audit: the whole `sandbox audit evaluate` process against its peers.

One synthetic file of predictions (race x sex, a 0/1 label and prediction, a score) is
written as CSV and as Parquet into a temporary folder for each size; then, on the same file,
each of these runs as its own process, timed from start to exit with its peak memory
(the child's own `ru_maxrss`):

- `sandbox audit evaluate` (report files, MLflow run and signed trail records included), in a
  home whose shared tracking sidecar a first, 1,000-row audit has started (as any command
  after a user's first finds it);
- polars: a lazy scan and group-by of the confusion counts (race, sex, label, prediction);
- DuckDB: the same counts as one SQL query;
- aequitas: `Group().get_crosstabs` on the file read with pandas;
- fairlearn: `MetricFrame` (six rates and the count, by race and sex), at 1M rows or fewer.

The peers live in the benchmark's own environment, never in the project's:

    python -m venv benchmarks/.venv-peers
    benchmarks/.venv-peers/bin/pip install -r benchmarks/peers-requirements.txt

A peer whose package is missing there is skipped with a message.

    .venv/bin/python benchmarks/bench_audit.py                    # 1M and 10M rows
    .venv/bin/python benchmarks/bench_audit.py --rows 50000000 --formats csv --no-peers
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SANDBOX = Path(sys.executable).parent / "sandbox"
PEERS_PYTHON = ROOT / "benchmarks" / ".venv-peers" / "bin" / "python"
FAIRLEARN_MAX_ROWS = 1_000_000

RACES = np.array(["White", "Black", "Hispanic", "Asian", "Other"])
SEXES = np.array(["Female", "Male"])

POLARS = """
import sys, polars as pl
path, fmt = sys.argv[1], sys.argv[2]
frame = pl.scan_csv(path) if fmt == "csv" else pl.scan_parquet(path)
counts = frame.group_by("race", "sex", "label", "prediction").agg(pl.len()).collect()
print(counts.height)
"""
DUCKDB = """
import sys, duckdb
path, fmt = sys.argv[1], sys.argv[2]
source = f"read_csv('{path}')" if fmt == "csv" else f"read_parquet('{path}')"
rows = duckdb.sql(
    f"SELECT race, sex, label, prediction, count(*) FROM {source} GROUP BY ALL"
).fetchall()
print(len(rows))
"""
AEQUITAS = """
import sys, pandas as pd
from aequitas.group import Group
path, fmt = sys.argv[1], sys.argv[2]
cols = ["race", "sex", "label", "prediction"]
frame = pd.read_csv(path, usecols=cols) if fmt == "csv" else pd.read_parquet(path, columns=cols)
frame = frame.rename(columns={"label": "label_value", "prediction": "score"})
crosstabs, _ = Group().get_crosstabs(frame.astype({"race": str, "sex": str}))
print(len(crosstabs))
"""
FAIRLEARN = """
import sys, pandas as pd
from fairlearn.metrics import (MetricFrame, count, false_negative_rate, false_positive_rate,
                               selection_rate, true_positive_rate)
from sklearn.metrics import accuracy_score, precision_score
path, fmt = sys.argv[1], sys.argv[2]
frame = pd.read_csv(path) if fmt == "csv" else pd.read_parquet(path)
metrics = {"selection_rate": selection_rate, "tpr": true_positive_rate,
           "fpr": false_positive_rate, "fnr": false_negative_rate,
           "precision": precision_score, "accuracy": accuracy_score, "count": count}
mf = MetricFrame(metrics=metrics, y_true=frame["label"], y_pred=frame["prediction"],
                 sensitive_features=frame[["race", "sex"]])
print(len(mf.by_group), mf.difference().shape)
"""
PEERS = {
    "polars": ("polars", POLARS),
    "duckdb": ("duckdb", DUCKDB),
    "aequitas": ("aequitas", AEQUITAS),
    "fairlearn": ("fairlearn", FAIRLEARN),
}


@dataclass(frozen=True)
class Timed:
    """One whole process: wall seconds, peak resident memory in GB, exit status."""

    seconds: float
    peak_gb: float
    status: int


#: Runs the measured command as its child and prints its wall seconds, peak memory and exit
#: status as JSON. Linux starts a process's peak memory (`ru_maxrss`) from its parent's at the
#: moment it replaces the parent's memory image, so a command forked straight from this
#: benchmark (which holds the generated rows) would inherit its peak. Forked from this small
#: launcher instead, the command's figure is its own.
LAUNCHER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
errors = child.stderr.read().decode(errors="replace")
_, status, usage = os.wait4(child.pid, 0)
seconds = time.perf_counter() - start
code = os.waitstatus_to_exitcode(status)
print(json.dumps({"seconds": seconds, "peak_kb": usage.ru_maxrss, "status": code,
                  "errors": errors[-400:]}))
"""


def timed(command: list[str], env: dict[str, str] | None = None) -> Timed:
    """Run `command` to its end; its own wall time and peak memory (see LAUNCHER)."""
    launched = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *command],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        close_fds=True,
    )
    result = json.loads(launched.stdout)
    code = result["status"]
    if code not in (0, 3):  # 3: the audit finished with a fail verdict
        print(f"    {command[0]} exited with {code}: {result['errors'].strip()}")
    return Timed(result["seconds"], result["peak_kb"] / 1024**2, code)


def warm(path: Path, block: int = 64 * 1024**2) -> None:
    """Read `path` into the page cache, a block at a time (holding none of it)."""
    with path.open("rb") as handle:
        while handle.read(block):
            pass


def write_files(rows: int, folder: Path, formats: list[str], seed: int = 0) -> dict[str, Path]:
    """The synthetic predictions (30 % positives, 80 % accurate) as CSV and/or Parquet."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    label = (rng.random(rows) < 0.3).astype(np.int8)
    score = np.clip(0.35 * label + 0.65 * rng.random(rows), 0.0, 1.0).round(6)
    table = pa.table(
        {
            "race": pa.DictionaryArray.from_arrays(
                rng.choice(5, rows, p=[0.5, 0.2, 0.15, 0.1, 0.05]).astype(np.int8), RACES
            ),
            "sex": pa.DictionaryArray.from_arrays(rng.integers(0, 2, rows, np.int8), SEXES),
            "label": label,
            "prediction": (score > 0.5).astype(np.int8),
            "score": score,
        }
    )
    paths = {}
    if "csv" in formats:
        paths["csv"] = folder / f"predictions-{rows}.csv"
        plain = table.set_column(0, "race", table["race"].cast(pa.string()))
        plain = plain.set_column(1, "sex", plain["sex"].cast(pa.string()))
        options = pcsv.WriteOptions(quoting_style="none")
        pcsv.write_csv(plain, paths["csv"], write_options=options)
    if "parquet" in formats:
        paths["parquet"] = folder / f"predictions-{rows}.parquet"
        pq.write_table(table, paths["parquet"])
    return paths


def installed(module: str) -> bool:
    """Whether the peers' environment has `module`."""
    if not PEERS_PYTHON.exists():
        return False
    check = [str(PEERS_PYTHON), "-c", f"import {module}"]
    return subprocess.run(check, capture_output=True, check=False).returncode == 0


def audit_command(path: Path, score: bool) -> list[str]:
    """`sandbox audit evaluate` of the race x sex predictions in `path`."""
    command = [str(SANDBOX), "audit", "evaluate", "--data", str(path), "--label", "label"]
    command += ["--prediction", "prediction", "--sensitive", "race,sex"]
    return command + (["--score", "score"] if score else [])


def measure(
    path: Path, fmt: str, rows: int, *, home: Path, peers: list[str], score: bool
) -> dict[str, Timed]:
    """The audit and each peer on one file, in that order (the page cache warmed first)."""
    warm(path)  # every process then reads the file from memory, as a repeat would
    env = {**os.environ, "SANDBOX_HOME": str(home)}
    results = {"sandbox": timed(audit_command(path, score), env)}
    for name in peers:
        if name == "fairlearn" and rows > FAIRLEARN_MAX_ROWS:
            continue
        script = PEERS[name][1]
        results[name] = timed([str(PEERS_PYTHON), "-c", script, str(path), fmt])
    return results


def available_peers(wanted: list[str]) -> list[str]:
    """The wanted peers installed in the peers' environment; a message for each one missing."""
    found = []
    for name in wanted:
        if installed(PEERS[name][0]):
            found.append(name)
        else:
            print(
                f"  (skipping {name}: not installed in {PEERS_PYTHON.parent.parent}; "
                "see benchmarks/README.md)"
            )
    return found


def report(rows: int, fmt: str, results: dict[str, Timed]) -> None:
    """One block of the printed table: each process, and the sandbox's ratio to it."""
    mine = results["sandbox"]
    print(f"  {rows:>11,} rows, {fmt}:")
    for name, result in results.items():
        ratio = (
            ""
            if name == "sandbox"
            else f"   sandbox / {name}: {mine.seconds / result.seconds:5.2f}x"
        )
        failed = "" if result.status in (0, 3) else f"  (exit {result.status})"
        print(f"    {name:<10} {result.seconds:7.2f} s  {result.peak_gb:5.2f} GB{ratio}{failed}")


def start_sidecar(folder: Path, home: Path) -> None:
    """Audit 1,000 rows first: a new home's first command starts the shared tracking sidecar,
    which every later command finds running, as a user's second command does."""
    path = write_files(1_000, folder, ["csv"], seed=1)["csv"]
    first = timed(audit_command(path, False), {**os.environ, "SANDBOX_HOME": str(home)})
    print(f"  (a new home's first audit, 1,000 rows, starts the sidecar: {first.seconds:.2f} s)")
    path.unlink()


def run(
    rows: list[int],
    formats: list[str],
    *,
    peers: list[str] | None = None,
    score: bool = False,
    repeat: int = 1,
) -> dict[tuple[int, str], dict[str, Timed]]:
    """Every size and format; the fastest of `repeat` runs of each process."""
    chosen = available_peers(list(PEERS) if peers is None else peers)
    out: dict[tuple[int, str], dict[str, Timed]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        folder = Path(tmp)
        home = folder / "home"
        start_sidecar(folder, home)
        for size in rows:
            started = time.perf_counter()
            paths = write_files(size, folder, formats)
            print(f"  (wrote {size:,} rows in {time.perf_counter() - started:.1f} s)")
            for fmt, path in paths.items():
                best: dict[str, Timed] = {}
                for _ in range(repeat):
                    for name, result in measure(
                        path, fmt, size, home=home, peers=chosen, score=score
                    ).items():
                        if name not in best or result.seconds < best[name].seconds:
                            best[name] = result
                report(size, fmt, best)
                out[(size, fmt)] = best
                path.unlink()
    return out


def main(argv: list[str] | None = None) -> Any:
    """Command line: sizes, formats, peers, score column, repetitions."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--formats", default="csv,parquet")
    parser.add_argument("--peers", default=",".join(PEERS), help="comma-separated")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--score", action="store_true", help="audit the score (ROC AUC) too")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    peers = [] if args.no_peers else [p for p in args.peers.split(",") if p]
    return run(
        args.rows, args.formats.split(","), peers=peers, score=args.score, repeat=args.repeat
    )


if __name__ == "__main__":
    main()
