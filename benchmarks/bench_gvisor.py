"""gVisor's cost: the same hardened containers and governed runs under runc and under runsc.

Two measurements, their repetitions interleaved (runc, runsc, runsc, runc, ...) so that load
from other work on the machine falls on both alike; the ratio of the medians is reported:

- a hardened `docker run` of the runner image (no network, read-only root, no capabilities,
  no new privileges, nobody, 1 CPU, 1 GiB, 256 processes, capped /tmp) that imports
  scikit-learn, timed as a whole process: what a pilot's container pays before any work;
- a governed run of the reference blueprint (`run_pilot`, MLflow on SQLite, the signed trail)
  with SANDBOX_RUNTIME unset and =runsc: the whole run, and the pilot's command inside the
  container once it runs (gVisor's start-up and tear-down are in the whole run only).

The fastest repetition is shown too: on a machine shared with other work it is the closest to
the cost on an idle one.

One warm-up of each is not counted (page cache, MLflow store). Needs the engine, the runner
image and runsc registered (`sudo bash scripts/gvisor.sh`).

    .venv/bin/python benchmarks/bench_gvisor.py                # 5 repetitions of each
    .venv/bin/python benchmarks/bench_gvisor.py --repeat 3 --no-governed
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BLUEPRINT = ROOT / "blueprints" / "benefits-eligibility-screening"
RUNTIMES = ("runc", "runsc")
HARDENED = (
    "--network=none",
    "--read-only",
    "--cap-drop=ALL",
    "--security-opt=no-new-privileges:true",
    "--user=65534:65534",
    "--cpus=1",
    "--memory=1g",
    "--memory-swap=1g",
    "--pids-limit=256",
    "--tmpfs=/tmp:rw,noexec,nosuid,nodev,size=64m",
)


def _image() -> str:
    from sandbox.runs.services import runner_image
    from sandbox.settings import Settings

    return runner_image(Settings())


def import_sklearn(runtime: str, image: str) -> float:
    """Seconds for a hardened `docker run --runtime=RUNTIME` that imports scikit-learn."""
    command = ["docker", "run", "--rm", f"--runtime={runtime}", *HARDENED, image]
    started = time.perf_counter()
    subprocess.run([*command, "python3", "-c", "import sklearn"], check=True)
    return time.perf_counter() - started


def governed(runtime: str, image: str, workdir: Path) -> tuple[float, float]:
    """Seconds for one governed run of the blueprint, and for the pilot's command in it."""
    from sandbox.runs.pilot_run import run_pilot
    from sandbox.runs.services import build_services
    from sandbox.settings import Settings

    pilot = Path(tempfile.mkdtemp(prefix=f"pilot-{runtime}-", dir=workdir))
    shutil.copytree(BLUEPRINT, pilot, dirs_exist_ok=True)
    backend = "runsc" if runtime == "runsc" else "docker"
    settings = Settings(home=workdir / f"home-{runtime}", image=image, runtime=backend)
    started = time.perf_counter()
    outcome = run_pilot(pilot, build_services(settings))
    total = time.perf_counter() - started
    container = outcome.record.container
    if container is None or container.state != "succeeded":
        raise SystemExit(f"the governed run under {runtime} did not succeed: {container}")
    return total, container.duration_s


def _interleaved(repeat: int) -> list[str]:
    """runc, runsc, runsc, runc, ...: each runtime goes first as often as the other."""
    order: list[str] = []
    for index in range(repeat):
        order += list(RUNTIMES if index % 2 == 0 else reversed(RUNTIMES))
    return order


def run(*, repeat: int = 5, with_governed: bool = True) -> dict[str, dict[str, float]]:
    """Median and fastest seconds per runtime of each measurement, and runsc/runc ratios."""
    image = _image()
    samples: dict[str, dict[str, list[float]]] = {}

    def record(name: str, runtime: str, seconds: float) -> None:
        samples.setdefault(name, {}).setdefault(runtime, []).append(seconds)

    for runtime in RUNTIMES:  # warm-up, not counted
        import_sklearn(runtime, image)
    for runtime in _interleaved(repeat):
        record("import scikit-learn (hardened docker run)", runtime, import_sklearn(runtime, image))
    if with_governed:
        with tempfile.TemporaryDirectory(prefix="bench-gvisor-") as folder:
            workdir = Path(folder)
            for runtime in RUNTIMES:
                governed(runtime, image, workdir)
            for runtime in _interleaved(repeat):
                total, container = governed(runtime, image, workdir)
                record("governed blueprint run", runtime, total)
                record("  the pilot's command in its container", runtime, container)
    results: dict[str, dict[str, float]] = {}
    for name, by_runtime in samples.items():
        medians = {runtime: statistics.median(values) for runtime, values in by_runtime.items()}
        fastest = {f"{runtime} min": min(values) for runtime, values in by_runtime.items()}
        results[name] = {
            **medians,
            **fastest,
            "ratio": medians["runsc"] / medians["runc"],
            "ratio min": fastest["runsc min"] / fastest["runc min"],
        }
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="repetitions of each (default 5)")
    parser.add_argument("--no-governed", action="store_true", help="skip the governed runs")
    args = parser.parse_args(argv)
    results = run(repeat=args.repeat, with_governed=not args.no_governed)
    print(f"{'seconds, median (fastest) of ' + str(args.repeat):<42}", end="")
    print(f"{'runc':>14} {'runsc':>14} {'ratio':>14}")
    for name, row in results.items():
        cells = [f"{row[key]:.2f} ({row[key + ' min']:.2f})" for key in ("runc", "runsc")] + [
            f"{row['ratio']:.2f}x ({row['ratio min']:.2f}x)"
        ]
        print(f"{name:<42}" + "".join(f"{cell:>15}" for cell in cells))


if __name__ == "__main__":
    main()
