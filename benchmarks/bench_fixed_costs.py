"""Fixed costs: what a user waits for before any data is large, timed as whole processes.

- `sandbox --help`: starting the command line (goal: 0.15 s or less), as a user's second
  `--help` prints the page the first one kept (`sandbox/help_cache.py`), and, interleaved,
  rendered each time (`SANDBOX_HELP_CACHE=false`);
- a predictions-only audit of 1,000 rows, `sandbox audit evaluate ... --sensitive sex,race`,
  with its reports, PDF, MLflow run and trail record (goal: 1 s or less), with the shared
  tracking sidecar warm (MLflow loaded by an earlier command, as for a data team's second
  command), interleaved with a sidecar per command (`SANDBOX_TRACKING_SIDECAR_IDLE_S=0`,
  every command loads MLflow) and with the command server (`SANDBOX_COMMAND_SERVER=true`:
  each command a fork of a process with the libraries loaded, once an earlier command has
  started it);
- the governed run of the reference blueprint minus the same model fitted bare on the host,
  from `bench_overhead.py` (goal: half of the 4.6 s it cost when the goal was set; needs Docker).

Each command runs as a new process, as a user starts it, against a temporary sandbox home; the
first audit (which creates the MLflow store and keeps the compiled report templates) is a
warm-up and not counted. Besides wall time it reports each process's CPU time (user + system),
which other work on a shared machine disturbs far less (a sidecar's is not counted: it is not
the command's child). It also lists the heavy libraries
`sandbox --help` loads (there should be none).

    python benchmarks/bench_fixed_costs.py                 # 7 repetitions, governed run too
    python benchmarks/bench_fixed_costs.py --repeat 3 --no-governed
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_overhead import listening, with_command_server

HELP_GOAL_S = 0.15
AUDIT_GOAL_S = 1.0
GOVERNED_BEFORE_S = 4.6  # the governed run's fixed cost when the goal was set
HEAVY = ("pandas", "numpy", "scipy", "sklearn", "mlflow", "docker", "fastapi", "pydantic")


def _sandbox() -> list[str]:
    """The installed `sandbox` command beside this interpreter, else `python -m sandbox`."""
    script = Path(sys.executable).with_name("sandbox")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "sandbox"]


def write_predictions(path: Path, rows: int = 1000, seed: int = 7) -> Path:
    """A predictions file: sex, race, true label y, prediction p (80 % right)."""
    rng = random.Random(seed)
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["sex", "race", "y", "p"])
        for _ in range(rows):
            y = int(rng.random() < 0.4)
            p = y if rng.random() < 0.8 else 1 - y
            sex = rng.choice(["F", "M"])
            race = rng.choices(["A", "B", "C", "D"], weights=[5, 2, 2, 1])[0]
            out.writerow([sex, race, y, p])
    return path


def _cpu_of_children() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _timed(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one process; raises if it fails (3, a fail verdict, is a result)."""
    cpu = _cpu_of_children()
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 3):
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr[-2000:]!r}")
    return elapsed, _cpu_of_children() - cpu


def help_imports(env: dict[str, str]) -> list[str]:
    """The heavy top-level packages `sandbox --help` imports (none, when it is lazy)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "sandbox", "--help"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    loaded = {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines()}
    return sorted(loaded.intersection(HEAVY))


@dataclass(frozen=True)
class FixedCosts:
    """Medians and minimums in seconds; the governed run's fixed cost when it was measured."""

    help_s: float
    help_min_s: float
    audit_s: float
    audit_min_s: float
    help_heavy_imports: list[str]
    governed_fixed_s: float | None = None
    help_cpu_s: float | None = None  # median CPU seconds (user + system) of the process
    help_rendered_s: float | None = None  # median with the page rendered each time
    audit_cpu_s: float | None = None
    audit_per_command_s: float | None = None  # median with a sidecar per command
    audit_served_s: float | None = None  # median through the command server
    audit_served_min_s: float | None = None


