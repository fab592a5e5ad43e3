"""Predictions-only audit of every other task type: the whole process against its peers.

The same measurement as `bench_audit.py` (binary classification) for the other task types of
`sandbox audit evaluate`: one synthetic file per task and size, written as CSV and as Parquet
into a temporary folder; then, on the same file, each of these runs as its own process, timed
from start to exit with its own peak memory:

- multiclass (`--task multiclass`, five classes): polars and DuckDB count rows by race x sex x
  label x prediction; fairlearn's `MetricFrame` computes accuracy and each class's selection
  rate and recall by race and sex;
- regression (`--task regression`): polars and DuckDB compute, per race x sex, the count and
  the sums of errors, absolute errors and squared errors; `MetricFrame` the count, mean error,
  MAE, RMSE, mean label and mean prediction;
- ranking (`--task ranking --k-fraction 0.1`): polars and DuckDB take the top 10 % by score,
  then count each group's rows, positives, selected rows and selected positives;
  `MetricFrame` computes selection rate, recall and precision of that list by group;
- assistant (`--task assistant`): answers and references as JSON Lines (100,000 by default),
  `--sensitive language,district`; polars and DuckDB read both files, pair them by id and
  count per group the answers, declines and answers holding their expected fact.

fairlearn runs at 1M rows or fewer (`bench_audit.FAIRLEARN_MAX_ROWS`); aequitas applies to
binary classification only and is not run here. As there, a first 1,000-row audit starts the
home's shared tracking sidecar before anything is timed. Peers live in `benchmarks/.venv-peers`
(`benchmarks/README.md`); a missing one is skipped with a message.

    .venv/bin/python benchmarks/bench_tasks.py                        # 1M and 10M rows
    .venv/bin/python benchmarks/bench_tasks.py --tasks regression --rows 5000000 --no-peers
    .venv/bin/python benchmarks/bench_tasks.py --tasks assistant --answers 50000
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_audit import (
    FAIRLEARN_MAX_ROWS,
    PEERS_PYTHON,
    RACES,
    SANDBOX,
    SEXES,
    Timed,
    installed,
    report,
    start_sidecar,
    timed,
)

TABULAR = ("multiclass", "regression", "ranking")
TASKS = (*TABULAR, "assistant")
PEER_NAMES = ("polars", "duckdb", "fairlearn")
CLASSES = np.array(["parks", "streets", "water", "sanitation", "housing"])
K_FRACTION = 0.1


# Each peer script reads: the file, its format (csv or parquet) and k (the ranking's list).
SCAN = """
import sys
path, fmt, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
"""
POLARS = (
    SCAN
    + """
import polars as pl
frame = pl.scan_csv(path) if fmt == "csv" else pl.scan_parquet(path)
"""
)
DUCKDB = (
    SCAN
    + """
import duckdb
source = f"read_csv('{path}')" if fmt == "csv" else f"read_parquet('{path}')"
"""
)
PANDAS = (
    SCAN
    + """
import numpy as np, pandas as pd
from fairlearn.metrics import MetricFrame, count
frame = pd.read_csv(path) if fmt == "csv" else pd.read_parquet(path)
"""
)
TABULAR_PEERS = {
    "multiclass": {
        "polars": POLARS
        + """
print(frame.group_by("race", "sex", "label", "prediction").agg(pl.len()).collect().height)
""",
        "duckdb": DUCKDB
        + """
print(len(duckdb.sql(f"SELECT race, sex, label, prediction, count(*) FROM {source} "
                     "GROUP BY ALL").fetchall()))
""",
        "fairlearn": PANDAS
        + """
from functools import partial
from fairlearn.metrics import selection_rate
from sklearn.metrics import accuracy_score
def recall_of(y_true, y_pred, *, value):
    return ((y_true == value) & (y_pred == value)).sum() / (y_true == value).sum()
