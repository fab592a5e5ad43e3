"""What crosses the container wall, written by the host into a run folder.

- ``input/train.parquet``: model features + the task-encoded label for the training rows;
- ``input/score.parquet``: ``row_id`` + model features for the evaluation rows and the current
  cases of any `score` source, in one file so the model cannot tell them apart: no label, no
  sensitive attribute, no PII (data minimisation by construction);
- ``input/spec.json``: what the harness should fit, what it writes (the task's outputs), and the
  declared types of the features;
- ``pilot/``: the pilot's code files only (never its data), as regular files.

Both tables are Parquet written by pyarrow: no index, no pandas metadata, each column with the
type the host read it as (a text column such as a ZIP code ``02134`` stays the text it is, a
declared category is dictionary-encoded with only the values of that file's rows). The bytes
depend only on the rows and the pyarrow version, so a replay rebuilds them identically.

Everything else (labels, sensitive attributes) stays on the host in `WallCrossing.held_back`.
Before anything is written, the evaluation rows must be enough to assess
(`sandbox.data.adequacy`): a container is never started for an evaluation that says nothing.
"""

from __future__ import annotations

import fnmatch
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sandbox.data.adequacy import check_evaluation_rows, label_classes
from sandbox.data.dataset import PilotData, Split
from sandbox.data.holdout import hold_back
from sandbox.data.roles import ScoreRows
from sandbox.data.table import PilotTable
from sandbox.digests import file_sha256
from sandbox.errors import ManifestError
from sandbox.manifest import MANIFEST_NAME, PilotManifest
from sandbox.runtime.base import mount_folder
from sandbox.tasks import get_task

__all__ = ["SCORE_FILE", "TRAIN_FILE", "WallCrossing", "stage_code", "write_inputs"]

TRAIN_FILE = "train.parquet"
SCORE_FILE = "score.parquet"

MAX_CODE_BYTES = 20 * 1024 * 1024
MAX_CODE_FILES = 500


@dataclass(frozen=True, kw_only=True)
class WallCrossing:
    """The inputs written for the container, their hashes, and what stays behind."""

    input_dir: Path
    files: dict[str, str]  # name -> sha256 of each file in input_dir
    train_rows: int
    eval_rows: int
    held_back: PilotTable  # the evaluation rows' ids, labels and groups (no features)
    split: Split | None = None  # how the labelled rows were split
    scoring: ScoreRows | None = None  # current cases scored for the city, never evaluated

    @property
    def scored_rows(self) -> int:
        """How many current cases (score sources) the container scores."""
        return len(self.scoring) if self.scoring is not None else 0

    @property
    def expected_row_ids(self) -> np.ndarray:
        """The row ids the container must return predictions for: evaluated, then scored."""
        if self.scoring is None:
            return self.held_back.row_ids
        return np.concatenate([self.held_back.row_ids, self.scoring.row_ids])


def _write_private(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o644)  # readable by the container's unprivileged user


def _write_table(
    path: Path,
    features: pd.DataFrame,
    *,
    first: tuple[str, np.ndarray] | None = None,
    last: tuple[str, np.ndarray] | None = None,
) -> None:
    """Write `features` (with a `first` and a `last` column, if given) as one Parquet file."""
    categorical = [
        c for c in features.columns if isinstance(features[c].dtype, pd.CategoricalDtype)
    ]
    if categorical:  # a file carries only the category values of its own rows
        features = features.assign(
            **{str(c): features[c].cat.remove_unused_categories() for c in categorical}
        )
    table = pa.Table.from_pandas(features, preserve_index=False)
    if first is not None:
        table = table.add_column(0, first[0], pa.array(first[1]))
    if last is not None:
        table = table.append_column(last[0], pa.array(last[1]))
    pq.write_table(table.replace_schema_metadata(None), path)
    path.chmod(0o644)  # readable by the container's unprivileged user


