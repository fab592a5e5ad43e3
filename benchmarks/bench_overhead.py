"""Sandbox overhead: one governed `sandbox run` against the same work done bare on the host.

Bare is the work the container does, without governance: read the CSV, split it as the
manifest says, hold back `model.importance_holdout` of the training rows, fit, predict (label
and probability), permutation importances on the held-back rows (the harness's settings) and
write the predictions to a file. The governed path adds the container wall, a hardened
container, the checks, the fairness evaluation with bootstrap intervals, reports, MLflow
logging and signed trail records. The model code is this file's own (never a pilot's), so
running it on the host is safe.

Each measurement is a child process of its own, so its peak resident memory (`ru_maxrss`)
is that path's host peak; the governed child's peak is the host's side only (the container
runs under the Docker engine). For whole processes the peak is the largest sum, sampled every
0.1 s, over the process and its descendants (a tracking sidecar, the PDF's process). Both
children import their libraries before the clock starts; a first governed run, not reported,
creates the MLflow store. Each repetition also times whole processes from spawn to exit,
interpreter start and imports included: the bare child and `sandbox run` as a user types it
(MLflow then loads in the command's tracking sidecar). Repetitions interleave bare and
governed runs (and, with `--baseline`, governed runs and `sandbox run` of another checkout's
`sandbox`); medians are reported.

    python benchmarks/bench_overhead.py
    python benchmarks/bench_overhead.py --rows 1000000 --repeat 2
    python benchmarks/bench_overhead.py --baseline /path/to/older/checkout   # interleaved
    python benchmarks/bench_overhead.py --rows 1000000 --repeat 3 --served  # + command server

`--rows N` repeats the blueprint's rows (in order, each household id made unique) until there
are N, and gives the container the memory and time that size needs (the sandbox's default
memory cap, `SANDBOX_MEMORY_MB`, is raised to match). Bare uses every core of the
machine, so the governed run's container is given as many (the blueprint asks for 1; the
sandbox's default cap, `SANDBOX_CPUS`, is raised to match).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT))  # after PYTHONPATH, so `--baseline` trees come first

BLUEPRINT = ROOT / "blueprints" / "benefits-eligibility-screening"
CORES = os.cpu_count() or 1
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")

MODEL_SOURCE = """\
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NUMERIC = ["distance_to_office_km", "household_size", "dependents", "monthly_income",
           "monthly_housing_cost", "rent_burden_ratio", "months_at_address",
           "prior_applications", "has_disability_member"]
CATEGORICAL = ["service_district", "employment_status", "housing_tenure"]


def build_model(**params):
    prep = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUMERIC),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                              OneHotEncoder(handle_unknown="ignore")), CATEGORICAL),
    ])
    return make_pipeline(prep, LogisticRegression(**{"max_iter": 1000, **params}))
