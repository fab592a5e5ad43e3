"""Reading the wall's Parquet files inside the runner container: /input/train.parquet, score.

Standalone like the harness (standard library, pandas and pyarrow of the runner image; never
`sandbox`): it is copied beside the harness into the image and is part of the image's
content-addressed tag.

The host writes each column with the type it read it as (`sandbox.data.wall`), so a declared
text column such as a ZIP code ``02134`` arrives as the text it is. A model then sees the
columns it always saw:

- an integer column with missing values becomes float64 (NaN for missing), one without is
  int64 whatever its width in the file (a binary label is written as int8): the pandas
  metadata is ignored, so no nullable `Int64` reaches a model; a float column is float64;
- a column declared `category` is a pandas categorical of the values in that file;
- a column declared `date` is a datetime;
- a column with no value at all is text if declared text, else float64 of NaN;
- other text columns are pandas text (missing values NaN).

`split` and `drawn_split` divide the training rows into the fitted rows and the importance
hold-back: drawn here with scikit-learn's `train_test_split` (a spec without
`explain.fit_rows`), or sliced where the host drew it (`sandbox.data.holdout`).

`wait_for` is the harness's wait for its inputs (`--wait-for`): it loads a tabular model's
libraries first (`--preload`; an assistant's are its own), then polls for the host's go marker.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

TEXT_TYPES = ("string", "category", "date")


def read_input(
    path: Path, columns: list[str], types: dict[str, str], error: Callable[[str], Exception]
) -> Any:
    """The `columns` of one input file as a pandas frame, in that order.

    `types` are the features' declared types (spec.json); `error` makes the exception to raise
    for a missing or unreadable file (the harness's exit code 2).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # One file, read through ParquetFile: `pq.read_table` would import pyarrow.dataset,
        # about half a second of every container's start, for the same table.
        parquet = pq.ParquetFile(path)
        names = parquet.schema_arrow.names
    except FileNotFoundError as exc:
        raise error(f"{path}: missing") from exc
    except Exception as exc:
        raise error(f"{path}: cannot be read as Parquet: {exc}") from exc
    missing = [c for c in columns if c not in names]
    if missing:
        raise error(f"{path}: missing columns {missing}")
    try:
        table = parquet.read(columns=columns)
        for index, field in enumerate(table.schema):
            kind = _widened(pa, field.type, types.get(field.name))
            if kind is not None:
                table = table.set_column(index, field.name, table.column(index).cast(kind))
        frame = table.to_pandas(ignore_metadata=True)
        return _declared(frame, types)
    except Exception as exc:
        raise error(f"{path}: cannot be read as Parquet: {exc}") from exc


def _widened(pa: Any, kind: Any, declared: str | None) -> Any:
    """The type a column is read as when it is not the one pandas would infer from text."""
    if pa.types.is_null(kind):  # a column with no value at all
        return pa.string() if declared in TEXT_TYPES else pa.float64()
    if pa.types.is_integer(kind) and kind not in (pa.int64(), pa.uint64()):
        return pa.int64()
    if pa.types.is_floating(kind) and kind != pa.float64():
        return pa.float64()
    return None


def _declared(frame: Any, types: dict[str, str]) -> Any:
    """Declared categories as categoricals of the file's own values; declared dates as dates."""
    import pandas as pd

    for column, kind in types.items():
        if column not in frame.columns:
            continue
        values = frame[column]
        if kind == "category":
            if isinstance(values.dtype, pd.CategoricalDtype):
                frame[column] = values.cat.remove_unused_categories()
            else:
                frame[column] = values.astype("category")
        elif kind == "date" and not pd.api.types.is_datetime64_any_dtype(values.dtype):
            frame[column] = pd.to_datetime(values, format="ISO8601")
    return frame


def split(
    features: Any, labels: Any, fraction: float, seed: int, *, classes: bool = True
) -> tuple[Any, Any, Any, Any]:
    """Seeded split of the training rows into a fit part and a holdout part.

    Stratified on the label when it holds classes (not numbers) and every class can be split.
    """
    from sklearn.model_selection import train_test_split

    if fraction == 0.0:
        return features, features.iloc[:0], labels, labels.iloc[:0]
    counts = labels.value_counts()
    n_holdout = math.ceil(len(labels) * fraction)
    stratify = (
        labels
        if classes
        and len(counts) > 1
        and counts.min() >= 2
        and len(counts) <= n_holdout <= len(labels) - 2
        else None
    )
    parts: tuple[Any, Any, Any, Any] = tuple(
        train_test_split(features, labels, test_size=fraction, random_state=seed, stratify=stratify)
    )
    return parts


def drawn_split(
    features: Any, labels: Any, fit_rows: Any, error: Callable[[str], Exception]
) -> tuple[Any, Any, Any, Any]:
    """The hold-back the host drew: it wrote the fitted rows first, `fit_rows` of them, in
    the order `split` would return them, so slicing gives the same rows, in the same order.
    `error` makes the exception for a count outside the rows (the harness's exit code 2)."""
    if isinstance(fit_rows, bool) or not isinstance(fit_rows, int):
        raise error(f"spec.explain.fit_rows: expected a whole number, got {fit_rows!r}")
    if not 0 < fit_rows <= len(labels):
        raise error(
            f"spec.explain.fit_rows: {fit_rows} is not between 1 and the {len(labels)} "
            "training rows"
        )
    return (
        features.iloc[:fit_rows],
        features.iloc[fit_rows:],
        labels.iloc[:fit_rows],
        labels.iloc[fit_rows:],
    )


#: Loaded while the harness waits for its inputs: its own libraries, then scikit-learn's
#: common building blocks of a tabular model (library code of the image, never the pilot's).
PRELOADED = (
    "pandas",
    "pyarrow.parquet",
    "sklearn.model_selection",
    "sklearn.inspection",
    "sklearn.pipeline",
    "sklearn.compose",
    "sklearn.preprocessing",
    "sklearn.impute",
    "sklearn.linear_model",
)
#: How long a harness waits for its inputs; a host that died before the go leaves the
#: container to this limit and to the recovery that removes it.
WAIT_LIMIT_S = 3600.0
WAIT_POLL_S = 0.01


def wait_for(
    marker: Path,
    error: Callable[[str], Exception],
    *,
    preload: bool,
    limit_s: float = WAIT_LIMIT_S,
) -> None:
    """Load a tabular model's libraries (with `preload`), then wait until the host creates
    `marker` (the go: the inputs are complete and recorded); `error` makes the exception for
    a marker that never comes (the harness's exit code 2)."""
    import importlib
    import time

    for name in PRELOADED if preload else ():
        try:
            importlib.import_module(name)
        except Exception:  # noqa: S112 - the step that needs the library reports it
            continue
    deadline = time.monotonic() + limit_s
    while not marker.exists():
        if time.monotonic() > deadline:
            raise error(f"{marker} did not appear within {limit_s:.0f} s: no inputs")
        time.sleep(WAIT_POLL_S)
