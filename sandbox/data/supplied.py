"""Read only the columns a predictions-only audit needs, as integer codes, at scale.

`read_table` reads a whole file into pandas, which costs seconds and gigabytes at ten million
rows. An audit needs only its outcome, prediction and sensitive columns (each a handful of
distinct values) and perhaps a score column. :func:`read_supplied` reads just those with
pyarrow (CSV or Parquet): each coded column as one integer code per row into its distinct
values, and a score column as float64 numbers.

The values stay exactly what `read_table` gives: the distinct values of a column are read by
`read_table`'s own parser (`parse_table`) from a small in-memory file holding each of them
once, so type inference (integers, floats, booleans, text), stripping and missing-value
markers are pandas' own. Whenever that equivalence cannot be shown cheaply, the answer is
None and the caller reads the file with `read_table` as before: a value holding a delimiter,
quote or line break, duplicate or unnamed columns, bytes that are not UTF-8, NUL bytes, very
long lines, rows of the wrong width, a score that is missing or outside [0, 1], a Parquet
column of another type. So a refusal (and its message) is always `read_table`'s.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from sandbox.data.reader import check_table_size, parse_table, table_format
from sandbox.errors import DataError

__all__ = [
    "MAX_SUPPLIED_BYTES",
    "MAX_SUPPLIED_ROWS",
    "CodedColumn",
    "SuppliedColumns",
    "read_supplied",
]

#: Bounds of the columnar reading: memory grows by about 10 bytes a row (codes of the used
#: columns, a float64 score), so these stay within a few gigabytes.
MAX_SUPPLIED_ROWS: Final = 100_000_000
MAX_SUPPLIED_BYTES: Final = 16 * 1024**3
_SCAN_BLOCK: Final = 1 << 18  # a line longer than 1 MiB spans a whole block of this size
_AWKWARD: Final = (",", '"', "\n", "\r", "\x00")
_PLAIN_NUMPY: Final = frozenset(
    {"str", "object", "bool", "float32", "float64"}
    | {f"{sign}int{bits}" for sign in ("", "u") for bits in (8, 16, 32, 64)}
)


@dataclass(frozen=True, kw_only=True)
class CodedColumn:
    """One column as a code per row into its distinct values, read as `read_table` reads."""

    codes: npt.NDArray[np.int32]
    #: The distinct values (position = code), typed as the whole column would be.
    values: pd.Series

    @property
    def missing(self) -> npt.NDArray[np.bool_]:
        """Which distinct values are missing (empty cells or missing-value markers)."""
        return np.asarray(self.values.isna().to_numpy(), dtype=np.bool_)

    def missing_rows(self) -> int:
        """How many rows hold a missing value."""
        counts = np.bincount(self.codes, minlength=len(self.values))
        return int(counts[self.missing].sum())


@dataclass(frozen=True, kw_only=True)
class SuppliedColumns:
    """The columns read from a supplied file: every column name, the rows, the used columns."""

    columns: tuple[str, ...]
    rows: int
    coded: Mapping[str, CodedColumn]
    #: Score columns as float64, every value finite and in [0, 1].
    scores: Mapping[str, npt.NDArray[np.float64]]


def read_supplied(
    path: Path, *, coded: Sequence[str], scores: Sequence[str] = ()
) -> SuppliedColumns | None:
    """The named columns of a CSV or Parquet file, or None to read it with `read_table`.

    Columns the file lacks are left out (the caller names them in its message). DataError
    only for a file that is missing, empty or beyond `MAX_SUPPLIED_BYTES`.
    """
    fmt = table_format(path)
    check_table_size(path, MAX_SUPPLIED_BYTES)
    if set(coded) & set(scores):
        return None
    try:
        if fmt == "parquet":
            return _parquet(path, coded, scores)
        return _csv(path, coded, scores)
    except (ValueError, OSError, DataError, KeyError):  # pyarrow errors subclass these
        return None


def _csv(path: Path, coded: Sequence[str], scores: Sequence[str]) -> SuppliedColumns | None:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    if not _plain_text(path):
        return None
    names = tuple(parse_table(io.BytesIO(_head(path)), "csv", path=path).columns)
    with pcsv.open_csv(path) as reader:
        raw = reader.schema.names
    stripped = [name.strip() for name in raw]
    if tuple(stripped) != names or len(set(names)) != len(names):
        return None
    found = {name: raw[stripped.index(name)] for name in (*coded, *scores) if name in names}
    text = pa.dictionary(pa.int32(), pa.string())
    table = pcsv.read_csv(
        path,
        read_options=pcsv.ReadOptions(block_size=1 << 22),
        convert_options=pcsv.ConvertOptions(
            include_columns=list(found.values()),
            column_types={found[c]: (pa.float64() if c in scores else text) for c in found},
            strings_can_be_null=False,
        ),
    ).unify_dictionaries()
    if table.num_rows == 0 or table.num_rows > MAX_SUPPLIED_ROWS:
        return None
    columns: dict[str, CodedColumn] = {}
    for name in coded:
        if name in found:
            column = table.column(found[name])
            distinct = column.chunk(0).dictionary.to_pylist() if column.num_chunks else []
            values = _csv_values(distinct, path)
            if values is None:
                return None
            columns[name] = CodedColumn(codes=_indices(column), values=values)
    numbers = _scores(table, {c: found[c] for c in scores if c in found})
    if numbers is None:
        return None
    return SuppliedColumns(columns=names, rows=table.num_rows, coded=columns, scores=numbers)


def _plain_text(path: Path) -> bool:
    """UTF-8 throughout, no NUL byte, no line near `read_table`'s limit (constant memory)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        while block := handle.read(_SCAN_BLOCK):
            if b"\x00" in block or b"\n" not in block:
                return False
            try:
                decoder.decode(block)
            except UnicodeDecodeError:
                return False
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _head(path: Path) -> bytes:
    """The header line of a CSV file (the scan saw a line break in its first block)."""
    with path.open("rb") as handle:
        return handle.read(_SCAN_BLOCK).split(b"\n", 1)[0] + b"\n"