y, p = frame["label"].astype(str), frame["prediction"].astype(str)
metrics = {"accuracy": accuracy_score, "count": count}
for value in sorted(set(y) | set(p)):
    metrics[f"selection_rate.{value}"] = partial(selection_rate, pos_label=value)
    metrics[f"recall.{value}"] = partial(recall_of, value=value)
mf = MetricFrame(metrics=metrics, y_true=y, y_pred=p, sensitive_features=frame[["race", "sex"]])
print(len(mf.by_group), mf.difference().shape)
""",
    },
    "regression": {
        "polars": POLARS
        + """
error = pl.col("prediction") - pl.col("label")
sums = frame.group_by("race", "sex").agg(
    pl.len(), error.sum().alias("e"), error.abs().sum().alias("a"), (error**2).sum().alias("s"))
print(sums.collect().height)
""",
        "duckdb": DUCKDB
        + """
print(len(duckdb.sql(
    f"SELECT race, sex, count(*), sum(prediction - label), sum(abs(prediction - label)), "
    f"sum((prediction - label) ^ 2) FROM {source} GROUP BY ALL").fetchall()))
""",
        "fairlearn": PANDAS
        + """
from sklearn.metrics import mean_absolute_error, root_mean_squared_error
metrics = {"count": count, "mae": mean_absolute_error, "rmse": root_mean_squared_error,
           "mean_error": lambda y, p: float(np.mean(p - y)),
           "mean_label": lambda y, p: float(np.mean(y)),
           "mean_prediction": lambda y, p: float(np.mean(p))}
mf = MetricFrame(metrics=metrics, y_true=frame["label"], y_pred=frame["prediction"],
                 sensitive_features=frame[["race", "sex"]])
print(len(mf.by_group), mf.difference().shape)
""",
    },
    "ranking": {
        "polars": POLARS
        + """
# ties at the cut-off go to the earlier row, as the sandbox breaks them
top = frame.with_row_index("row").top_k(k, by=["score", "row"], reverse=[False, True])
chosen = top.group_by("race", "sex").agg(pl.len().alias("selected"),
                                         pl.col("label").sum().alias("selected_positives"))
groups = frame.group_by("race", "sex").agg(pl.len().alias("rows"),
                                           pl.col("label").sum().alias("positives"))
print(groups.join(chosen, on=["race", "sex"], how="left").collect().height)
""",
        "duckdb": DUCKDB
        + """
print(len(duckdb.sql(f'''
WITH top AS (SELECT race, sex, label FROM {source} ORDER BY score DESC LIMIT {k})
SELECT * FROM (SELECT race, sex, count(*) AS n, sum(label) AS pos FROM {source} GROUP BY ALL)
LEFT JOIN (SELECT race, sex, count(*) AS sel, sum(label) AS sel_pos FROM top GROUP BY ALL)
USING (race, sex)''').fetchall()))
""",
        "fairlearn": PANDAS
        + """
from fairlearn.metrics import selection_rate, true_positive_rate
from sklearn.metrics import precision_score
selected = np.zeros(len(frame), dtype=np.int8)
selected[np.argsort(-frame["score"].to_numpy(), kind="stable")[:k]] = 1
metrics = {"count": count, "selection_rate": selection_rate, "recall": true_positive_rate,
           "precision": lambda y, p: precision_score(y, p, zero_division=0)}
mf = MetricFrame(metrics=metrics, y_true=frame["label"], y_pred=selected,
                 sensitive_features=frame[["race", "sex"]])
print(len(mf.by_group), mf.difference().shape)
""",
    },
}
# Answers and references: paired by id, then per language x district the answers, the
# declines and the answers holding their expected fact (no language check, no report).
ASSISTANT_PEERS = {
    "polars": """
