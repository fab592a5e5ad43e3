"""The vectorised reading of a regular predictions.csv, and of its row order.

`read_predictions` (in :mod:`sandbox.runtime.outputs`) reads a container's predictions file
line by line, naming the line and the rule of the first thing wrong. At a million rows that
costs seconds, so it first tries this module: `split_regular` accepts a file only when the
line-by-line reader provably reads it without a refusal and splits every line on commas alone
(UTF-8, no NUL, no quote character, no CR except in CRLF line ends, no blank line, every line
within the field cap, not too many rows); `string_frame` then parses the rows with pyarrow as
text columns, the same frame the line-by-line reader builds. `row_order` tells whether the row
ids are the expected ones, each exactly once, and in which order to take them (on numbers
when the expected ids are integers, as the sandbox's are).

Each function returns None for anything else; the caller then takes the line-by-line path,
so every refusal keeps its message (file, line, rule).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd

__all__ = ["RegularCsv", "row_order", "split_regular", "string_frame"]

_NEWLINE = ord("\n")


@dataclass(frozen=True)
class RegularCsv:
    """A predictions file the fast path may parse: its header fields and where rows start."""

    header: list[str]
    body_start: int
    rows: int


def split_regular(data: bytes, *, max_line_bytes: int, max_rows: int) -> RegularCsv | None:
    """The header of `data` when every line is regular (see the module docstring), else None.

    `max_line_bytes` bounds each line with its line end; bytes bound characters from above,
    so a line within it is within the same number of characters. `max_rows` is the most data
    rows the line-by-line reader accepts.
    """
    if not data or b"\x00" in data or b'"' in data:
        return None
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    crlf = b"\r" in data
    # Only CRLF line ends: a lone CR ends a line for the line-by-line reader, not for a split.
    if crlf and data.count(b"\r") != data.count(b"\r\n"):
        return None
    raw = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(raw == _NEWLINE)
    if not len(ends) or ends[-1] != len(data) - 1:
        ends = np.append(ends, len(data) - 1)  # the last line, without a line end
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts + 1
    if int(lengths.max()) > max_line_bytes:
        return None
    terminators = (raw[ends] == _NEWLINE).astype(np.int64) * (2 if crlf else 1)
    if bool((lengths - terminators <= 0).any()):
        return None  # a blank line: the line-by-line reader skips it, a split would not
    rows = len(ends) - 1
    if rows < 1 or rows > max_rows:
        return None
    first = data[: int(ends[0]) + 1].decode("utf-8")
    header = next(csv.reader([first], strict=True), None)
    if header is None:
        return None
    return RegularCsv(header=header, body_start=int(ends[0]) + 1, rows=rows)


def string_frame(data: bytes, regular: RegularCsv, columns: list[str]) -> pd.DataFrame | None:
    """The rows of `data` as text columns named `columns`, or None if pyarrow refuses them.

    Every field stays text (an empty field is "", never missing), as the line-by-line reader
    gives it; a row with another number of fields makes pyarrow refuse the file.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    try:
        table = pa_csv.read_csv(
            pa.py_buffer(data)[regular.body_start :],
            read_options=pa_csv.ReadOptions(column_names=columns),
            parse_options=pa_csv.ParseOptions(quote_char=False, newlines_in_values=False),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in columns},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    frame = table.to_pandas()
    # The line-by-line reader's frame is built with dtype=str: only that dtype is equivalent.
    text = pd.Series([], dtype=str).dtype
    if table.num_rows != regular.rows or any(dtype != text for dtype in frame.dtypes):
        return None
    return frame


def row_order(row_ids: pd.Series, expected: Sequence[object]) -> np.ndarray | None:
    """Positions that put `row_ids` (text) in the order of `expected`, or None.

    None unless `row_ids` holds every expected id, written as `str` writes it, exactly once
    and nothing else (`expected` itself holds no duplicates).
    """
    if len(row_ids) != len(expected):
        return None
    ids = np.asarray(expected)
    if np.issubdtype(ids.dtype, np.integer):
        positions = _integer_positions(row_ids, ids)
    else:
        positions = _text_positions(row_ids, [str(i) for i in expected])
    if positions is None:
        return None
    if not bool((np.bincount(positions, minlength=len(ids)) == 1).all()):
        return None
    order = np.empty(len(ids), dtype=np.intp)
    order[positions] = np.arange(len(ids), dtype=np.intp)
    return order


def _text_positions(row_ids: pd.Series, expected: list[str]) -> np.ndarray | None:
    """Where each row id is in `expected`; None if one is not there."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        found = pc.index_in(
            pa.array(row_ids, type=pa.string()), value_set=pa.array(expected, pa.string())
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if found.null_count:
        return None
    positions: np.ndarray = found.to_numpy(zero_copy_only=False).astype(np.intp)
    return positions


def _integer_positions(row_ids: pd.Series, expected: np.ndarray) -> np.ndarray | None:
    """`_text_positions` for integer ids, on numbers: each text must be the integer as `str`
    writes it ("7", never "07" or "+7"), checked by writing the parsed numbers back."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        text = pa.array(row_ids, type=pa.string())
        numbers = pc.cast(text, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return None
    if numbers.null_count or not pc.all(pc.equal(pc.cast(numbers, pa.string()), text)).as_py():
        return None
    found = numbers.to_numpy(zero_copy_only=False)
    low, high = int(expected.min()), int(expected.max())
    if high - low <= 4 * len(expected) + 1024:  # compact (as the sandbox numbers rows): a table
        if int(found.min()) < low or int(found.max()) > high:
            return None
        table = np.full(high - low + 1, -1, dtype=np.intp)
        table[expected - low] = np.arange(len(expected), dtype=np.intp)
        positions: np.ndarray = table[found - low]
    else:
        positions = pd.Index(expected).get_indexer(found).astype(np.intp)
    return None if bool((positions < 0).any()) else positions
