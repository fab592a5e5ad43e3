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
    "CsvShape",
    "check_csv_shape",
    "check_parquet_shape",
]

MAX_TABLE_ROWS = 5_000_000
MAX_LINE_BYTES = 1024 * 1024
MAX_TABLE_CELLS = 200_000_000  # rows x columns: about 1.6 GB as 8-byte values
_BLOCK = 1 << 20


class CsvShape:
    """The bounds of a text file checked block by block, as it is read (constant memory).

    `feed` each block in order; a DataError names the bound as soon as a block breaks it, so
    whoever reads the file (a scan, or pandas through `sandbox.data.hashed`) stops there.
    """

    def __init__(
        self,
        path: Path,
        *,
        max_rows: int = MAX_TABLE_ROWS,
        max_line: int = MAX_LINE_BYTES,
        encoding: str = "utf-8",
    ) -> None:
        self.path = path
        self.max_rows = max_rows
        self.max_line = max_line
        self.encoding = encoding
        self.wide = encoding.lower().replace("_", "-").startswith(("utf-16", "utf-32"))
        self.lines = 0  # complete lines so far
        self.carry = 0  # bytes of the line not yet ended

    def feed(self, block: bytes) -> None:
        """Check the next block of the file."""
        if not self.wide and b"\x00" in block:
            raise DataError(
                f"{self.path}: holds NUL bytes, so it is not {self.encoding.upper()} text (a "
                "binary file, or saved as UTF-16?); save it as a UTF-8 CSV or declare its encoding"
            )
        count = block.count(b"\n")
        if count == 0:
            self.carry += len(block)
            if self.carry > self.max_line:
                raise DataError(_long_line(self.path, self.lines + 1, self.max_line))
            return
        if self.carry + block.find(b"\n") > self.max_line:
            raise DataError(_long_line(self.path, self.lines + 1, self.max_line))
        if len(block) > self.max_line:  # only then can a line inside the block be too long
            for number, part in enumerate(block.split(b"\n")[1:-1], start=self.lines + 2):
                if len(part) > self.max_line:
                    raise DataError(_long_line(self.path, number, self.max_line))
        self.lines += count
        self.carry = len(block) - block.rfind(b"\n") - 1
        if self.carry > self.max_line:
            raise DataError(_long_line(self.path, self.lines + 1, self.max_line))
        if self.lines > self.max_rows + 1:  # the header row is not a data row
            raise DataError(
                f"{self.path}: more than {self.max_rows:,} rows; split the data or sample it"
            )

    @property
    def total_lines(self) -> int:
        """The lines fed so far, a last one without a line break included."""
        return self.lines + (1 if self.carry else 0)


def check_csv_shape(
    path: Path,
    *,
    max_rows: int = MAX_TABLE_ROWS,
    max_line: int = MAX_LINE_BYTES,
    encoding: str = "utf-8",
) -> int:
    """The number of lines of a text file within the bounds; DataError naming the bound if not."""
    shape = CsvShape(path, max_rows=max_rows, max_line=max_line, encoding=encoding)
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            shape.feed(block)
    return shape.total_lines


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
