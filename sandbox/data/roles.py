"""Data roles: which rows train the model, which are evaluated, which are scored for the city.

A source's `role` is `train` (labelled history, the default), `evaluation` (labelled rows held
out: no split is made) or `score` (current cases without a label). Score rows cross the wall
in the same `score.parquet` as the evaluation rows, with row ids of their own, so the container
cannot tell them apart; the host keeps which is which. Their predictions come back to the city
in `scored.csv`, named by the declared `data.id` column or by file and data row number; they
are never evaluated, since they have no label.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sandbox.errors import DataError

if TYPE_CHECKING:
    from sandbox.data.section import DataSection

__all__ = [
    "SCORED_NAME",
    "ScoreRows",
    "ScoredFile",
    "check_labelled_columns",
    "score_rows",
    "write_scored",
]

SCORED_NAME = "scored.csv"
#: Columns scored.csv names the cases by when no `data.id` is declared.
_ROW_KEYS = ("source", "row")
_OUTPUT_COLUMNS = ("prediction", "score")


@dataclass(frozen=True, kw_only=True)
class ScoreRows:
    """Current cases to score: their ids across the wall, their features, the city's names."""

    row_ids: np.ndarray
    features: pd.DataFrame
    keys: pd.DataFrame  # the id column, or source + data row number: never sent in

    def __len__(self) -> int:
        return len(self.row_ids)


@dataclass(frozen=True, kw_only=True)
class ScoredFile:
    """scored.csv as written for the city: where, its whole-file hash, its rows."""

    path: Path
    sha256: str
    rows: int


def check_labelled_columns(columns: list[tuple[str, tuple[str, ...]]], where: str) -> None:
    """DataError when labelled sources (field, columns) differ in their columns."""
    field, first = columns[0]
    for other, names in columns[1:]:
        missing = [c for c in first if c not in names]
        extra = [c for c in names if c not in first]
        if missing or extra:
            said = "; ".join(
                part
                for part in (
                    f"lacks {', '.join(map(repr, missing[:5]))}" if missing else "",
                    f"adds {', '.join(map(repr, extra[:5]))}" if extra else "",
                )
                if part
            )
            raise DataError(
                f"{where}: {other}: its columns differ from {field} ({said}); every labelled "
                "(train or evaluation) source must have the same columns: fix the file, or "
                "give current cases without a label role: score"
            )


def _check_score_source(frame: pd.DataFrame, data: DataSection, field: str, path: Path) -> None:
    if data.label in frame.columns and bool(frame[data.label].notna().any()):
        labelled = int(frame[data.label].notna().sum())
        raise DataError(
            f"{path}: {field}.role is score, but column {data.label!r} (the label) holds "
            f"{labelled} values; current cases have no label: remove the column, or give the "
            "source role: evaluation if these rows are labelled"
        )
    wanted = [*data.features, *([data.id] if data.id else [])]
    absent = [c for c in wanted if c not in frame.columns]
    if absent:
        raise DataError(
            f"{path}: {field} (role: score) lacks {', '.join(map(repr, absent))}; a score "
            "source needs every model feature (and data.id, if declared)"
        )


def score_rows(
    frames: list[tuple[str, str, Path, pd.DataFrame]], data: DataSection, *, first_row_id: int
) -> ScoreRows | None:
    """The score sources' rows (field, relative path, file, frame); None when there are none."""
    if not frames:
        return None
    parts, keys = [], []
    for field, relative, path, frame in frames:
        _check_score_source(frame, data, field, path)
        parts.append(frame[list(data.features)])
        if data.id is not None:
            keys.append(frame[[data.id]])
        else:
            rows = np.arange(1, len(frame) + 1, dtype=np.int64)
            keys.append(pd.DataFrame({"source": relative, "row": rows}))
    features = pd.concat(parts, ignore_index=True)
    names = pd.concat(keys, ignore_index=True)
    where = ", ".join(relative for _, relative, _, _ in frames)
    if features.empty:
        raise DataError(f"{where}: the score sources hold no rows; add the cases to score")
    if data.id is not None:
        _check_ids(names[data.id], data.id, where)
    start = first_row_id
    return ScoreRows(
        row_ids=np.arange(start, start + len(features), dtype=np.int64),
        features=features,
        keys=names,
    )


def _check_ids(ids: pd.Series, column: str, where: str) -> None:
    if bool(ids.isna().any()):
        raise DataError(
            f"{where}: data.id {column!r} is empty in {int(ids.isna().sum())} score rows; every "
            "case needs its id, or leave data.id out to name cases by file and row number"
        )
    repeated = ids[ids.duplicated()].astype(str).unique().tolist()
    if repeated:
        raise DataError(
            f"{where}: data.id {column!r} repeats values (e.g. {repeated[:3]}); each case "
            "needs its own id"
        )


def write_scored(scoring: ScoreRows, predictions: pd.DataFrame, path: Path) -> ScoredFile:
    """Write scored.csv: the city's names for the cases, then prediction (and score)."""
    from sandbox.digests import file_sha256

    by_id = predictions.set_index("row_id")
    ordered = by_id.loc[[str(i) for i in scoring.row_ids]].reset_index(drop=True)
    outputs = ordered[[c for c in _OUTPUT_COLUMNS if c in ordered.columns]]
    frame = pd.concat([scoring.keys.reset_index(drop=True), outputs], axis=1)
    path.write_text(frame.to_csv(index=False, lineterminator="\n"), encoding="utf-8")
    return ScoredFile(path=path, sha256=file_sha256(path), rows=len(frame))