import sys, polars as pl
answers, references = pl.scan_ndjson(sys.argv[1]), pl.scan_ndjson(sys.argv[2])
fact = pl.col("expected_facts").list.first().str.to_lowercase()
stated = pl.col("answer").str.to_lowercase().str.contains(fact, literal=True)
both = references.join(answers, on="id", how="left")
counts = both.group_by("language", "district").agg(
    pl.len(), pl.col("declined").sum(), pl.col("must_decline").sum(), stated.sum())
print(counts.collect().height)
""",
    "duckdb": """
import sys, duckdb
print(len(duckdb.sql(f'''
SELECT r.language, r.district, count(*), sum(a.declined::INT), sum(r.must_decline::INT),
       sum(contains(lower(a.answer), lower(r.expected_facts[1]))::INT)
FROM read_json_auto('{sys.argv[2]}') r LEFT JOIN read_json_auto('{sys.argv[1]}') a USING (id)
GROUP BY ALL''').fetchall()))
""",
}


def _groups(rng: np.random.Generator, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Race codes (imbalanced, as `bench_audit.py`) and sex codes."""
    race = rng.choice(5, rows, p=[0.5, 0.2, 0.15, 0.1, 0.05]).astype(np.int8)
    return race, rng.integers(0, 2, rows, np.int8)


def _columns(task: str, rows: int, seed: int) -> dict[str, Any]:
    """The task's synthetic columns, with a disparity by race for the audit to find."""
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    race, sex = _groups(rng, rows)
    columns: dict[str, Any] = {
        "race": pa.DictionaryArray.from_arrays(race, RACES),
        "sex": pa.DictionaryArray.from_arrays(sex, SEXES),
    }
    if task == "multiclass":  # 80 % right for the largest group, 70 % for the others
        label = rng.choice(len(CLASSES), rows, p=[0.3, 0.25, 0.2, 0.15, 0.1]).astype(np.int8)
        right = rng.random(rows) < np.where(race == 0, 0.8, 0.7)
        guess = rng.integers(0, len(CLASSES), rows, np.int8)
        columns["label"] = pa.DictionaryArray.from_arrays(label, CLASSES)
        columns["prediction"] = pa.DictionaryArray.from_arrays(
            np.where(right, label, guess), CLASSES
        )
    elif task == "regression":  # days to resolve; predictions one day late for some groups
        days = rng.gamma(2.0, 5.0, rows).round(2)
        bias = np.array([0.0, 1.0, 1.0, 0.5, 0.0])[race]
        columns["label"] = days
        columns["prediction"] = (days + bias + rng.normal(0.0, 3.0, rows)).round(2)
    else:  # ranking: 30 % positives, a score that finds them
        label = (rng.random(rows) < 0.3).astype(np.int8)
        columns["label"] = label
        columns["score"] = np.clip(0.35 * label + 0.65 * rng.random(rows), 0.0, 1.0).round(6)
    return columns