def write_inputs(
    data: PilotData,
    split: Split,
    manifest: PilotManifest,
    input_dir: Path,
    *,
    draw_holdout: bool = True,
) -> WallCrossing:
    """Write train/score/spec for the container; return hashes and the held-back columns.

    With `draw_holdout` (the default) a factory's importance hold-back is drawn here and the
    training rows are written fitted rows first (`sandbox.data.holdout`); without it they are
    written in file order, as runs recorded before the host drew it (a replay rebuilds those).
    """
    features = list(manifest.data.features)
    label = manifest.data.label
    task = get_task(manifest.task.type)
    outputs = task.harness_outputs(manifest.task)
    table = data.table
    explain: dict[str, object] = {
        "holdout_fraction": manifest.model.importance_holdout,
        "n_repeats": 5,
        "max_rows": 5000,
    }
    train_positions = split.train
    held = None
    if draw_holdout and manifest.model.kind == "factory":
        held = hold_back(
            table.label[split.train],
            fraction=manifest.model.importance_holdout,
            seed=manifest.model.seed,
            classes=outputs["prediction"] != "number",
        )
    if held is not None:
        train_positions = split.train[held.order]
        explain["fit_rows"] = held.fit_rows
    train = table.take(train_positions)
    evaluation = table.take(split.evaluation)
    check_evaluation_rows(
        evaluation.label,
        evaluation.groups,
        classes=label_classes(task.sample_cells),
        inputs=data.inputs,
    )
    mount_folder(input_dir)

    score_ids, score_features = evaluation.row_ids, evaluation.features
    if data.scoring is not None:
        score_ids = np.concatenate([score_ids, data.scoring.row_ids])
        score_features = pd.concat([score_features, data.scoring.features], ignore_index=True)
    # The two files are encoded side by side: pyarrow's writer releases the GIL.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="sandbox-wall") as writer:
        written = [
            writer.submit(
                _write_table, input_dir / TRAIN_FILE, train.features, last=(label, train.label)
            ),
            writer.submit(
                _write_table, input_dir / SCORE_FILE, score_features, first=("row_id", score_ids)
            ),
        ]
        for file in written:
            file.result()
    spec = {
        "task": manifest.task.type,
        "outputs": outputs,
        "label": label,
        "features": features,
        "types": manifest.data.feature_types(),
        "entrypoint": manifest.model.entrypoint,
        "params": manifest.model.params,
        "seed": manifest.model.seed,
        "model": manifest.model.harness_spec(),
        "explain": explain,
    }
    _write_private(input_dir / "spec.json", json.dumps(spec, indent=2, sort_keys=True) + "\n")

    held_back = evaluation.without_features()
    files = {p.name: file_sha256(p) for p in sorted(input_dir.iterdir())}
    return WallCrossing(
        input_dir=input_dir,
        files=files,
        train_rows=len(train),
        eval_rows=len(evaluation),
        held_back=held_back,
        split=split,
        scoring=data.scoring,
    )


def stage_code(pilot_dir: Path, manifest: PilotManifest, dest: Path) -> dict[str, str]:
    """Copy the pilot's code files (the `model.code` globs) into `dest`; never data or links.

    Returns relative path -> sha256 of every staged file.
    """
    data_files = {(pilot_dir / s.path).resolve() for s in manifest.data.sources}
    mount_folder(dest)
    staged: dict[str, str] = {}
    total = 0
    for current, dirs, names in os.walk(pilot_dir, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in sorted(names):
            source = Path(current) / name
            relative = source.relative_to(pilot_dir).as_posix()
            if not any(fnmatch.fnmatch(relative, pattern) for pattern in manifest.model.code):
                continue
            if relative == MANIFEST_NAME or source.resolve() in data_files:
                continue
            if source.is_symlink() or not source.is_file():
                continue  # links could smuggle data in; only regular files cross
            total += source.stat().st_size
            if total > MAX_CODE_BYTES or len(staged) >= MAX_CODE_FILES:
                raise ManifestError(
                    f"{pilot_dir / MANIFEST_NAME}: model.code: the matched code is larger than "
                    f"{MAX_CODE_BYTES} bytes or {MAX_CODE_FILES} files; narrow the patterns"
                )
            target = dest / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.parent.chmod(0o755)
            target.write_bytes(source.read_bytes())
            target.chmod(0o644)
            staged[relative] = file_sha256(target)
    entry_file = manifest.model.entrypoint.split(":", 1)[0]
    if manifest.model.kind == "factory" and entry_file not in staged:
        raise ManifestError(
            f"{pilot_dir / MANIFEST_NAME}: model.entrypoint: {entry_file!r} is not among the "
            f"staged code files (patterns {list(manifest.model.code)}); "
            "add the file or fix the path"
        )
    return staged
