"""One reader for tabular files (CSV and Parquet): pilot data and predictions files alike.

Every problem becomes a `DataError` naming the file and the fix: too large, empty, not UTF-8,
malformed CSV, unreadable Parquet, or a suffix that is neither.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd

from sandbox.errors import DataError

__all__ = ["MAX_TABLE_BYTES", "TableFormat", "read_table", "table_format"]

MAX_TABLE_BYTES = 2 * 1024**3
TableFormat = Literal["csv", "parquet"]


def table_format(path: Path) -> TableFormat:
    """The format a file's suffix implies; DataError for anything but CSV or Parquet."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return "parquet"
    if suffix in (".csv", ".txt"):
        return "csv"
    raise DataError(f"{path}: use a .csv or .parquet file")


def read_table(
    path: Path,
    fmt: TableFormat | None = None,
    *,
    max_bytes: int = MAX_TABLE_BYTES,
) -> pd.DataFrame:
    """Read a whole CSV or Parquet file (format from the suffix unless given) as a frame."""
    fmt = fmt or table_format(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    if not path.is_file():
        raise DataError(f"{path}: not a regular file")
    if size > max_bytes:
        raise DataError(f"{path}: {size} bytes is larger than the {max_bytes}-byte limit")
    if size == 0:
        raise DataError(f"{path}: the file is empty; it needs a header row and data rows")
    try:
        if fmt == "parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, low_memory=False, encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: no columns found; it needs a header row") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"{path}: malformed CSV: {str(exc).strip()}") from None
    except (ValueError, OSError, ImportError) as exc:  # pyarrow raises subclasses of these
        raise DataError(f"{path}: cannot read as {fmt}: {exc}") from None
    frame.columns = [str(c) for c in frame.columns]
    return frame
