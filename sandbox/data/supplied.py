"""Read only the columns a predictions-only audit needs, as compact integer codes, at scale.

`read_table` reads a whole file into pandas, which costs seconds and gigabytes at ten million
rows. An audit needs only its outcome, prediction and sensitive columns and perhaps a score
column. :func:`read_supplied` reads just those with pyarrow, a block at a time (CSV blocks of
`CSV_BLOCK_BYTES`, Parquet batches of `PARQUET_BATCH_ROWS` rows): each coded column (classes
and groups: a handful of distinct values) as one code per row, in the narrowest integer type
that holds its distinct values (:mod:`sandbox.data.coded_blocks`), with the rows of each
value counted; each number column (a regression's label and prediction, a ranking's scores)
as float64, a missing value as NaN; a score column as float64 probabilities. Memory stays
near a byte per coded cell plus eight per number or score, whatever the file's size.

The values stay exactly what `read_table` gives: the distinct values of a column are read by
`read_table`'s own parser (`parse_table`) from a small in-memory file holding each of them
once, so type inference (integers, floats, booleans, text), stripping and missing-value
markers are pandas' own. A number is Arrow's float64 parse of the text, which is pandas'
value (both round correctly; tests compare the bits); a missing value is one of
`DEFAULT_MISSING` exactly, and the column then reads as floats in pandas too, so a message
about it is the same. Whenever that equivalence cannot be shown cheaply, the answer is
None and the caller reads the file with `read_table` as before: a value holding a delimiter,
quote or line break, duplicate or unnamed columns, bytes that are not UTF-8, NUL bytes, very
long lines, rows of the wrong width, a score that is missing or outside [0, 1], a number
that is not one (text, a marker with spaces), infinite, NaN or -0.0, a Parquet column of
another type, more than `MAX_SUPPLIED_VALUES` distinct values (or `MAX_SUPPLIED_VALUE_BYTES`
of them) in a coded column.
So a refusal (and its message) is always `read_table`'s or the caller's own.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from sandbox.data.coded_blocks import BuiltCodes, Collected, collect
from sandbox.data.reader import DEFAULT_MISSING, check_table_size, parse_table, table_format
from sandbox.errors import DataError

__all__ = [
    "CSV_BLOCK_BYTES",
    "MAX_SUPPLIED_BYTES",
    "MAX_SUPPLIED_ROWS",
    "MAX_SUPPLIED_VALUES",
    "MAX_SUPPLIED_VALUE_BYTES",
    "PARQUET_BATCH_ROWS",
    "CodedColumn",
    "SuppliedColumns",
    "read_supplied",
]

#: Bounds of the columnar reading: memory grows by about a byte a coded cell and eight a
#: number or score, so these stay within a few gigabytes.
MAX_SUPPLIED_ROWS: Final = 100_000_000
MAX_SUPPLIED_BYTES: Final = 16 * 1024**3
#: Distinct values of one coded column (outcomes and groups are a handful; more is an
#: identifier, and merging block dictionaries costs a pass over the values seen so far).
MAX_SUPPLIED_VALUES: Final = 1 << 16
#: Bytes of one coded column's distinct values (each can be a long line's worth).
MAX_SUPPLIED_VALUE_BYTES: Final = 64 * 1024**2
#: How much of a file is held at once, besides the codes: a CSV block, a Parquet batch.
CSV_BLOCK_BYTES: Final = 1 << 22
# A CSV file up to this size is parsed whole, on every core (about 2x faster on 2 cores);
# a larger one block by block, so that memory stays bounded at 50M rows and more.
CSV_WHOLE_BYTES: Final = 512 * 1024**2
PARQUET_BATCH_ROWS: Final = 1 << 20
_SCAN_BLOCK: Final = 1 << 18  # a line longer than 1 MiB spans a whole block of this size
_AWKWARD: Final = (",", '"', "\n", "\r", "\x00")
_PLAIN_NUMPY: Final = frozenset(
    {"str", "object", "bool", "float32", "float64"}
    | {f"{sign}int{bits}" for sign in ("", "u") for bits in (8, 16, 32, 64)}
)


@dataclass(frozen=True, kw_only=True)
class CodedColumn:
    """One column as a code per row into its distinct values, read as `read_table` reads."""

    #: A code per row, in the narrowest signed integer type that holds them.
    codes: npt.NDArray[np.signedinteger[Any]]
    #: The distinct values (position = code), typed as the whole column would be.
    values: pd.Series
    #: Rows per code.
    counts: npt.NDArray[np.int64]

    @property
    def missing(self) -> npt.NDArray[np.bool_]:
        """Which distinct values are missing (empty cells or missing-value markers)."""
        return np.asarray(self.values.isna().to_numpy(), dtype=np.bool_)

    def missing_rows(self) -> int:
        """How many rows hold a missing value."""
        return int(self.counts[self.missing].sum())

    def first_row(self, flagged: npt.NDArray[np.bool_]) -> int | None:
        """The first row whose code is flagged (a mask over the codes), None if there is none."""
        if not flagged[: len(self.counts)][self.counts > 0].any():
            return None
        step = 1 << 20  # a slice at a time: no mask of every row
        for start in range(0, len(self.codes), step):
            hits = np.flatnonzero(flagged[self.codes[start : start + step]])
            if len(hits):
                return start + int(hits[0])
        return None


@dataclass(frozen=True, kw_only=True)
class SuppliedColumns:
    """The columns read from a supplied file: every column name, the rows, the used columns."""

    columns: tuple[str, ...]
    rows: int
    coded: Mapping[str, CodedColumn]
    #: Score columns as float64, every value finite and in [0, 1].
    scores: Mapping[str, npt.NDArray[np.float64]]
    #: Number columns as float64, every value finite or missing (NaN).
    numbers: Mapping[str, npt.NDArray[np.float64]] = field(default_factory=dict)

    def missing_rows(self, name: str) -> int:
        """How many rows of a column read hold a missing value (0 for a column not read)."""
        if name in self.coded:
            return self.coded[name].missing_rows()
        if name in self.numbers:
            return int(np.count_nonzero(np.isnan(self.numbers[name])))
        return 0


def read_supplied(
    path: Path,
    *,
    coded: Sequence[str],
    numbers: Sequence[str] = (),
    scores: Sequence[str] = (),
    block_bytes: int = CSV_BLOCK_BYTES,
    batch_rows: int = PARQUET_BATCH_ROWS,
    whole_bytes: int = CSV_WHOLE_BYTES,
) -> SuppliedColumns | None:
    """The named columns of a CSV or Parquet file, or None to read it with `read_table`.

    `coded` columns come as codes, `numbers` and `scores` as float64. Columns the file lacks
    are left out (the caller names them in its message). DataError only for a file that is
    missing, empty or beyond `MAX_SUPPLIED_BYTES`. `block_bytes` and `batch_rows` set how much
    is read at once, and a CSV file of up to `whole_bytes` is parsed whole on every core (the
    values never depend on them).
    """
    fmt = table_format(path)
    check_table_size(path, MAX_SUPPLIED_BYTES)
    roles = _Roles(tuple(dict.fromkeys(coded)), tuple(dict.fromkeys(numbers)), tuple(scores))
    if len({*roles.coded, *roles.numbers, *roles.scores}) != len(roles.every):
        return None  # a column in two roles
    try:
        if fmt == "parquet":
            return _parquet(path, roles, batch_rows)
        return _csv(path, roles, block_bytes, whole_bytes)
    except (ValueError, OSError, DataError, KeyError):  # pyarrow errors subclass these
        return None


@dataclass(frozen=True)
class _Roles:
    """The columns asked for, by how each is read."""

    coded: tuple[str, ...]
    numbers: tuple[str, ...]
    scores: tuple[str, ...]

    @property
    def every(self) -> tuple[str, ...]:
        return (*self.coded, *self.numbers, *self.scores)

    def floats(self) -> frozenset[str]:
        return frozenset((*self.numbers, *self.scores))


def _collect(
    batches: Any, found: Mapping[str, str], roles: _Roles, capacity: int
) -> Collected | None:
    """The coded, number and score columns of a stream of batches, within the bounds."""
    return collect(
        batches,
        coded={c: found[c] for c in roles.coded if c in found},
        numbers={c: found[c] for c in roles.numbers if c in found},
        scores={c: found[c] for c in roles.scores if c in found},
        max_rows=MAX_SUPPLIED_ROWS,
        max_values=MAX_SUPPLIED_VALUES,
        max_value_bytes=MAX_SUPPLIED_VALUE_BYTES,
        capacity=capacity,
    )


def _csv(path: Path, roles: _Roles, block_bytes: int, whole_bytes: int) -> SuppliedColumns | None:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    lines = _plain_text(path)
    if lines is None:
        return None
    names = tuple(parse_table(io.BytesIO(_head(path)), "csv", path=path).columns)
    with pcsv.open_csv(path) as reader:
        raw = reader.schema.names
    stripped = [name.strip() for name in raw]
    if tuple(stripped) != names or len(set(names)) != len(names):
        return None
    found = {name: raw[stripped.index(name)] for name in roles.every if name in names}
    text = pa.dictionary(pa.int32(), pa.string())
    floats = roles.floats()
    options = pcsv.ConvertOptions(
        include_columns=list(found.values()),
        column_types={found[c]: (pa.float64() if c in floats else text) for c in found},
        # the markers `read_table` reads as missing, exactly (text never becomes missing)
        null_values=list(DEFAULT_MISSING),
        strings_can_be_null=False,
    )
    read = pcsv.ReadOptions(block_size=block_bytes)
    if path.stat().st_size <= whole_bytes:
        # Parsed on every core at once; the blocks then go through the same checks.
        whole = pcsv.read_csv(path, read_options=read, convert_options=options)
        collected = _collect(whole.to_batches(), found, roles, lines)
    else:
        with pcsv.open_csv(path, read_options=read, convert_options=options) as reader:
            collected = _collect(reader, found, roles, lines)
    if collected is None or collected.rows == 0:
        return None
    columns: dict[str, CodedColumn] = {}
    for name, built in collected.codes.items():
        values = _csv_values(built.dictionary.to_pylist(), path)
        if values is None:
            return None
        columns[name] = CodedColumn(codes=built.codes, values=values, counts=built.counts)
    return SuppliedColumns(
        columns=names,
        rows=collected.rows,
        coded=columns,
        scores=collected.scores,
        numbers=collected.numbers,
    )


def _plain_text(path: Path) -> int | None:
    """The lines of a file that is UTF-8 throughout, with no NUL byte and no line near
    `read_table`'s limit (constant memory); None for any other file.

    The count bounds the data rows, so the float columns can be filled in place.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 1  # a last line without a line break counts too
    with path.open("rb") as handle:
        while block := handle.read(_SCAN_BLOCK):
            if b"\x00" in block or b"\n" not in block:
                return None
            lines += block.count(b"\n")
            try:
                decoder.decode(block)
            except UnicodeDecodeError:
                return None
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    return lines


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


