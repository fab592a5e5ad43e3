"""Pilot data on the host: read the declared files, check them against the manifest, split.

Only the host ever reads the full data. Labels, sensitive attributes and PII stay here; what
may cross into the container is decided in `sandbox.data.wall`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from sandbox.data.adequacy import Inputs, check_groups
from sandbox.data.hashed import read_hashed
from sandbox.data.roles import ScoreRows, check_labelled_columns, score_rows
from sandbox.data.table import MISSING_GROUP, PilotTable, group_columns
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
    missing_by_column: dict[str, int]  # used columns: empty cells and declared markers
    inputs: Inputs  # how messages name the pilot's files, fields and fixes
    roles: tuple[str, ...] = ()  # each source's role, in the order of `sources`
    evaluation_rows: np.ndarray | None = None  # rows of the evaluation sources, if any
    split_keys: pd.DataFrame | None = None  # the labelled rows' split.by / split.group_by
    scoring: ScoreRows | None = None  # the score sources' rows: current cases, no label


@dataclass(frozen=True, kw_only=True)
class Split:
    """Row positions of the training and evaluation sets, and how they were chosen."""

    train: np.ndarray
    evaluation: np.ndarray
    method: Literal["random", "stratified", "time", "group", "sources"] = "random"
    cutoff: str | None = None  # time split: the first evaluated date


def _resolve_inside(pilot_dir: Path, relative: str, field: str) -> Path:
    from sandbox.confinement import confine

    where = pilot_dir / MANIFEST_NAME
    path = confine(pilot_dir, relative, field=field, where=where, error=DataError)
    if not path.is_file():
        raise DataError(
            f"{pilot_dir / MANIFEST_NAME}: {field}: data file {relative!r} not found in {pilot_dir}"
        )
    return path


def _wanted(manifest: PilotManifest) -> list[tuple[str, str]]:
    data = manifest.data
    wanted: list[tuple[str, str]] = [("data.label", data.label)]
    for section in ("features", "sensitive", "pii", "proxies"):
        wanted += [(f"data.{section}[{i}]", c) for i, c in enumerate(getattr(data, section))]
    for name in ("by", "group_by"):
        if (column := getattr(data.split, name)) is not None:
            wanted.append((f"data.split.{name}", column))
    return wanted


def _looks_like_data(columns: list[str]) -> bool:
    """Whether a header row reads like a data row: numbers, or values repeated in it."""
    for name in columns:
        base, dot, suffix = name.rpartition(".")
        if dot and suffix.isdigit() and base in columns:
            return True  # pandas renamed a repeated "name" to "name.1": a value, not a name
        try:
            float(name)
        except ValueError:
            continue
        return True
    return False


def _check_header(frame: pd.DataFrame, manifest: PilotManifest, index: int, path: Path) -> None:
    """One clear message for a file whose first row is data, not column names."""
    source = manifest.data.sources[index]
    names = [str(c) for c in frame.columns]
    wanted = {column for _, column in _wanted(manifest)}
    if not source.header or len(wanted & set(names)) * 2 > len(wanted):
        return
    if _looks_like_data(names):
        shown = ", ".join(repr(n) for n in names[:4])
        raise DataError(
            f"{path.name}: the first row looks like data, not column names ({shown}, ...); "
            f"set data.sources[{index}].header: false in {MANIFEST_NAME} and name the "
            f"{len(names)} columns, in order, in data.sources[{index}].columns"
        )


def _check_columns(
    frame: pd.DataFrame, manifest: PilotManifest, manifest_path: Path, source_names: str
) -> None:
    problems = []
    for field, column in _wanted(manifest):
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


def _larger_share(manifest: PilotManifest) -> str:
    """Which field evaluates a larger share of the rows, for the adequacy messages."""
    split = manifest.data.split
    if any(s.role == "evaluation" for s in manifest.data.sources):
        return "add labelled rows to the evaluation source"
    if split.by is not None and split.cutoff is not None:
        return f"an earlier data.split.cutoff, now {split.cutoff}"
    if split.by is not None:
        return f"a smaller data.split.fraction, now {split.fraction:g}"
    return f"data.split.evaluation_fraction, now {split.evaluation_fraction:g}"


def pilot_inputs(manifest: PilotManifest, manifest_path: Path) -> Inputs:
    """How messages about a pilot's data name its files, fields and fixes."""
    data = manifest.data
    share = _larger_share(manifest)
    return Inputs(
        source=", ".join(s.path for s in data.sources if s.role != "score"),
        label=f"data.label {data.label!r}",
        sensitive={
            c: f"{manifest_path}: data.sensitive[{i}]" for i, c in enumerate(data.sensitive)
        },
        more_rows=f"add rows, or evaluate on a larger share of them ({share})",
        more_of_class=(
            "use data with more rows of each label value, or evaluate on a larger share of "
            f"them ({share})"
        ),
        one_group="remove it from data.sensitive or use data with several groups",
        class_names={
            1: f"the positive label {getattr(manifest.task, 'positive_label', 1)!r}",
            0: "the other label",
        },
    )


