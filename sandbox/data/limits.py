"""What a data file may cost the host, checked before pandas reads it.

A file's size on disk says little about what reading it costs: a sparse CSV of 500 MB holds one
endless line of NUL bytes, and a small Parquet file can decompress to tens of millions of rows.
So before a table is read: a CSV is scanned once in fixed-size blocks (constant memory) for NUL
bytes, its longest line and its row count; a Parquet file's footer gives its rows and columns
without decompressing anything.
"""

from __future__ import annotations

from pathlib import Path

from sandbox.errors import DataError

__all__ = [
    "MAX_LINE_BYTES",
    "MAX_TABLE_CELLS",
    "MAX_TABLE_ROWS",
    "check_csv_shape",
    "check_parquet_shape",
]

MAX_TABLE_ROWS = 5_000_000
MAX_LINE_BYTES = 1024 * 1024
MAX_TABLE_CELLS = 200_000_000  # rows x columns: about 1.6 GB as 8-byte values
_BLOCK = 1 << 20


def check_csv_shape(
    path: Path,
    *,
    max_rows: int = MAX_TABLE_ROWS,
    max_line: int = MAX_LINE_BYTES,
    encoding: str = "utf-8",
) -> int:
    """The number of lines of a text file within the bounds; DataError naming the bound if not."""
    wide = encoding.lower().replace("_", "-").startswith(("utf-16", "utf-32"))
    lines = 0
    line_length = 0
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            if not wide and b"\x00" in block:
                raise DataError(
                    f"{path}: holds NUL bytes, so it is not {encoding.upper()} text (a binary "
                    "file, or saved as UTF-16?); save it as a UTF-8 CSV or declare its encoding"
                )
            parts = block.split(b"\n")
            for part in parts[:-1]:
                if line_length + len(part) > max_line:
                    raise DataError(_long_line(path, lines + 1, max_line))
                line_length = 0
                lines += 1
            line_length += len(parts[-1])
            if line_length > max_line:
                raise DataError(_long_line(path, lines + 1, max_line))
            if lines > max_rows + 1:  # the header row is not a data row
                raise DataError(f"{path}: more than {max_rows:,} rows; split the data or sample it")
    return lines + (1 if line_length else 0)


def _long_line(path: Path, number: int, max_line: int) -> str:
    return (
        f"{path}: line {number:,} is longer than {max_line:,} bytes; "
        "check that the file is a CSV with one record per line"
    )


def check_parquet_shape(
    path: Path, *, max_rows: int = MAX_TABLE_ROWS, max_cells: int = MAX_TABLE_CELLS
) -> int:
    """The row count a Parquet file's footer declares, within the bounds; DataError if not."""
    import pyarrow.lib
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except (pyarrow.lib.ArrowException, OSError) as exc:
        raise DataError(f"{path}: not a readable Parquet file ({exc})") from None
    if meta.num_rows > max_rows:
        raise DataError(
            f"{path}: {meta.num_rows:,} rows, more than {max_rows:,}; split the data or sample it"
        )
    if meta.num_rows * meta.num_columns > max_cells:
        raise DataError(
            f"{path}: {meta.num_rows:,} rows of {meta.num_columns:,} columns, more than "
            f"{max_cells:,} values; keep only the columns the pilot uses, or sample the rows"
        )
    return int(meta.num_rows)
