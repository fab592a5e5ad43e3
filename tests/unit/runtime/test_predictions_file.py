"""read_predictions' vectorised path against the line-by-line reader it falls back to.

`_reference` is read_predictions as it reads every file line by line (`_read_csv`, the
reference reader, then the row-id checks and `loc` ordering). Over many seeded files, valid
and hostile, for every task type with a predictions table, both must give the same frame
(values, dtypes, column order, index) or the same refusal, word for word.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sandbox.errors import OutputRejected
from sandbox.runtime import outputs
from sandbox.runtime.outputs import EXTRA_ROWS, MAX_FIELD_CHARS, read_predictions
from sandbox.runtime.predictions_file import row_order, split_regular, string_frame
from sandbox.tasks import get_task

TASKS = ("binary_classification", "multiclass_classification", "regression", "ranking")


def _reference(
    path: Path, *, expected_row_ids: Sequence[object], task: str, max_bytes: int
) -> pd.DataFrame:
    schema = get_task(task)
    expected = [str(row_id) for row_id in expected_row_ids]
    expected_set = set(expected)
    outputs._check_size(path, max_bytes)
    columns, rows = outputs._read_csv(
        path, allowed=schema.predictions.allowed, max_rows=len(expected)
    )
    for required in schema.predictions.required:
        if required not in columns:
            raise OutputRejected(f"{path.name}: missing column {required!r}")
    frame = outputs._frame(rows, columns)
    row_ids = frame["row_id"]
    duplicated = row_ids[row_ids.duplicated()].unique().tolist()
    if duplicated:
        shown = outputs._shown(duplicated[:5])
        raise OutputRejected(f"{path.name}: duplicate row_id values, e.g. {shown}")
    got = set(row_ids)
    unexpected = sorted(got - expected_set)
    missing = sorted(expected_set - got)
    if unexpected or missing:
        raise OutputRejected(
            f"{path.name}: row ids differ from the score set: {len(missing)} missing "
            f"(e.g. {outputs._shown(missing[:5])}), {len(unexpected)} unexpected "
            f"(e.g. {outputs._shown(unexpected[:5])})"
        )
    try:
        result = schema.parse_predictions(frame, source=path.name)
    except (ValueError, TypeError, OverflowError) as exc:
        raise OutputRejected(
            f"{path.name}: unreadable values ({outputs._shown(str(exc))})"
        ) from exc
    return result.set_index("row_id").loc[expected].reset_index()


def _outcome(read: Callable[[], pd.DataFrame]) -> pd.DataFrame | str:
    try:
        return read()
    except OutputRejected as exc:
        return f"rejected: {exc}"


def _assert_same(path: Path, ids: Sequence[object], task: str, max_bytes: int = 1 << 20) -> None:
    new = _outcome(
        lambda: read_predictions(path, expected_row_ids=ids, task=task, max_bytes=max_bytes)
    )
    old = _outcome(lambda: _reference(path, expected_row_ids=ids, task=task, max_bytes=max_bytes))
    if isinstance(old, str) or isinstance(new, str):
        assert new == old
        return
    pd.testing.assert_frame_equal(new, old, check_exact=True, check_index_type=True)
    assert list(new.dtypes) == list(old.dtypes)
    assert type(new.index) is type(old.index)


# --- generated files -----------------------------------------------------------------------


def _value(task: str, rng: random.Random) -> str:
    if task == "binary_classification":
        return rng.choice("01")
    if task == "multiclass_classification":
        return rng.choice(["parks", "roads", " water ", "Roads", "é"])
    return rng.choice([f"{rng.uniform(-50, 50):.6g}", str(rng.randint(-9, 9)), "1e3", "-0.0"])


def _rows(task: str, ids: list[str], rng: random.Random, score: bool) -> list[list[str]]:
    rows = [[row_id, _value(task, rng)] for row_id in ids]
    if score:
        for row in rows:
            row.append(rng.choice([f"{rng.random():.17g}", "0", "1", "0.5", "1.0", "1e-3"]))
    rng.shuffle(rows)
    return rows


def _mutate(text_rows: list[list[str]], header: list[str], kind: str, rng: random.Random) -> None:
    """Change the rows or header in place by one hostile `kind`."""
    pick = rng.randrange(len(text_rows)) if text_rows else 0
    field = 1 if len(header) == 2 else rng.choice([1, 2])
    edits: dict[str, Callable[[], None]] = {
        "extra-column": lambda: (header.append("secret"), [r.append("x") for r in text_rows]),
        "duplicate-id": lambda: text_rows.append(list(text_rows[pick])),
        "missing-id": lambda: text_rows.pop(pick),
        "unexpected-id": lambda: text_rows.append(["zz-unknown", *text_rows[pick][1:]]),
        "value-nan": lambda: text_rows[pick].__setitem__(field, "nan"),
        "value-inf": lambda: text_rows[pick].__setitem__(field, rng.choice(["inf", "-inf"])),
        "value-out": lambda: text_rows[pick].__setitem__(field, rng.choice(["1.5", "-0.1", "2"])),
        "value-text": lambda: text_rows[pick].__setitem__(field, rng.choice(["high", "yes"])),
        "value-empty": lambda: text_rows[pick].__setitem__(field, ""),
        "value-spaces": lambda: text_rows[pick].__setitem__(field, " 1 "),
        "quoted": lambda: text_rows[pick].__setitem__(0, f'"{text_rows[pick][0]}"'),
        "quoted-comma": lambda: text_rows[pick].__setitem__(0, '"a,b"'),
        "bad-quote": lambda: text_rows[pick].__setitem__(0, 'a"b'),
        "nul": lambda: text_rows[pick].__setitem__(field, "0\x00"),
        "too-few-fields": lambda: text_rows[pick].pop(),
        "too-many-fields": lambda: text_rows[pick].append("1"),
        "trailing-comma": lambda: text_rows[pick].__setitem__(-1, text_rows[pick][-1] + ","),
        "long-field": lambda: text_rows[pick].__setitem__(0, "x" * (MAX_FIELD_CHARS + 1)),
        "long-line-ok-fields": lambda: text_rows[pick].__setitem__(
            0, text_rows[pick][0] + " " * (MAX_FIELD_CHARS - 10)
        ),
        "huge-line": lambda: text_rows[pick].__setitem__(0, "y" * 20_000),
        "header-duplicate": lambda: header.__setitem__(0, header[1]),
        "header-missing": lambda: (header.pop(), [r.pop() for r in text_rows]),
        "header-long": lambda: header.__setitem__(-1, "c" * 70),
        "unicode-id": lambda: text_rows[pick].__setitem__(
            0, "\u00e9\u2028\u0085" + text_rows[pick][0]
        ),
        "cr-in-field": lambda: text_rows[pick].__setitem__(0, "a\rb"),
        "too-many-rows": lambda: text_rows.extend(
            [[f"extra{i}", *text_rows[0][1:]] for i in range(EXTRA_ROWS + 1)]
        ),
    }
    edits[kind]()


ROW_KINDS = (
    "extra-column",
    "duplicate-id",
    "missing-id",
    "unexpected-id",
    "value-nan",
    "value-inf",
    "value-out",
    "value-text",
    "value-empty",
    "value-spaces",
    "quoted",
    "quoted-comma",
    "bad-quote",
    "nul",
    "too-few-fields",
    "too-many-fields",
    "trailing-comma",
    "long-field",
    "long-line-ok-fields",
    "huge-line",
    "header-duplicate",
    "header-missing",
    "header-long",
    "unicode-id",
    "cr-in-field",
    "too-many-rows",
)
BYTE_KINDS = (
    "bom", "crlf", "mixed-ends", "lone-cr", "no-final-newline", "blank-line", "space-line",
    "non-utf8", "non-utf8-header", "empty", "header-only", "blank-header",
)  # fmt: skip


def _encode(header: list[str], rows: list[list[str]], newline: str, final: bool) -> bytes:
    lines = [",".join(header), *(",".join(row) for row in rows)]
    return (newline.join(lines) + (newline if final else "")).encode("utf-8")


def _bytes_edit(data: bytes, kind: str, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    middle = rng.randrange(1, max(2, len(lines) - 1))
    edits: dict[str, Callable[[], bytes]] = {
        "bom": lambda: b"\xef\xbb\xbf" + data,
        "crlf": lambda: data.replace(b"\n", b"\r\n"),
        "mixed-ends": lambda: b"\n".join([*lines[:middle], b"\r\n".join(lines[middle:])]),
        "lone-cr": lambda: data.replace(b"\n", b"\r", 1),
        "no-final-newline": lambda: data.rstrip(b"\n"),
        "blank-line": lambda: b"\n".join([*lines[:middle], b"", *lines[middle:]]),
        "space-line": lambda: b"\n".join([*lines[:middle], b" ", *lines[middle:]]),
        "non-utf8": lambda: b"\n".join(
            [*lines[:middle], lines[middle] + b"\xff", *lines[middle + 1 :]]
        ),
        "non-utf8-header": lambda: b"\xc3(" + data,
        "empty": lambda: b"",
        "header-only": lambda: lines[0] + b"\n",
        "blank-header": lambda: b"\n" + data,
    }
    return edits[kind]()


def _case(seed: int, kind: str | None, tmp_path: Path) -> tuple[Path, list[object], str]:
    rng = random.Random(seed)
    task = rng.choice(TASKS)
    n = rng.randint(1, 40)
    as_ints = rng.random() < 0.3
    ids: list[object] = list(range(n)) if as_ints else [f"r{i:03d}" for i in range(n)]
    score = task == "binary_classification" and rng.random() < 0.6
    header = ["row_id", "prediction", *(["score"] if score else [])]
    rows = _rows(task, [str(i) for i in ids], rng, score)
    if rng.random() < 0.2:  # columns in another order
        order = [2, 0, 1] if score else [1, 0]
        header = [header[i] for i in order]
        rows = [[row[i] for i in order] for row in rows]
    if kind in ROW_KINDS:
        _mutate(rows, header, kind, rng)
    data = _encode(header, rows, rng.choice(["\n", "\n", "\r\n"]), rng.random() < 0.9)
    if kind in BYTE_KINDS:
        data = _bytes_edit(data, kind, rng)
    path = tmp_path / f"predictions-{seed}.csv"
    path.write_bytes(data)
    return path, ids, task


@pytest.mark.parametrize("seed", range(120))
def test_valid_files_read_alike_and_vectorised(tmp_path: Path, seed: int) -> None:
    path, ids, task = _case(seed, None, tmp_path)
    _assert_same(path, ids, task)
    data = path.read_bytes()
    regular = split_regular(data, max_line_bytes=MAX_FIELD_CHARS, max_rows=len(ids) + EXTRA_ROWS)
    assert regular is not None
    assert string_frame(data, regular, regular.header) is not None


@pytest.mark.parametrize("kind", [*ROW_KINDS, *BYTE_KINDS])
@pytest.mark.parametrize("seed", range(8))
def test_hostile_files_read_alike(tmp_path: Path, kind: str, seed: int) -> None:
    path, ids, task = _case(1000 + seed, kind, tmp_path)
    _assert_same(path, ids, task)


def test_the_size_cap_comes_before_any_parse(tmp_path: Path) -> None:
    path, ids, task = _case(7, None, tmp_path)
    _assert_same(path, ids, task, max_bytes=10)
    with pytest.raises(OutputRejected, match="byte cap"):
        read_predictions(path, expected_row_ids=ids, task=task, max_bytes=10)


def test_a_large_file_reads_alike(tmp_path: Path) -> None:
    rng = random.Random(3)
    ids = [f"case-{i}" for i in range(20_000)]
    rows = _rows("binary_classification", ids, rng, score=True)
    path = tmp_path / "predictions.csv"
    path.write_bytes(_encode(["row_id", "prediction", "score"], rows, "\n", True))
    _assert_same(path, ids, "binary_classification")


def test_row_order_puts_rows_in_expected_order() -> None:
    row_ids = pd.Series(["c", "a", "b"], dtype=str)
    order = row_order(row_ids, ["a", "b", "c"])
    assert order is not None
    assert row_ids.iloc[order].tolist() == ["a", "b", "c"]


@pytest.mark.parametrize(
    "row_ids", [["a", "b"], ["a", "b", "b"], ["a", "b", "d"], ["a", "a", "b", "c"]]
)
def test_row_order_is_none_unless_each_expected_id_once(row_ids: list[str]) -> None:
    assert row_order(pd.Series(row_ids, dtype=str), ["a", "b", "c"]) is None


@pytest.mark.parametrize("spread", [1, 10_000])  # a table of positions, or a hash lookup
def test_integer_ids_are_ordered_as_their_text_is(spread: int) -> None:
    rng = np.random.default_rng(3)
    expected = np.sort(rng.choice(1_000 * spread, size=1_000, replace=False)).astype(np.int64)
    shuffled = expected[rng.permutation(len(expected))]
    row_ids = pd.Series([str(i) for i in shuffled], dtype=str)
    by_number = row_order(row_ids, expected)
    by_text = row_order(row_ids, [str(i) for i in expected])
    assert by_number is not None and by_text is not None
    assert np.array_equal(by_number, by_text)
    assert np.array_equal(shuffled[by_number], expected)


@pytest.mark.parametrize(
    "written",
    ["07", "+7", " 7", "7 ", "7.0", "-0", "x", "", "99999999999999999999", "8", "-7"],
)
def test_an_integer_id_counts_only_as_str_writes_it(written: str) -> None:
    expected = np.array([0, 5, 7], dtype=np.int64)
    row_ids = pd.Series(["0", "5", written], dtype=str)
    assert row_order(row_ids, expected) is None
    assert row_order(row_ids, [str(i) for i in expected]) is None