def load_pilot_data(pilot_dir: Path, manifest: PilotManifest) -> PilotData:
    """Read the declared sources, check the schema, encode the label; DataError on any flaw.

    Each file's bounds and whole-file hash come from one scan before it is parsed, and a file
    changed in between is refused (`sandbox.data.hashed`).
    """
    manifest_path = pilot_dir / MANIFEST_NAME
    frames: list[pd.DataFrame] = []
    infos: list[SourceInfo] = []
    scored: list[tuple[str, str, Path, pd.DataFrame]] = []
    from_evaluation: list[np.ndarray] = []
    first = ""
    for i, source in enumerate(manifest.data.sources):
        path = _resolve_inside(pilot_dir, source.path, f"data.sources[{i}].path")
        frame, digest = read_hashed(path, source.table_format, options=source.read_options(i))
        if source.role == "score":
            scored.append((f"data.sources[{i}]", source.path, path, frame))
        else:
            _check_header(frame, manifest, i, path)
            if frames:
                check_labelled_columns(
                    [(first, tuple(frames[0].columns)), (f"{path.name}", tuple(frame.columns))],
                    f"{manifest_path}: data.sources[{i}]",
                )
            else:
                first = path.name
            if source.role == "evaluation":
                start = sum(len(f) for f in frames)
                from_evaluation.append(np.arange(start, start + len(frame), dtype=np.int64))
            frames.append(frame)
        infos.append(
            SourceInfo(
                path=source.path,
                format=source.resolved_format,
                sha256=digest,
                rows=len(frame),
                columns=tuple(frame.columns),
            )
        )
    # concat aligns the labelled sources' columns by name, in the first source's order
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    inputs = pilot_inputs(manifest, manifest_path)
    names = inputs.source
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
    groups = group_columns(
        frame,
        data.sensitive,
        source=names,
        fix="rename that value in the file, or declare it a missing-value marker "
        "(data.sources[].missing) if it means missing",
    )
    check_groups(groups, inputs)
    table = PilotTable(
        row_ids=np.arange(len(frame), dtype=np.int64),
        features=frame[list(data.features)].reset_index(drop=True),
        label=label,
        groups=groups.reset_index(drop=True),
    )
    used = [data.label, *data.features, *data.sensitive]
    missing = {c: int(frame[c].isna().sum()) for c in dict.fromkeys(used)}
    keys = [c for c in (data.split.by, data.split.group_by) if c is not None]
    return PilotData(
        table=table,
        sources=tuple(infos),
        missing_by_column=missing,
        inputs=inputs,
        roles=tuple(source.role for source in data.sources),
        evaluation_rows=np.concatenate(from_evaluation) if from_evaluation else None,
        split_keys=frame[keys].reset_index(drop=True) if keys else None,
        scoring=score_rows(scored, data, first_row_id=len(frame)),
    )


def split_rows(y: np.ndarray, *, evaluation_fraction: float, seed: int, stratify: bool) -> Split:
    """A seeded train/evaluation split of row positions, stratified on the label by default."""
    from sandbox.data.shuffled import shuffle_split, stratified_shuffle_split

    try:
        train, evaluation = (
            stratified_shuffle_split(y, test_fraction=evaluation_fraction, seed=seed)
            if stratify
            else shuffle_split(len(y), test_fraction=evaluation_fraction, seed=seed)
        )
    except ValueError as exc:
        raise DataError(f"cannot split {len(y)} rows for evaluation: {exc}") from None
    method: Literal["stratified", "random"] = "stratified" if stratify else "random"
    return Split(train=np.sort(train), evaluation=np.sort(evaluation), method=method)