"""


def _scaled(source: Path, rows: int) -> pd.DataFrame:
    """The blueprint's rows repeated (in order) to `rows`, each household id made unique."""
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    copies = -(-rows // len(frame))
    scaled = pd.concat([frame] * copies, ignore_index=True).iloc[:rows]
    if "household_id" in scaled.columns:
        scaled["household_id"] = [f"HH-{i + 1:08d}" for i in range(len(scaled))]
    return scaled


def _pilot(folder: Path, rows: int | None = None) -> Path:
    """The blueprint's manifest and data (scaled to `rows` when given), with this file's model."""
    manifest = yaml.safe_load((BLUEPRINT / "pilot.yaml").read_text())
    # Bare runs on every core of the machine; so does the container (the blueprint asks for 1).
    manifest.setdefault("resources", {})["cpus"] = CORES
    if rows is not None:  # the container needs room for the larger data
        scale = max(1.0, rows / 40_000)
        resources = manifest.setdefault("resources", {})
        resources["memory_mb"] = max(resources.get("memory_mb", 1024), min(16384, int(256 * scale)))
        resources["timeout_s"] = max(resources.get("timeout_s", 600), 3600)
    folder.mkdir(parents=True)
    (folder / "pilot.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    (folder / "data").mkdir()
    for source in manifest["data"]["sources"]:
        if rows is None:
            (folder / source["path"]).write_bytes((BLUEPRINT / source["path"]).read_bytes())
        else:
            _scaled(BLUEPRINT / source["path"], rows).to_csv(
                folder / source["path"], index=False, lineterminator="\n"
            )
    (folder / "model.py").write_text(MODEL_SOURCE)
    return folder


#: The harness's permutation-importance settings (`sandbox.data.wall` writes them to spec.json).
IMPORTANCE_REPEATS = 5
IMPORTANCE_MAX_ROWS = 5000
IMPORTANCE_SCORING = "balanced_accuracy"  # the binary task's scoring name


def _peak_mb() -> float:
    """This process's peak resident memory in MB (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bare(pilot: Path, out: Path) -> dict[str, float]:
    """Read, split, fit, predict, importances and write, as the harness does, on the host."""
    from sklearn.inspection import permutation_importance
    from sklearn.model_selection import train_test_split

    namespace: dict[str, object] = {}
    exec(compile(MODEL_SOURCE, "bench-model", "exec"), namespace)
    manifest = yaml.safe_load((pilot / "pilot.yaml").read_text())
    data, model_cfg = manifest["data"], manifest["model"]
    seed = int(model_cfg.get("seed", 0))
    holdout = float(model_cfg.get("importance_holdout", 0.2))
    start = time.perf_counter()
    frame = pd.read_csv(pilot / data["sources"][0]["path"])
    x, y = frame[data["features"]], frame[data["label"]]
    x_train, x_eval, y_train, _ = train_test_split(
        x,
        y,
        test_size=data["split"]["evaluation_fraction"],
        random_state=data["split"]["seed"],
        stratify=y,
    )
    fit_x, hold_x, fit_y, hold_y = train_test_split(
        x_train, y_train, test_size=holdout, random_state=seed, stratify=y_train
    )
    model = namespace["build_model"](**model_cfg.get("params", {}))  # type: ignore[operator]
    model.fit(fit_x, fit_y)
    predictions = pd.DataFrame(
        {
            "row_id": x_eval.index.to_numpy(),
            "prediction": model.predict(x_eval),
            "score": model.predict_proba(x_eval)[:, 1],
        }
    )
    predictions.to_csv(out / "predictions.csv", index=False)
    if len(hold_x) > IMPORTANCE_MAX_ROWS:
        hold_x = hold_x.sample(n=IMPORTANCE_MAX_ROWS, random_state=seed)
        hold_y = hold_y.loc[hold_x.index]
    permutation_importance(
        model,
        hold_x,
        hold_y,
        scoring=IMPORTANCE_SCORING,
        n_repeats=IMPORTANCE_REPEATS,
        random_state=seed,
        n_jobs=1,
    )
    return {"seconds": time.perf_counter() - start, "peak_mb": _peak_mb()}


def _memory_mb(pilot: Path) -> int:
    """The sandbox's memory cap (SANDBOX_MEMORY_MB, 2 GB by default) raised to what the pilot
    asks for, as an operator would for data of this size; the CPU cap is raised to CORES."""
    resources = yaml.safe_load((pilot / "pilot.yaml").read_text()).get("resources", {})
    return max(2048, int(resources.get("memory_mb", 0)))


def governed(pilot: Path, home: Path) -> dict[str, object]:
    """A full governed run: seconds, the time of each stage, the verdict, the host peak."""
    import mlflow  # noqa: F401  (imported before the clock, as bare imports scikit-learn)
    import sklearn.model_selection  # noqa: F401

    from sandbox.runs.pilot_run import run_pilot
    from sandbox.runs.services import build_services
    from sandbox.settings import Settings

    stages: dict[str, float] = {}
    started: dict[str, float] = {}

    def progress(stage: str, status: str, detail: str) -> None:
        now = time.perf_counter()
        if status == "start":
            started[stage] = now
        elif status == "done":
            stages[stage] = now - started[stage]

    services = build_services(Settings(home=home, cpus=CORES, memory_mb=_memory_mb(pilot)))
    start = time.perf_counter()
    outcome = run_pilot(pilot, services, progress=progress)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "stages": stages,
        "verdict": outcome.verdict.status,
        "peak_mb": _peak_mb(),
    }


def _child(path: str, pilot: Path, home: Path, tree: Path | None = None) -> dict[str, object]:
    """Run one path in a child process (with `tree`'s sandbox package first, if given)."""
    script = str(Path(__file__).resolve())
    command = [sys.executable, script, "--child", path, "--pilot", str(pilot), "--home", str(home)]
    done = _measured(command, _with_tree(dict(os.environ), tree), cwd=pilot.parent)
    if done.returncode != 0:
        raise RuntimeError(f"the {path} child failed:\n{done.stderr[-4000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_s"] = done.seconds  # spawn to exit: imports and interpreter start included
    result["process_peak_mb"] = done.peak_mb
    return result


def _command_line(
    pilot: Path, home: Path, tree: Path | None = None, runtime: Path | None = None
) -> dict[str, object]:
    """`sandbox run` as a user types it, timed from spawn to exit (the whole process); with
    `runtime`, through the command server whose socket is in that folder."""
    done = _measured(
        [sys.executable, "-m", "sandbox", "run", str(pilot)],
        _command_env(pilot, home, tree, runtime),
        cwd=pilot.parent,
    )
    if done.returncode not in (0, 3):  # 3: a fail or blocked verdict, still a whole run
        raise RuntimeError(f"sandbox run failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return {"process_s": done.seconds, "process_peak_mb": done.peak_mb}


def _command_env(
    pilot: Path, home: Path, tree: Path | None, runtime: Path | None
) -> dict[str, str]:
    env = {
        **os.environ,
        "SANDBOX_HOME": str(home),
        "SANDBOX_CPUS": str(CORES),
        "SANDBOX_MEMORY_MB": str(_memory_mb(pilot)),
    }
    return _with_tree(with_command_server(env, runtime) if runtime else env, tree)


def with_command_server(env: dict[str, str], runtime: Path) -> dict[str, str]:
    """`env` with the command server switched on, its socket in `runtime` (made private)."""
    runtime.mkdir(mode=0o700, exist_ok=True)
    return {**env, "SANDBOX_COMMAND_SERVER": "true", "XDG_RUNTIME_DIR": str(runtime)}


def listening(env: dict[str, str], cwd: Path, within_s: float = 180.0) -> Path:
    """The command server's socket for commands with `env` in `cwd`, once it accepts
    connections."""
    import socket

    code = "from sandbox.command_server.address import socket_path; print(socket_path())"
    found = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True
    )
    path = Path(found.stdout.strip())
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(str(path))
                return path  # the request that never comes is dropped
            except OSError:
                time.sleep(0.2)
    raise RuntimeError(f"the command server never listened on {path}")


def _with_tree(env: dict[str, str], tree: Path | None) -> dict[str, str]:
    """`env` with `tree`'s sandbox package first on the module path (this checkout's if None)."""
    return {**env, "PYTHONPATH": os.pathsep.join([str(tree or ROOT), env.get("PYTHONPATH", "")])}


@dataclass(frozen=True)
class _Finished:
    returncode: int
    stdout: str
    stderr: str
    seconds: float  # spawn to exit
    peak_mb: float  # the largest sum of resident memory over the process and its descendants


def _measured(command: list[str], env: dict[str, str], *, cwd: Path) -> _Finished:
    """Run a command to its end, sampling the resident memory of its process tree (every
    0.1 s: helper processes such as a tracking sidecar count; a container, run by the Docker
    engine, does not)."""
    start = time.perf_counter()
    with subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        peak = [0.0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.1):
                peak[0] = max(peak[0], _tree_rss_mb(process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        stdout, stderr = process.communicate()
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
    return _Finished(process.returncode, stdout, stderr, seconds, peak[0])


def _tree_rss_mb(root: int) -> float:
    """The resident memory of a process and every descendant now, in MB (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                parent = int(Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
            children.setdefault(parent, []).append(int(entry.name))
    pages, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, ()))
        try:
            pages += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return pages * PAGE_BYTES / 1024**2


def _median(results: list[dict[str, object]], key: str) -> float:
    return statistics.median(float(str(r[key])) for r in results)


def run(
    rows: int | None = None, repeat: int = 1, baseline: Path | None = None, served: bool = False
) -> dict[str, object]:
    """Interleave `repeat` bare and governed runs (each a child process); report medians.
    With `served`, `sandbox run` through the command server too."""
    with tempfile.TemporaryDirectory() as tmp:
        pilot = _pilot(Path(tmp) / "pilot", rows)
        home = Path(tmp) / "home"
        runtime = Path(tmp) / "run" if served else None
        _child("governed", pilot, home)  # warm-up: MLflow store creation, page cache
        # An older checkout keeps its own home: its trail and store formats may differ.
        old_home = Path(tmp) / "baseline-home"
        if baseline is not None:
            _child("governed", pilot, old_home, tree=baseline)
        if runtime is not None:
            _command_line(pilot, home, runtime=runtime)  # starts the command server
            server = listening(_command_env(pilot, home, None, runtime), pilot.parent)
        bares, governs, olds, typed, olds_typed, served_runs = [], [], [], [], [], []
        for _ in range(repeat):
            bares.append(_child("bare", pilot, home))
            governs.append(_child("governed", pilot, home))
            typed.append(_command_line(pilot, home))
            if runtime is not None:
                served_runs.append(_command_line(pilot, home, runtime=runtime))
            if baseline is not None:
                olds.append(_child("governed", pilot, old_home, tree=baseline))
                olds_typed.append(_command_line(pilot, old_home, tree=baseline))
        if runtime is not None:
            subprocess.run(["pkill", "-f", f"command_server.server --listen {server}"])
    result: dict[str, object] = {
        "bare_s": _median(bares, "seconds"),
        "bare_peak_mb": _median(bares, "peak_mb"),
        "governed_s": _median(governs, "seconds"),
        "governed_peak_mb": _median(governs, "peak_mb"),
        "bare_process_s": _median(bares, "process_s"),
        "bare_process_peak_mb": _median(bares, "process_peak_mb"),
        "command_line_s": _median(typed, "process_s"),
        "command_line_peak_mb": _median(typed, "process_peak_mb"),
        "stages": {
            name: statistics.median(float(g["stages"][name]) for g in governs)  # type: ignore[index]
            for name in governs[-1]["stages"]  # type: ignore[attr-defined]
        },
        "verdict": governs[-1]["verdict"],
        "pairs": [
            (float(str(b["seconds"])), float(str(g["seconds"])))
            for b, g in zip(bares, governs, strict=True)
        ],
    }
    if served_runs:
        result["served_command_line_s"] = _median(served_runs, "process_s")
        result["served_command_line_peak_mb"] = _median(served_runs, "process_peak_mb")
    if olds:
        result["baseline_s"] = _median(olds, "seconds")
        result["baseline_peak_mb"] = _median(olds, "peak_mb")
        result["baseline_command_line_s"] = _median(olds_typed, "process_s")
        result["baseline_command_line_peak_mb"] = _median(olds_typed, "process_peak_mb")
        result["baseline_stages"] = {
            name: statistics.median(float(o["stages"][name]) for o in olds)  # type: ignore[index]
            for name in olds[-1]["stages"]  # type: ignore[attr-defined]
        }
    return result


def _report(result: dict[str, object], rows: int | None) -> None:
    bare_s, bare_mb = float(str(result["bare_s"])), float(str(result["bare_peak_mb"]))
    print(f"blueprint {'scaled to ' + format(rows, ',') if rows else 'as shipped'} rows")
    print(f"{'bare (read, split, fit, predict, importances, write)':<53}", end="")
    print(f"{bare_s:7.2f} s {bare_mb:7.0f} MB")
    runs = [
        ("governed", "governed_s", "governed_peak_mb"),
        ("baseline", "baseline_s", "baseline_peak_mb"),
    ]
    for name, seconds_key, peak_key in runs:
        if seconds_key not in result:
            continue
        seconds, peak = float(str(result[seconds_key])), float(str(result[peak_key]))
        print(f"{name + ' sandbox run (verdict ' + str(result['verdict']) + ')':<53}", end="")
        print(f"{seconds:7.2f} s {peak:7.0f} MB")
        print(
            f"  {name} / bare: time {seconds / bare_s:5.2f} x, peak memory {peak / bare_mb:5.2f} x,"
            f" fixed cost (governed - bare) {seconds - bare_s:6.2f} s"
        )
    whole_bare = float(str(result["bare_process_s"]))
    bare_tree_mb = float(str(result["bare_process_peak_mb"]))
    print("whole processes, interpreter start and imports included (peak: the process tree):")
    print(f"  {'bare script':<51}{whole_bare:7.2f} s {bare_tree_mb:7.0f} MB")
    typed = (("sandbox run", ""), ("served sandbox run", "served_"), ("baseline run", "baseline_"))
    for name, prefix in typed:
        if f"{prefix}command_line_s" not in result:
            continue
        whole = float(str(result[f"{prefix}command_line_s"]))
        tree_mb = float(str(result[f"{prefix}command_line_peak_mb"]))
        if prefix == "served_":  # the command runs in the server's process tree, not here
            print(f"  {name + ' ' + str(rows or 'blueprint'):<51}{whole:7.2f} s")
            fixed = whole - whole_bare
            print(f"    / bare: time {whole / whole_bare:5.2f} x, fixed cost {fixed:6.2f} s")
            continue
        print(f"  {name + ' ' + str(rows or 'blueprint'):<51}{whole:7.2f} s {tree_mb:7.0f} MB")
        print(
            f"    / bare: time {whole / whole_bare:5.2f} x, peak memory "
            f"{tree_mb / bare_tree_mb:5.2f} x, fixed cost {whole - whole_bare:6.2f} s"
        )
    stages: dict[str, float] = result["stages"]  # type: ignore[assignment]
    olds: dict[str, float] = result.get("baseline_stages", {})  # type: ignore[assignment]
    for stage, seconds in stages.items():
        old = f"   baseline {olds[stage]:7.2f} s" if stage in olds else ""
        print(f"  {stage:<28} {seconds:7.2f} s{old}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=None, help="scale the data to N rows")
    parser.add_argument("--repeat", type=int, default=1, help="interleaved repetitions")
    parser.add_argument(
        "--baseline", type=Path, default=None, help="a checkout whose sandbox runs governed too"
    )
    parser.add_argument(
        "--served", action="store_true", help="time `sandbox run` through the command server too"
    )
    parser.add_argument("--child", choices=("bare", "governed"), help=argparse.SUPPRESS)
    parser.add_argument("--pilot", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "bare":
        with tempfile.TemporaryDirectory() as out:
            print(json.dumps(bare(args.pilot, Path(out))))
        return
    if args.child == "governed":
        print(json.dumps(governed(args.pilot, args.home)))
        return
    _report(run(args.rows, args.repeat, args.baseline, served=args.served), args.rows)


if __name__ == "__main__":
    main()