def _csv_values(distinct: list[str], path: Path) -> pd.Series | None:
    """Each distinct text read by `read_table`'s parser, as the whole column would be."""
    if any(any(mark in value for mark in _AWKWARD) for value in distinct):
        return None
    # a second column keeps an empty value from being a blank line, which pandas skips
    body = "v,_\n" + "".join(f"{value},0\n" for value in distinct)
    values = parse_table(io.BytesIO(body.encode()), "csv", path=path)["v"]
    return values if len(values) == len(distinct) else None


def _indices(column: Any) -> npt.NDArray[np.int32]:
    """The codes of a dictionary column whose chunks share one dictionary."""
    parts = [
        (chunk.indices.fill_null(0) if chunk.null_count else chunk.indices).to_numpy()
        for chunk in column.chunks
    ]
    return np.concatenate(parts).astype(np.int32, copy=False) if parts else np.zeros(0, np.int32)


def _scores(table: Any, found: Mapping[str, str]) -> dict[str, npt.NDArray[np.float64]] | None:
    """Score columns as float64; None unless every value is present, finite and in [0, 1]."""
    out: dict[str, npt.NDArray[np.float64]] = {}
    for name, raw in found.items():
        column = table.column(raw)
        if column.null_count:
            return None
        values = np.asarray(column.to_numpy(), dtype=np.float64)
        if not bool(((values >= 0.0) & (values <= 1.0)).all()):  # NaN fails both
            return None
        out[name] = values
    return out


def _parquet(path: Path, coded: Sequence[str], scores: Sequence[str]) -> SuppliedColumns | None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as handle:
        schema = handle.schema_arrow
        rows = handle.metadata.num_rows
    if rows == 0 or rows > MAX_SUPPLIED_ROWS:
        return None
    names = tuple(str(c).strip() for c in schema.empty_table().to_pandas().columns)
    if len(set(names)) != len(names):
        return None
    raw = {str(f).strip(): f for f in schema.names}
    found = {name: raw[name] for name in (*coded, *scores) if name in names and name in raw}
    if not all(_plain_type(schema, found[c], c in scores) for c in found):
        return None
    table = pq.read_table(path, columns=list(found.values()))
    columns: dict[str, CodedColumn] = {}
    for name in coded:
        if name in found:
            column = table.column(found[name])
            decoded = not pa.types.is_dictionary(column.type)
            if decoded:
                column = column.dictionary_encode()
            column = pa.table({"v": column}).unify_dictionaries().column("v")
            columns[name] = _parquet_column(column, path, decoded=decoded)
    numbers = _scores(table, {c: found[c] for c in scores if c in found})
    if numbers is None:
        return None
    return SuppliedColumns(columns=names, rows=rows, coded=columns, scores=numbers)


def _plain_type(schema: Any, name: str, score: bool) -> bool:
    """A column pandas reads as plain numpy or text values (or categories), with no surprise."""
    import pyarrow as pa

    kind = schema.field(name).type
    if score:
        return bool(pa.types.is_floating(kind) or pa.types.is_integer(kind))
    meta = {c.get("field_name"): c for c in (schema.pandas_metadata or {}).get("columns", [])}
    numpy_type = (meta.get(name) or {}).get("numpy_type")
    if pa.types.is_dictionary(kind):
        return bool(
            pa.types.is_string(kind.value_type) or pa.types.is_large_string(kind.value_type)
        )
    plain = (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
    )
    return bool(plain) and (numpy_type is None or numpy_type in _PLAIN_NUMPY)


def _parquet_column(column: Any, path: Path, *, decoded: bool) -> CodedColumn:
    """Codes of a dictionary column; its distinct values read back by `read_table`'s reader."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    dictionary = column.chunk(0).dictionary if column.num_chunks else pa.array([], pa.string())
    count = len(dictionary)
    positions = [*range(count), *([None] if column.null_count else [])]
    mini = pa.DictionaryArray.from_arrays(pa.array(positions, column.type.index_type), dictionary)
    if decoded:
        mini = mini.dictionary_decode()
    buffer = io.BytesIO()
    pq.write_table(pa.table({"v": mini}), buffer)
    buffer.seek(0)
    values = parse_table(buffer, "parquet", path=path)["v"]
    codes = _indices(column)
    if column.null_count:
        nulls = [chunk.is_null().to_numpy(zero_copy_only=False) for chunk in column.chunks]
        codes[np.concatenate(nulls)] = count
    return CodedColumn(codes=codes, values=values.reset_index(drop=True))
