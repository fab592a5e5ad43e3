"""Codes built block by block equal the codes of the whole column, in the narrowest type."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from sandbox.data.coded_blocks import CodeBuilder, code_type, collect


def _blocks(values: list[object], size: int, kind: pa.DataType) -> list[pa.Array]:
    return [pa.array(values[i : i + size], kind) for i in range(0, len(values), size)]


@pytest.mark.parametrize("size", [1, 7, 64, 10_000])
def test_codes_name_each_rows_value_whatever_the_blocks(size: int) -> None:
    rng = np.random.default_rng(3)
    # 300 distinct values, most appearing only in late blocks: the type widens to int16
    values: list[object] = [f"v{int(i)}" for i in np.sort(rng.integers(0, 300, 2_000))]
    values[5] = None
    builder = CodeBuilder()
    for block in _blocks(values, size, pa.string()):
        builder.add(block)
    built = builder.finish()
    assert built.codes.dtype == np.int16
    assert built.nulls == 1 and built.codes[5] == len(built.dictionary)
    decoded = [*built.dictionary.to_pylist(), None]
    assert [decoded[c] for c in built.codes] == values
    assert built.dictionary.to_pylist() == list(dict.fromkeys(v for v in values if v))
    assert built.counts.tolist() == [values.count(v) for v in decoded]


def test_dictionary_blocks_merge_as_arrow_unifies_them() -> None:
    first = pa.DictionaryArray.from_arrays(pa.array([0, 1, 1], pa.int8()), ["b", "a"])
    second = pa.DictionaryArray.from_arrays(pa.array([1, 0, None], pa.int8()), ["c", "a"])
    builder = CodeBuilder()
    builder.add(first)
    builder.add(second)
    built = builder.finish()
    whole = pa.chunked_array([first, second]).unify_dictionaries()
    assert built.dictionary.equals(whole.chunk(0).dictionary)
    assert built.codes.dtype == np.int8
    assert built.codes.tolist() == [0, 1, 1, 1, 2, 3]
    assert built.counts.tolist() == [1, 3, 1, 1]


def test_floats_keep_arrows_distinctions() -> None:
    builder = CodeBuilder()
    for block in _blocks([0.0, 1.0, -0.0, 0.0, 1.0], 2, pa.float64()):
        builder.add(block)
    built = builder.finish()
    assert [str(v) for v in built.dictionary.to_pylist()] == ["0.0", "1.0", "-0.0"]
    assert built.codes.tolist() == [0, 1, 2, 0, 1]


def test_code_type_leaves_room_for_the_missing_code() -> None:
    assert code_type(0) == np.int8 and code_type(126) == np.int8
    assert code_type(127) == np.int16 and code_type(40_000) == np.int32


def _batches(rows: int, size: int) -> list[pa.RecordBatch]:
    label = pa.array([str(i % 2) for i in range(rows)])
    score = pa.array([(i % 10) / 10 for i in range(rows)])
    table = pa.table({"y": label, "s": score})
    return list(table.to_batches(max_chunksize=size))


def test_collect_stops_at_the_bounds() -> None:
    batches = _batches(100, 10)
    bounds = {"max_rows": 100, "max_values": 2, "max_value_bytes": 64}
    kept = collect(batches, coded={"y": "y"}, scores={"s": "s"}, **bounds)
    assert kept is not None and kept.rows == 100
    assert kept.scores["s"].tolist() == [(i % 10) / 10 for i in range(100)]
    for tighter in ({"max_rows": 99}, {"max_values": 1}, {"max_value_bytes": 1}):
        assert collect(batches, coded={"y": "y"}, scores={}, **(bounds | tighter)) is None


@pytest.mark.parametrize("bad", [None, 1.5, -0.1, float("nan")])
def test_collect_refuses_a_late_score_that_is_not_a_probability(bad: float | None) -> None:
    batches = _batches(100, 10)
    late = pa.table({"y": ["1"], "s": pa.array([bad], pa.float64())}).to_batches()
    found = collect(
        [*batches, *late],
        coded={"y": "y"},
        scores={"s": "s"},
        max_rows=1000,
        max_values=9,
        max_value_bytes=1024,
    )
    assert found is None
