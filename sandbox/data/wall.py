"""What crosses the container wall, written by the host into a run folder.

- ``input/train.csv``: model features + the task-encoded label for the training rows;
- ``input/score.csv``: ``row_id`` + model features for the evaluation rows and the current
  cases of any `score` source, in one file so the model cannot tell them apart: no label, no
  sensitive attribute, no PII (data minimisation by construction);
- ``input/spec.json``: what the harness should fit, what it writes (the task's outputs), and the
  declared types of the features, so that a text column such as a ZIP code ``02134`` reaches
  the model as the text it is, not as the number 2134;
- ``pilot/``: the pilot's code files only (never its data), as regular files.

Everything else (labels, sensitive attributes) stays on the host in `WallCrossing.held_back`.
Before anything is written, the evaluation rows must be enough to assess
(`sandbox.data.adequacy`): a container is never started for an evaluation that says nothing.
"""

from __future__ import annotations

import fnmatch
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sandbox.data.adequacy import check_evaluation_rows, label_classes
from sandbox.data.dataset import PilotData, Split
from sandbox.data.roles import ScoreRows
from sandbox.data.table import PilotTable
from sandbox.digests import file_sha256
from sandbox.errors import ManifestError
from sandbox.manifest import MANIFEST_NAME, PilotManifest
from sandbox.tasks import get_task

__all__ = ["WallCrossing", "stage_code", "write_inputs"]

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


def write_inputs(
    data: PilotData, split: Split, manifest: PilotManifest, input_dir: Path
) -> WallCrossing:
    """Write train/score/spec for the container; return hashes and the held-back columns."""
    features = list(manifest.data.features)
    label = manifest.data.label
    task = get_task(manifest.task.type)
    table = data.table
    train = table.take(split.train)
    evaluation = table.take(split.evaluation)
    check_evaluation_rows(
        evaluation.label,
        evaluation.groups,
        classes=label_classes(task.sample_cells),
        inputs=data.inputs,
    )
    input_dir.mkdir(parents=True, exist_ok=False)
    input_dir.chmod(0o755)

    train_out = train.features.copy()
    train_out[label] = train.label
    _write_private(input_dir / "train.csv", train_out.to_csv(index=False, lineterminator="\n"))
    score_out = pd.concat(
        [pd.DataFrame({"row_id": evaluation.row_ids}), evaluation.features], axis=1
    )
    if data.scoring is not None:
        cases = pd.concat(
            [pd.DataFrame({"row_id": data.scoring.row_ids}), data.scoring.features], axis=1
        )
        score_out = pd.concat([score_out, cases], ignore_index=True)
    _write_private(input_dir / "score.csv", score_out.to_csv(index=False, lineterminator="\n"))
    spec = {
        "task": manifest.task.type,
        "outputs": task.harness_outputs(manifest.task),
        "label": label,
        "features": features,
        "types": manifest.data.feature_types(),
        "entrypoint": manifest.model.entrypoint,
        "params": manifest.model.params,
        "seed": manifest.model.seed,
        "model": manifest.model.harness_spec(),
        "explain": {
            "holdout_fraction": manifest.model.importance_holdout,
            "n_repeats": 5,
            "max_rows": 5000,
        },
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
    dest.mkdir(parents=True, exist_ok=False)
    dest.chmod(0o755)
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
