"""Pilot data on the host: read the declared files, check them against the manifest, split.

Only the host ever reads the full data. Labels, sensitive attributes and PII stay here; what
may cross into the container is decided in `sandbox.data.wall`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sandbox.data.reader import read_table
from sandbox.data.table import MISSING_GROUP, PilotTable, group_columns
from sandbox.digests import file_sha256
from sandbox.errors import DataError
from sandbox.manifest import MANIFEST_NAME, PilotManifest
from sandbox.tasks import get_task

__all__ = ["MISSING_GROUP", "PilotData", "SourceInfo", "Split", "load_pilot_data", "split_rows"]


@dataclass(frozen=True, kw_only=True)
class SourceInfo:
    """One data file as read: where, what format, its whole-file hash and shape."""

    path: str
    format: str
    sha256: str
    rows: int
    columns: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class PilotData:
    """The checked rows (ids, features, task-encoded label, groups) and where they came from."""

    table: PilotTable
    sources: tuple[SourceInfo, ...]
    missing_by_column: dict[str, int]


@dataclass(frozen=True, kw_only=True)
class Split:
    """Row positions of the training and evaluation sets (seeded)."""

    train: np.ndarray
    evaluation: np.ndarray


def _resolve_inside(pilot_dir: Path, relative: str, field: str) -> Path:
    root = pilot_dir.resolve()
    path = (pilot_dir / relative).resolve()
    if not path.is_relative_to(root):
        raise DataError(
            f"{pilot_dir / MANIFEST_NAME}: {field}: {relative!r} points outside the pilot folder"
        )
    if not path.is_file():
        raise DataError(
            f"{pilot_dir / MANIFEST_NAME}: {field}: data file {relative!r} not found in {pilot_dir}"
        )
    return path


def _check_columns(
    frame: pd.DataFrame, manifest: PilotManifest, manifest_path: Path, source_names: str
) -> None:
    data = manifest.data
    wanted: list[tuple[str, str]] = [("data.label", data.label)]
    for section in ("features", "sensitive", "pii", "proxies"):
        wanted += [(f"data.{section}[{i}]", c) for i, c in enumerate(getattr(data, section))]
    problems = []
    for field, column in wanted:
        if column not in frame.columns:
            near = difflib.get_close_matches(column, [str(c) for c in frame.columns], n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            problems.append(
                f"{manifest_path}: {field}: column {column!r} not in {source_names}{hint}"
            )
    if problems:
        raise DataError("\n".join(problems))
    if "row_id" in frame.columns:
        raise DataError(f"{source_names}: column 'row_id' is reserved for the sandbox; rename it")


def load_pilot_data(pilot_dir: Path, manifest: PilotManifest) -> PilotData:
    """Read the declared sources, check the schema, encode the label; DataError on any flaw."""
    manifest_path = pilot_dir / MANIFEST_NAME
    frames: list[pd.DataFrame] = []
    infos: list[SourceInfo] = []
    for i, source in enumerate(manifest.data.sources):
        path = _resolve_inside(pilot_dir, source.path, f"data.sources[{i}].path")
        frame = read_table(path, source.resolved_format)
        if frames and list(frame.columns) != list(frames[0].columns):
            raise DataError(
                f"{path}: columns differ from {manifest.data.sources[0].path}; "
                "every source must have the same columns in the same order"
            )
        frames.append(frame)
        infos.append(
            SourceInfo(
                path=source.path,
                format=source.resolved_format,
                sha256=file_sha256(path),
                rows=len(frame),
                columns=tuple(frame.columns),
            )
        )
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    names = ", ".join(s.path for s in manifest.data.sources)
    if frame.empty:
        raise DataError(f"{names}: no data rows")
    _check_columns(frame, manifest, manifest_path, names)
    data = manifest.data
    label = get_task(manifest.task.type).encode_labels(
        frame[data.label],
        manifest.task,
        column=data.label,
        source=names,
        manifest=str(manifest_path),
    )
    groups = group_columns(frame, data.sensitive)
    for index, column in enumerate(data.sensitive):
        if groups[column].nunique() < 2:
            raise DataError(
                f"{manifest_path}: data.sensitive[{index}]: column {column!r} has a single group "
                f"({groups[column].iloc[0]!r}) in {names}, so no disparity can be assessed; "
                "remove it from data.sensitive or use data with several groups"
            )
    table = PilotTable(
        row_ids=np.arange(len(frame), dtype=np.int64),
        features=frame[list(data.features)].reset_index(drop=True),
        label=label,
        groups=groups.reset_index(drop=True),
    )
    used = [data.label, *data.features, *data.sensitive]
    missing = {c: int(frame[c].isna().sum()) for c in dict.fromkeys(used)}
    return PilotData(table=table, sources=tuple(infos), missing_by_column=missing)


def split_rows(y: np.ndarray, *, evaluation_fraction: float, seed: int, stratify: bool) -> Split:
    """A seeded train/evaluation split of row positions, stratified on the label by default."""
    from sklearn.model_selection import train_test_split

    positions = np.arange(len(y))
    try:
        train, evaluation = train_test_split(
            positions,
            test_size=evaluation_fraction,
            random_state=seed,
            stratify=y if stratify else None,
        )
    except ValueError as exc:
        raise DataError(f"cannot split {len(y)} rows for evaluation: {exc}") from None
    return Split(train=np.sort(train), evaluation=np.sort(evaluation))
