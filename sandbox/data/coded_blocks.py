"""Codes of dictionary-encoded columns, built block by block in compact integers.

:mod:`sandbox.data.supplied` reads a file in blocks (CSV) or batches (Parquet), and each
block of a column arrives encoded against its own small dictionary. :class:`CodeBuilder`
merges those dictionaries into one, in order of first appearance, with Arrow's own
`unify_dictionaries` (so which values count as one, such as 0.0 and -0.0, is Arrow's, as when
the whole column is read at once), and keeps one code per row in the narrowest integer type
that holds the distinct values: a byte a row for a handful of values instead of int32
indices, and no Arrow buffer outlives its block. :func:`collect` drives the builders, the
number columns (a regression's label and prediction, a ranking's scores: float64, a missing
value as NaN) and the score columns over a stream of record batches, within bounds on rows
and distinct values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["BuiltCodes", "CodeBuilder", "Collected", "code_type", "collect"]

CodeArray = npt.NDArray[np.signedinteger[Any]]


def code_type(distinct: int) -> np.dtype[np.signedinteger[Any]]:
    """The narrowest signed integer type holding the codes 0..distinct (inclusive)."""
    for kind in (np.int8, np.int16, np.int32):
        if distinct < np.iinfo(kind).max:
            return np.dtype(kind)
    return np.dtype(np.int64)


@dataclass(frozen=True, kw_only=True)
class BuiltCodes:
    """One column read whole: a code per row into its distinct values, rows per code."""

    #: A code per row; a null is `len(dictionary)`, one past the distinct values.
    codes: CodeArray
    #: The distinct non-null values (an Arrow array), position = code.
    dictionary: Any
    #: Rows per code, nulls last when there are any (`len(dictionary) + 1` entries).
    counts: npt.NDArray[np.int64]
    nulls: int


class CodeBuilder:
    """The codes of one column, a block at a time."""

    def __init__(self) -> None:
        self._dictionary: Any = None
        self._blocks: list[CodeArray] = []
        self._counts = np.zeros(0, np.int64)
        self._nulls = 0

    @property
    def distinct(self) -> int:
        """How many distinct non-null values so far."""
        return 0 if self._dictionary is None else len(self._dictionary)

    @property
    def value_bytes(self) -> int:
        """The bytes the distinct values take so far."""
        return 0 if self._dictionary is None else int(self._dictionary.nbytes)

    def add(self, column: Any) -> None:
        """One block of the column: any Arrow array, encoded here unless it is a dictionary."""
        import pyarrow as pa

        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        if not pa.types.is_dictionary(column.type):
            column = column.dictionary_encode()
        mapping = self._merge(column.dictionary)
        indices = column.indices
        nulls = int(column.null_count)
        if nulls:  # -1 until the number of distinct values, the null's code, is known
            mapping = np.append(mapping, -1)
            indices = indices.fill_null(len(mapping) - 1)
        positions = indices.to_numpy()
        self._blocks.append(np.take(mapping.astype(code_type(self.distinct)), positions))
        counts = np.bincount(positions, minlength=len(mapping))
        if nulls:
            self._nulls += nulls
            counts = counts[:-1]
        grown = np.zeros(self.distinct, np.int64)
        grown[: len(self._counts)] = self._counts
        np.add.at(grown, mapping[: len(counts)], counts)
        self._counts = grown

    def _merge(self, dictionary: Any) -> npt.NDArray[np.int64]:
        """The global code of each entry of a block's dictionary (new values appended)."""
        import pyarrow as pa

        if self._dictionary is None or dictionary.equals(self._dictionary):
            if self._dictionary is None:
                self._dictionary = pa.concat_arrays([dictionary])  # not a view of the block
            return np.arange(len(dictionary), dtype=np.int64)
        known, block = (
            pa.DictionaryArray.from_arrays(pa.array(np.arange(len(d), dtype=np.int32)), d)
            for d in (self._dictionary, dictionary)
        )
        unified = pa.chunked_array([known, block]).unify_dictionaries()
        self._dictionary = unified.chunk(0).dictionary
        return np.asarray(unified.chunk(1).indices.to_numpy(), dtype=np.int64)

    def finish(self) -> BuiltCodes:
        """Every block's codes in one array of the narrowest type; nulls one past the values."""
        import pyarrow as pa

        count = self.distinct
        kind = code_type(count)
        codes = (
            np.concatenate(self._blocks, dtype=kind, casting="same_kind")
            if self._blocks
            else np.zeros(0, kind)
        )
        self._blocks.clear()
        if self._nulls:
            codes[codes < 0] = count
        dictionary = self._dictionary if self._dictionary is not None else pa.array([], pa.string())
        counts = np.append(self._counts, self._nulls) if self._nulls else self._counts
        return BuiltCodes(codes=codes, dictionary=dictionary, counts=counts, nulls=self._nulls)