def write_tabular(
    task: str, rows: int, folder: Path, formats: list[str], seed: int = 0
) -> dict[str, Path]:
    """One task's synthetic predictions as CSV and/or Parquet files in `folder`."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    table = pa.table(_columns(task, rows, seed))
    paths = {}
    if "csv" in formats:
        paths["csv"] = folder / f"{task}-{rows}.csv"
        plain = pa.table(
            {
                name: column.cast(pa.string()) if pa.types.is_dictionary(column.type) else column
                for name, column in zip(table.column_names, table.columns, strict=True)
            }
        )
        pcsv.write_csv(plain, paths["csv"], write_options=pcsv.WriteOptions(quoting_style="none"))
    if "parquet" in formats:
        paths["parquet"] = folder / f"{task}-{rows}.parquet"
        pq.write_table(table, paths["parquet"])
    return paths


#: (language, probability, the answer stating the fact, a wrong answer, a decline)
LANGUAGES = (
    ("en", 0.5, "The permit fee is {} and you can pay it online or in person.",
     "Please check the city website for the fees of this permit.",
     "I am sorry, I cannot help with that request; please contact the city."),
    ("es", 0.3, "La tarifa del permiso es de {} y puede pagarla en línea o en persona.",
     "Por favor consulte el sitio web de la ciudad para ver las tarifas del permiso.",
     "Lo siento, no puedo ayudar con esa solicitud; por favor contacte a la ciudad."),
    ("ar", 0.2, "رسوم التصريح {} ويمكنك دفعها عبر الإنترنت أو شخصيا.",
     "يرجى مراجعة موقع المدينة لمعرفة رسوم هذا التصريح.",
     "عذرا، لا أستطيع المساعدة في هذا الطلب؛ يرجى التواصل مع المدينة."),
)  # fmt: skip


def write_answers(count: int, folder: Path, seed: int = 0) -> tuple[Path, Path]:
    """`count` questions (references) and their answers as JSON Lines, Spanish answered worse."""
    rng = np.random.default_rng(seed)
    language = rng.choice(len(LANGUAGES), count, p=[spec[1] for spec in LANGUAGES])
    district = rng.integers(1, 6, count)
    decline = rng.random(count) < 0.1
    # a right answer 90 % of the time (Spanish 75 %); a question to decline is declined 95 %
    right = rng.random(count) < np.where(language == 1, 0.75, 0.9)
    declined = np.where(decline, rng.random(count) < 0.95, rng.random(count) < 0.03)
    fee = rng.integers(10, 100, count)
    references, answers = folder / "references.jsonl", folder / "answers.jsonl"
    with references.open("w", encoding="utf-8") as refs, answers.open("w", encoding="utf-8") as out:
        for i in range(count):
            code, _, stated, wrong, no = LANGUAGES[language[i]]
            fact = f"${fee[i]}"  # text for every reader (DuckDB reads "14:00" as a time)
            question = {
                "id": f"Q-{i:06d}",
                "question": f"Question {i}: how much is the fee of permit {i % 97}?",
                "language": code,
                "district": f"District {district[i]}",
                "expected_facts": [] if decline[i] else [fact],
                "must_decline": bool(decline[i]),
            }
            text = no if declined[i] else (stated.format(fact) if right[i] else wrong)
            answer = {"id": question["id"], "answer": text, "declined": bool(declined[i])}
            refs.write(json.dumps(question, ensure_ascii=False) + "\n")
            out.write(json.dumps(answer, ensure_ascii=False) + "\n")
    return answers, references


def written(task: str, rows: int, folder: Path, formats: list[str]) -> dict[str, Path]:
    """`write_tabular` in a fresh interpreter, so that this process stays small.

    A child's peak memory (`ru_maxrss`) starts from its parent's peak, which Linux records when
    the child replaces the parent's memory image by the program it runs: a parent that held
    ten million rows would put its own peak under every process it then times.
    """
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        return pool.submit(write_tabular, task, rows, folder, formats).result()


def audit_command(task: str, path: Path, references: Path | None = None) -> list[str]:
    """`sandbox audit evaluate` of one task's file, with the flags that task needs."""
    command = [str(SANDBOX), "audit", "evaluate", "--task", task, "--data", str(path)]
    if task == "assistant":
        return [*command, "--references", str(references), "--sensitive", "language,district"]
    command += ["--label", "label", "--sensitive", "race,sex"]
    if task == "ranking":
        return [*command, "--score", "score", "--k-fraction", str(K_FRACTION)]
    return [*command, "--prediction", "prediction"]


def _peer_runs(peers: list[str], rows: int, scripts: dict[str, str]) -> list[tuple[str, str]]:
    """The peers to run on `rows` rows: fairlearn only up to its size limit."""
    return [
        (name, scripts[name])
        for name in peers
        if name in scripts and not (name == "fairlearn" and rows > FAIRLEARN_MAX_ROWS)
    ]


