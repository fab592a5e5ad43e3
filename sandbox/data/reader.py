"""One reader for tabular files (CSV and Parquet): pilot data and predictions files alike.

How to read a file is declared, not guessed: `ReadOptions` says whether a CSV file has a header
row, which markers mean a missing value, its encoding and the type of each column. The defaults
read a file as the sandbox always has (a header row, pandas' missing-value markers, UTF-8,
inferred types). Whatever the options, every text value and column name is stripped of
surrounding spaces, and a value left empty by that is missing.

Every problem becomes a `DataError` naming the file and the fix: too large, empty, not in its
encoding, malformed CSV, unreadable Parquet, a value that does not fit its declared type, or a
suffix that is neither CSV nor Parquet. Sizes are checked before anything is read.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from io import RawIOBase
from pathlib import Path
from typing import IO, Any, Literal, get_args

import numpy as np
import pandas as pd
import pyarrow as pa

from sandbox.data.limits import check_csv_shape, check_parquet_shape
from sandbox.errors import DataError

__all__ = [
    "DEFAULT_MISSING",
    "MAX_TABLE_BYTES",
    "ColumnType",
    "ReadOptions",
    "TableFormat",
    "check_table_size",
    "may_need_strip",
    "parse_table",
    "read_table",
    "stripped",
    "table_format",
]

MAX_TABLE_BYTES = 1024**3
TableFormat = Literal["csv", "parquet"]
#: The types a column can be declared as; a text type keeps values such as ZIP code 02134 as
#: they are written, where inference would turn them into the number 2134.
ColumnType = Literal["string", "integer", "float", "category", "date"]
COLUMN_TYPES: tuple[str, ...] = get_args(ColumnType)
#: pandas' own default markers, named here so that the same set is matched after stripping.
DEFAULT_MISSING: tuple[str, ...] = (
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class ReadOptions:
    """How to read one file: header row, missing-value markers, encoding, column types.

    `names` names the columns of a file without a header row; `missing` of None keeps pandas'
    default markers (`DEFAULT_MISSING`: empty, NA, N/A, NaN, null, ...), a tuple replaces
    them; `where` names the manifest field that declared the options, for messages.
    """

    header: bool = True
    names: tuple[str, ...] = ()
    missing: tuple[str, ...] | None = None
    encoding: str = "utf-8"
    types: Mapping[str, ColumnType] = field(default_factory=dict)
    where: str = ""


def table_format(path: Path) -> TableFormat:
    """The format a file's suffix implies; DataError for anything but CSV or Parquet."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return "parquet"
    if suffix in (".csv", ".txt"):
        return "csv"
    raise DataError(f"{path}: use a .csv or .parquet file")


def check_table_size(path: Path, max_bytes: int = MAX_TABLE_BYTES) -> int:
    """The size of a regular, non-empty file no larger than `max_bytes`; DataError otherwise."""
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
    return size


def read_table(
    path: Path,
    fmt: TableFormat | None = None,
    *,
    options: ReadOptions | None = None,
    max_bytes: int = MAX_TABLE_BYTES,
) -> pd.DataFrame:
    """Read a whole CSV or Parquet file (format from the suffix unless given) as a frame."""
    fmt = fmt or table_format(path)
    opts = options or ReadOptions()
    check_table_size(path, max_bytes)
    if fmt == "parquet":
        check_parquet_shape(path)
    else:
        check_csv_shape(path, encoding=opts.encoding)
    return parse_table(path, fmt, options=opts, path=path)