def _parquet(path: Path, roles: _Roles, batch_rows: int) -> SuppliedColumns | None:
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
        found = {name: raw[name] for name in roles.every if name in names and name in raw}
        kinds = {c: _kind(c, roles) for c in found}
        if not all(_plain_type(schema, found[c], kinds[c]) for c in found):
            return None
        batches = handle.iter_batches(batch_size=batch_rows, columns=list(found.values()))
        collected = _collect(batches, found, roles, rows)
    if collected is None or collected.rows != rows:
        return None
    columns = {
        name: _parquet_column(built, schema.field(found[name]).type, path)
        for name, built in collected.codes.items()
    }
    return SuppliedColumns(
        columns=names,
        rows=rows,
        coded=columns,
        scores=collected.scores,
        numbers=collected.numbers,
    )


def _kind(name: str, roles: _Roles) -> str:
    return "score" if name in roles.scores else "number" if name in roles.numbers else "coded"


def _plain_type(schema: Any, name: str, kind_of: str) -> bool:
    """A column pandas reads as plain numpy or text values (or categories), with no surprise.

    A number column must also be plain numpy to pandas: a nullable `Int64` or `Float64`
    column prints a missing value as `<NA>`, not `nan`.
    """
    import pyarrow as pa

    kind = schema.field(name).type
    meta = {c.get("field_name"): c for c in (schema.pandas_metadata or {}).get("columns", [])}
    numpy_type = (meta.get(name) or {}).get("numpy_type")
    if kind_of != "coded":
        numeric = bool(pa.types.is_floating(kind) or pa.types.is_integer(kind))
        if kind_of == "score":
            return numeric
        return numeric and (numpy_type is None or numpy_type in _PLAIN_NUMPY)
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


def _parquet_column(built: BuiltCodes, kind: Any, path: Path) -> CodedColumn:
    """A column's codes; its distinct values read back by `read_table`'s reader."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    decoded = not pa.types.is_dictionary(kind)
    index_type = pa.int32() if decoded else kind.index_type
    count = len(built.dictionary)
    positions = [*range(count), *([None] if built.nulls else [])]
    mini = pa.DictionaryArray.from_arrays(pa.array(positions, index_type), built.dictionary)
    if decoded:
        mini = mini.dictionary_decode()
    buffer = io.BytesIO()
    pq.write_table(pa.table({"v": mini}), buffer)
    buffer.seek(0)
    values = parse_table(buffer, "parquet", path=path)["v"]
    return CodedColumn(codes=built.codes, values=values.reset_index(drop=True), counts=built.counts)