@dataclass(frozen=True, kw_only=True)
class Collected:
    """What a stream of batches held: its rows, the coded, number and score columns."""

    rows: int
    codes: Mapping[str, BuiltCodes]
    #: Number columns as float64: every value finite, a missing one NaN.
    numbers: Mapping[str, npt.NDArray[np.float64]]
    #: Score columns as float64, every value present, finite and in [0, 1].
    scores: Mapping[str, npt.NDArray[np.float64]]


def collect(
    batches: Iterable[Any],
    *,
    coded: Mapping[str, str],
    scores: Mapping[str, str],
    numbers: Mapping[str, str] | None = None,
    max_rows: int,
    max_values: int,
    max_value_bytes: int,
    capacity: int | None = None,
) -> Collected | None:
    """Codes, numbers and scores of the named columns (name -> column in the batches), or None.

    None as soon as the rows pass `max_rows` (or `capacity`, the most rows the caller knows
    the stream can hold: the float columns are then filled in place, not joined from blocks),
    a coded column passes `max_values` distinct values or `max_value_bytes` bytes of them, a
    score is missing or outside [0, 1], or a number is infinite or NaN (rather than missing),
    or a column of whole numbers holds -0.0 (:func:`_zero_sign_unsure`): the caller then
    reads the file whole.
    """
    numbered = dict(numbers or {})
    builders = {name: CodeBuilder() for name in coded}
    floats = {name: _Floats(capacity) for name in (*scores, *numbered)}
    readers = [(name, raw, _score_block) for name, raw in scores.items()]
    readers += [(name, raw, _number_block) for name, raw in numbered.items()]
    rows = 0
    for batch in batches:
        rows += batch.num_rows
        if rows > max_rows:
            return None
        for name, raw in coded.items():
            builder = builders[name]
            builder.add(batch.column(raw))
            if builder.distinct > max_values or builder.value_bytes > max_value_bytes:
                return None
        for name, raw, read in readers:
            values = read(batch.column(raw))
            if values is None or not floats[name].add(values):
                return None
    joined = {name: column.finish() for name, column in floats.items()}
    if any(_zero_sign_unsure(joined[name]) for name in numbered):
        return None
    built = {name: builder.finish() for name, builder in builders.items()}
    return Collected(
        rows=rows,
        codes=built,
        numbers={name: joined[name] for name in numbered},
        scores={name: joined[name] for name in scores},
    )


class _Floats:
    """A float64 column a block at a time: written in place when the rows are known ahead.

    In place, the column never exists twice (blocks and their join); pages of the array that
    no row reaches are never touched, so a generous capacity costs nothing.
    """

    def __init__(self, capacity: int | None) -> None:
        self._out = None if capacity is None else np.empty(capacity, np.float64)
        self._blocks: list[npt.NDArray[np.float64]] = []
        self._rows = 0

    def add(self, values: npt.NDArray[np.float64]) -> bool:
        """Append a block; False when it would pass the capacity."""
        end = self._rows + len(values)
        if self._out is not None:
            if end > len(self._out):
                return False
            self._out[self._rows : end] = values
        else:
            self._blocks.append(values)
        self._rows = end
        return True

    def finish(self) -> npt.NDArray[np.float64]:
        if self._out is not None:
            return self._out[: self._rows]
        joined = np.concatenate(self._blocks) if self._blocks else np.zeros(0, np.float64)
        self._blocks.clear()
        return joined


def _number_block(column: Any) -> npt.NDArray[np.float64] | None:
    """One block of a number column as float64, a missing value as NaN.

    None for a value that is infinite or NaN itself: how pandas spells it in a message is
    not certain.
    """
    import pyarrow as pa

    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    # integers convert as pandas converts them (numpy's cast); nulls become NaN
    values = np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
    finite = np.isfinite(values)
    if int(np.count_nonzero(~finite)) != int(column.null_count):
        return None
    return values


def _zero_sign_unsure(values: npt.NDArray[np.float64]) -> bool:
    """Whether a -0.0 might be 0 to pandas: a column of whole numbers, none missing.

    pandas reads such a column of text as integers ("-0" is 0), any other as floats ("-0"
    is -0.0, as Arrow reads it). Whole numbers written "2.0" read as floats, so they are
    unsure too, and the file is read whole.
    """
    zeros = values == 0.0
    if not zeros.any() or not bool(np.signbit(values[zeros]).any()):
        return False
    return not bool(np.isnan(values).any()) and bool(np.array_equal(np.trunc(values), values))


def _score_block(column: Any) -> npt.NDArray[np.float64] | None:
    """One block of a score column as float64; None unless each is present and in [0, 1]."""
    if column.null_count:
        return None
    values = np.asarray(column.to_numpy(), dtype=np.float64)
    if not bool(((values >= 0.0) & (values <= 1.0)).all()):  # NaN fails both
        return None
    return values