def parse_table(
    source: Path | IO[bytes] | RawIOBase,
    fmt: TableFormat,
    *,
    options: ReadOptions | None = None,
    path: Path,
) -> pd.DataFrame:
    """Read a file or an in-memory copy of one exactly as `read_table` does, without its size
    checks (the caller bounds what it reads); messages name `path`."""
    opts = options or ReadOptions()
    try:
        frame = pd.read_parquet(source) if fmt == "parquet" else _read_csv(source, opts)
    except UnicodeDecodeError as exc:
        encoding = opts.encoding.upper()
        declare = f", or declare its encoding in {opts.where}.encoding" if opts.where else ""
        raise DataError(
            f"{path}: not {encoding} text (byte {exc.start}); save it as {encoding}{declare}"
        ) from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: no columns found; it needs a header row") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"{path}: malformed CSV: {str(exc).strip()}") from None
    except (ValueError, OSError, ImportError) as exc:  # pyarrow raises subclasses of these
        raise DataError(f"{path}: cannot read as {fmt}: {exc}") from None
    if fmt == "csv" and not opts.header:
        frame = _name_columns(frame, opts, path)
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = _strip_and_mark(frame, opts, parsed=fmt == "csv")
    return _apply_types(frame, opts, path)


def _read_csv(source: Path | IO[bytes] | RawIOBase, opts: ReadOptions) -> pd.DataFrame:
    # Declared columns are read as text and converted afterwards, so a value that does not
    # fit its type is named in the message instead of silently becoming text or a number.
    typed: dict[Any, type[str]] = (
        dict.fromkeys(opts.types, str)
        if opts.header
        else {i: str for i, name in enumerate(opts.names) if name in opts.types}
    )
    options: dict[str, Any] = {
        "encoding": opts.encoding,
        "header": 0 if opts.header else None,
        "dtype": typed or None,
        "skipinitialspace": True,
        "keep_default_na": False,
        "na_values": list(_markers(opts)),
    }
    if isinstance(source, Path):
        frame = _read_csv_file(source, options)
        if frame is not None:
            return frame
    # Each column's type is inferred from all of its values (`low_memory=False`).
    return pd.read_csv(source, low_memory=False, **options)


