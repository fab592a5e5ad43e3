"""Concurrent runs: N governed `sandbox run` processes started at once against one sandbox home.

Every run must succeed, the shared trail must verify afterwards, and the throughput (runs per
minute) is compared with the same runs one after the other. The pilot is the "Ask the City"
blueprint (900 questions answered in the container, assessed offline): a whole run with a
container, reports, MLflow and the signed trail, small enough to repeat.

    python benchmarks/bench_concurrency.py [--runs 4]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PILOT = ROOT / "blueprints" / "ask-the-city"
SANDBOX = Path(sys.executable).parent / "sandbox"


def _start(home: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SANDBOX_HOME": str(home)}
    env.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.Popen(
        [str(SANDBOX), "run", str(PILOT)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _batch(home: Path, runs: int, *, together: bool) -> tuple[float, list[int]]:
    """Seconds for `runs` runs, all at once or one after the other; their exit codes."""
    started = time.perf_counter()
    if together:
        codes = [p.wait() for p in [_start(home) for _ in range(runs)]]
    else:
        codes = [_start(home).wait() for _ in range(runs)]
    return time.perf_counter() - started, codes


def _verifies(home: Path) -> bool:
    env = {**os.environ, "SANDBOX_HOME": str(home)}
    done = subprocess.run(
        [str(SANDBOX), "audit", "verify"], env=env, capture_output=True, check=False
    )
    return done.returncode == 0


def run(runs: int = 4) -> dict[str, float | bool]:
    """Throughput of `runs` concurrent runs against the same runs in sequence."""
    with tempfile.TemporaryDirectory(prefix="bench-concurrency-") as tmp:
        home = Path(tmp) / "home"
        _batch(home, 1, together=False)  # warm: MLflow's database, the signing key
        sequential, seq_codes = _batch(home, runs, together=False)
        concurrent, con_codes = _batch(home, runs, together=True)
        ok_codes = {0, 3}  # the blueprint's verdict is fail by design (exit 3): it ran to the end
        return {
            "runs": runs,
            "sequential_s": sequential,
            "concurrent_s": concurrent,
            "speed_up": sequential / concurrent,
            "all_completed": all(c in ok_codes for c in [*seq_codes, *con_codes]),
            "trail_verifies": _verifies(home),
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4)
    args = parser.parse_args(argv)
    result = run(args.runs)
    print(f"{result['runs']} runs one after the other: {result['sequential_s']:.1f} s")
    print(f"{result['runs']} runs started at once:    {result['concurrent_s']:.1f} s")
    print(f"throughput at once vs in sequence: {result['speed_up']:.2f}x")
    print(f"every run completed: {result['all_completed']}; trail verifies: "
          f"{result['trail_verifies']}")  # fmt: skip


if __name__ == "__main__":
    main()
