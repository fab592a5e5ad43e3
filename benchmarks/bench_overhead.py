"""Sandbox overhead: one governed `sandbox run` against the same model fitted bare on the host.

The bare path is the floor: read the CSV, fit, predict. The governed path adds the container
wall (split files, staging), a hardened container, permutation importances, the fairness
evaluation with bootstrap intervals, reports, MLflow logging and two signed trail records.
The model code is this file's own (never a pilot's), so running it on the host is safe.

    python benchmarks/bench_overhead.py
    python benchmarks/bench_overhead.py --rows 1000000   # the blueprint's rows, repeated

`--rows N` repeats the blueprint's rows (in order, each household id made unique) until there
are N, and gives the container the memory and time that size needs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BLUEPRINT = ROOT / "blueprints" / "benefits-eligibility-screening"

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


def bare(pilot: Path) -> float:
    """Seconds to read, split, fit and score the same model directly on the host."""
    from sklearn.model_selection import train_test_split

    namespace: dict[str, object] = {}
    exec(compile(MODEL_SOURCE, "bench-model", "exec"), namespace)
    manifest = yaml.safe_load((pilot / "pilot.yaml").read_text())
    data = manifest["data"]
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
    model = namespace["build_model"](**manifest["model"].get("params", {}))  # type: ignore[operator]
    model.fit(x_train, y_train)
    model.predict(x_eval)
    model.predict_proba(x_eval)
    return time.perf_counter() - start


def governed(pilot: Path, home: Path) -> tuple[float, dict[str, float], str]:
    """Seconds for a full governed run, the time of each stage, and the verdict."""
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

    services = build_services(Settings(home=home))
    start = time.perf_counter()
    outcome = run_pilot(pilot, services, progress=progress)
    return time.perf_counter() - start, stages, outcome.verdict.status


def run(rows: int | None = None) -> dict[str, object]:
    """Measure both paths in one process, warm (the second governed run is reported)."""
    with tempfile.TemporaryDirectory() as tmp:
        pilot = _pilot(Path(tmp) / "pilot", rows)
        home = Path(tmp) / "home"
        governed(pilot, home)  # warm-up: MLflow store creation, imports, page cache
        bare_s = min(bare(pilot) for _ in range(3))
        governed_s, stages, verdict = governed(pilot, home)
    return {"bare_s": bare_s, "governed_s": governed_s, "stages": stages, "verdict": verdict}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=None, help="scale the data to N rows")
    args = parser.parse_args(argv)
    result = run(args.rows)
    if args.rows is not None:
        print(f"blueprint scaled to {args.rows:,} rows")
    print(f"bare fit + score on the host   {result['bare_s']:7.2f} s")
    print(
        f"governed sandbox run           {result['governed_s']:7.2f} s"
        f"  (verdict {result['verdict']})"
    )
    ratio = float(result["governed_s"]) / float(result["bare_s"])  # type: ignore[arg-type]
    print(f"overhead ratio                 {ratio:7.1f} x")
    for stage, seconds in result["stages"].items():  # type: ignore[attr-defined]
        print(f"  {stage:<28} {seconds:7.2f} s")


if __name__ == "__main__":
    main()