def _read_csv_file(path: Path, options: dict[str, Any]) -> pd.DataFrame | None:
    """A file read by path, which pandas parses on every core, or None to read it whole.

    pandas (3.1 and later) splits a large file into byte ranges parsed on threads and joins
    them as a whole-column read would, or reads it serially in row chunks when the ranges
    disagree. A chunked read can differ from a whole one only where two chunks inferred
    different types: pandas warns of mixed types, except for integer and float chunks, which
    it joins as floats. Those equal the whole column's floats below 2**53; a column with a
    larger value (perhaps uint64 read whole, or rounded differently) is read again whole.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.DtypeWarning)
        try:
            frame = pd.read_csv(path, **options)
        except pd.errors.DtypeWarning:
            return None
    floats = [i for i, dtype in enumerate(frame.dtypes) if dtype == np.float64]
    return None if any(_beyond_exact_floats(frame.iloc[:, i]) for i in floats) else frame


def _beyond_exact_floats(column: pd.Series) -> bool:
    """Whether a float column holds a value of 2**53 or more, where floats skip integers."""
    return bool((np.abs(column.to_numpy()) >= 2.0**53).any())


def _markers(opts: ReadOptions) -> frozenset[str]:
    return frozenset({"", *(DEFAULT_MISSING if opts.missing is None else opts.missing)})


def _name_columns(frame: pd.DataFrame, opts: ReadOptions, path: Path) -> pd.DataFrame:
    if len(opts.names) != frame.shape[1]:
        raise DataError(
            f"{path}: {frame.shape[1]} columns in each row, but {opts.where}.columns names "
            f"{len(opts.names)}; name every column of the file, in order"
        )
    frame.columns = list(opts.names)
    return frame


def _strip_and_mark(frame: pd.DataFrame, opts: ReadOptions, *, parsed: bool) -> pd.DataFrame:
    """Strip text values; a value that is empty, or a marker, once stripped, is missing.

    `parsed` says the CSV parser has already made every marker missing: a column with no
    value to strip is then left as it is.
    """
    markers = _markers(opts)
    for name in frame.columns:
        column = frame[name]
        if isinstance(column.dtype, pd.StringDtype):
            if parsed and not may_need_strip(column):
                continue
            text = column.str.strip()
        elif column.dtype == object:  # mixed values (e.g. from Parquet): strip the text ones
            text = column.map(lambda v: v.strip() if isinstance(v, str) else v)
        else:
            continue
        frame[name] = text.mask(text.isin(markers))
    return frame


#: Bytes a value that strip() changes can start or end with: ASCII whitespace (as Python and
#: pyarrow define it) and any byte of a multi-byte character, which may be a Unicode space.
_STRIPPABLE = np.zeros(256, dtype=bool)
_STRIPPABLE[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
_STRIPPABLE[0x80:] = True


def stripped(text: pd.Series) -> pd.Series:
    """A text column with surrounding whitespace removed, unchanged when there is none."""
    return text.str.strip() if may_need_strip(text) else text


def may_need_strip(column: pd.Series) -> bool:
    """Whether any value of an Arrow-backed text column may start or end with whitespace.

    Looks at two bytes per value instead of rewriting every value: at 1M rows a column is
    checked in milliseconds where stripping it takes about 0.1 s. True when unsure.
    """
    chunked = getattr(column.array, "_pa_array", None)
    if not isinstance(chunked, pa.ChunkedArray):
        return True
    for chunk in chunked.chunks:
        if chunk.type not in (pa.string(), pa.large_string()):
            return True
        _, offsets_buffer, data_buffer = chunk.buffers()
        if data_buffer is None or offsets_buffer is None:
            continue
        width = np.int64 if chunk.type == pa.large_string() else np.int32
        window = slice(chunk.offset, chunk.offset + len(chunk) + 1)
        offsets = np.frombuffer(offsets_buffer, dtype=width)[window]
        low, high = int(offsets[0]), int(offsets[-1])
        if high == low:
            continue  # every value empty or missing
        data = np.frombuffer(data_buffer, dtype=np.uint8)[low:high]
        # No mask of the empty values: the "first" byte of an empty value is the next value's
        # first (or the last value's last), its "last" the previous value's last (or the first
        # value's first), bytes that are checked anyway.
        firsts = data[np.minimum(offsets[:-1] - low, high - low - 1)]
        lasts = data[np.maximum(offsets[1:] - (low + 1), 0)]
        if _STRIPPABLE[firsts].any() or _STRIPPABLE[lasts].any():
            return True
    return False


def _apply_types(frame: pd.DataFrame, opts: ReadOptions, path: Path) -> pd.DataFrame:
    for name, kind in opts.types.items():
        if name not in frame.columns:
            raise DataError(
                f"{path}: {opts.where}.types: column {name!r} is not in the file; "
                "fix the name or remove it"
            )
        frame[name] = _converted(frame[name], kind, name=name, path=path, where=opts.where)
    return frame


def _converted(
    values: pd.Series, kind: ColumnType, *, name: str, path: Path, where: str
) -> pd.Series:
    present = values.notna()
    if kind in ("string", "category"):
        text = values.map(lambda v: v if isinstance(v, str) or pd.isna(v) else str(v))
        return text.astype("category") if kind == "category" else text.astype(object)
    converted: Any
    if kind == "date":
        converted = pd.to_datetime(values, errors="coerce", format="ISO8601")
        expected = "a date (YYYY-MM-DD)"
    else:
        converted = pd.to_numeric(values, errors="coerce")
        expected = "an integer" if kind == "integer" else "a number"
        if kind == "integer":
            whole = converted.isna() | (converted == converted.round())
            converted = converted.where(whole)
    bad = present & converted.isna()
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise DataError(
            f"{path}: column {name!r} is declared {kind} in {where}.types, but data row "
            f"{row + 1} holds {values.iloc[row]!r}, not {expected}; fix the value, declare it "
            f"a missing-value marker in {where}.missing, or change the type"
        )
    if kind == "integer":
        return converted.astype("Int64")
    if kind == "float":
        return converted.astype("float64")
    return pd.Series(converted, index=values.index)