def run(repeat: int = 7, governed: bool = True) -> FixedCosts:
    """Time each whole process `repeat` times (interleaved); medians and minimums in seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = write_predictions(folder / "p1k.csv")
        env = {
            **os.environ,
            "SANDBOX_HOME": str(folder / "home"),
            "XDG_CACHE_HOME": str(folder / "cache"),
            "COLUMNS": "100",
        }
        # As a user starts it: Python keeps the project's compiled bytecode between runs
        # (a development shell may have turned that off).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        help_cmd = [*_sandbox(), "--help"]
        audit_cmd = [
            *_sandbox(),
            *("audit", "evaluate", "--data", str(data), "--label", "y", "--prediction", "p"),
            *("--sensitive", "sex,race"),
        ]
        per_command = {**env, "SANDBOX_TRACKING_SIDECAR_IDLE_S": "0"}
        served_env = with_command_server(env, folder / "run")
        _timed(audit_cmd, env, folder)  # warm-up: creates the MLflow store, fills the cache
        _timed(help_cmd, env, folder)
        _timed(audit_cmd, served_env, folder)  # starts the command server
        server = listening(served_env, folder)
        helps: list[tuple[float, float]] = []
        rendered: list[float] = []
        audits: list[tuple[float, float]] = []
        cold: list[float] = []
        served: list[float] = []
        for _ in range(repeat):
            helps.append(_timed(help_cmd, env, folder))
            rendered.append(_timed(help_cmd, {**env, "SANDBOX_HELP_CACHE": "false"}, folder)[0])
            audits.append(_timed(audit_cmd, env, folder))
            cold.append(_timed(audit_cmd, per_command, folder)[0])
            served.append(_timed(audit_cmd, served_env, folder)[0])
        heavy = help_imports(env)
        subprocess.run(["pkill", "-f", f"command_server.server --listen {server}"], check=False)
        shutil.rmtree(folder / "home", ignore_errors=True)
    fixed = None
    if governed:
        import bench_overhead

        overhead = bench_overhead.run()
        fixed = float(str(overhead["governed_s"])) - float(str(overhead["bare_s"]))
    return FixedCosts(
        help_s=statistics.median(wall for wall, _ in helps),
        help_min_s=min(wall for wall, _ in helps),
        audit_s=statistics.median(wall for wall, _ in audits),
        audit_min_s=min(wall for wall, _ in audits),
        help_heavy_imports=heavy,
        governed_fixed_s=fixed,
        help_cpu_s=statistics.median(cpu for _, cpu in helps),
        help_rendered_s=statistics.median(rendered),
        audit_cpu_s=statistics.median(cpu for _, cpu in audits),
        audit_per_command_s=statistics.median(cold),
        audit_served_s=statistics.median(served),
        audit_served_min_s=min(served),
    )


def _line(name: str, seconds: float, goal: float) -> str:
    mark = "met" if seconds <= goal else "not met"
    return (
        f"{name:<34} {seconds:7.3f} s  goal <= {goal:.2f} s  ({seconds / goal:4.2f}x goal, {mark})"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="repetitions of each process")
    parser.add_argument(
        "--no-governed", action="store_true", help="skip the governed run (needs Docker)"
    )
    args = parser.parse_args(argv)
    result = run(repeat=args.repeat, governed=not args.no_governed)
    print(_line("sandbox --help (median)", result.help_s, HELP_GOAL_S))
    print(f"{'  fastest':<34} {result.help_min_s:7.3f} s")
    print(f"{'  CPU time (median)':<34} {result.help_cpu_s:7.3f} s")
    if result.help_rendered_s is not None:
        print(f"{'  rendered each time (median)':<34} {result.help_rendered_s:7.3f} s")
    print(f"{'  heavy libraries it loads':<34} {', '.join(result.help_heavy_imports) or 'none'}")
    print(_line("audit of 1,000 rows (median)", result.audit_s, AUDIT_GOAL_S))
    print(f"{'  fastest':<34} {result.audit_min_s:7.3f} s")
    print(f"{'  CPU time (median)':<34} {result.audit_cpu_s:7.3f} s")
    if result.audit_per_command_s is not None:
        per_command = result.audit_per_command_s
        print(f"{'  with a sidecar per command':<34} {per_command:7.3f} s (median)")
        print(f"{'  shared warm / per command':<34} {result.audit_s / per_command:7.2f}x")
    if result.audit_served_s is not None and result.audit_served_min_s is not None:
        print(_line("audit, command server (median)", result.audit_served_s, AUDIT_GOAL_S))
        print(f"{'  fastest':<34} {result.audit_served_min_s:7.3f} s")
        ratio = result.audit_served_s / result.audit_s
        print(f"{'  served / shared warm sidecar':<34} {ratio:7.2f}x")
    if result.governed_fixed_s is not None:
        fixed = result.governed_fixed_s
        print(_line("governed run minus bare", fixed, GOVERNED_BEFORE_S / 2))
        print(f"{'  vs 4.6 s when the goal was set':<34} {GOVERNED_BEFORE_S / fixed:7.2f}x less")


if __name__ == "__main__":
    main()