def measure(
    command: list[str], files: list[Path], peers: list[tuple[str, str]], args: list[str], home: Path
) -> dict[str, Timed]:
    """The audit and each peer on the same files, in that order (the page cache warmed first)."""
    for file in files:  # in blocks: a whole file read here would raise every child's floor
        with file.open("rb") as handle:
            while handle.read(1 << 24):
                pass
    env = {**os.environ, "SANDBOX_HOME": str(home)}
    results = {"sandbox": timed(command, env)}
    for name, script in peers:
        results[name] = timed([str(PEERS_PYTHON), "-c", script, *args])
    return results


def best_of(repeat: int, once: Callable[[], dict[str, Timed]]) -> dict[str, Timed]:
    """The fastest of `repeat` rounds for each process (the rounds interleave the processes)."""
    best: dict[str, Timed] = {}
    for _ in range(repeat):
        for name, result in once().items():
            if name not in best or result.seconds < best[name].seconds:
                best[name] = result
    return best


def available(wanted: list[str]) -> list[str]:
    """The wanted peers installed in the peers' environment; a message for each one missing."""
    found = [name for name in wanted if installed(name)]
    for name in sorted(set(wanted) - set(found)):
        print(f"  (skipping {name}: not installed in {PEERS_PYTHON.parent.parent}; "
              "see benchmarks/README.md)")  # fmt: skip
    return found


def run(
    rows: list[int],
    formats: list[str],
    *,
    tasks: tuple[str, ...] = TASKS,
    peers: list[str] | None = None,
    answers: int = 100_000,
    repeat: int = 1,
) -> dict[tuple[str, int, str], dict[str, Timed]]:
    """Every task, size and format; the fastest of `repeat` runs of each process."""
    chosen = available(list(PEER_NAMES) if peers is None else peers)
    out: dict[tuple[str, int, str], dict[str, Timed]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-tasks-") as tmp:
        folder = Path(tmp)
        home = folder / "home"
        start_sidecar(folder, home)
        for task in (t for t in tasks if t in TABULAR):
            print(f"  {task}:")
            for size in rows:
                started = time.perf_counter()
                paths = written(task, size, folder, formats)
                print(f"  (wrote {size:,} rows in {time.perf_counter() - started:.1f} s)")
                k = str(max(1, math.floor(K_FRACTION * size + 1e-9)))
                for fmt, path in paths.items():
                    command = audit_command(task, path)
                    todo = _peer_runs(chosen, size, TABULAR_PEERS[task])
                    once = partial(measure, command, [path], todo, [str(path), fmt, k], home)
                    best = best_of(repeat, once)
                    report(size, fmt, best)
                    out[(task, size, fmt)] = best
                    path.unlink()
        if "assistant" in tasks:
            print("  assistant:")
            data, refs = write_answers(answers, folder)
            command = audit_command("assistant", data, refs)
            todo = _peer_runs(chosen, answers, ASSISTANT_PEERS)
            once = partial(measure, command, [data, refs], todo, [str(data), str(refs)], home)
            best = best_of(repeat, once)
            report(answers, "jsonl", best)
            out[("assistant", answers, "jsonl")] = best
    return out


def main(argv: list[str] | None = None) -> Any:
    """Command line: sizes, formats, tasks, peers, answers, repetitions."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--formats", default="csv,parquet")
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated")
    parser.add_argument("--peers", default=",".join(PEER_NAMES), help="comma-separated")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--answers", type=int, default=100_000, help="assistant answers")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    tasks = tuple(t for t in args.tasks.split(",") if t)
    unknown = sorted(set(tasks) - set(TASKS))
    if unknown:
        parser.error(f"--tasks: unknown {unknown}; choose from {', '.join(TASKS)}")
    peers = [] if args.no_peers else [p for p in args.peers.split(",") if p]
    return run(
        args.rows,
        args.formats.split(","),
        tasks=tasks,
        peers=peers,
        answers=args.answers,
        repeat=args.repeat,
    )


if __name__ == "__main__":
    main()
