"""The columnar read, a block at a time, gives every figure the whole-file read gives.

Each file is audited twice: through `read_supplied` and `coded_outcomes` (blocks of a few rows,
so every value crosses block boundaries) and through `read_table` and the audit's whole-frame
path. The outcomes, the evaluation (every metric, interval and warning) and every refusal's
message must be the same.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sandbox.data import supplied
from sandbox.data.reader import read_table
from sandbox.data.supplied import read_supplied
from sandbox.errors import DataError
from sandbox.runs.predictions_audit import _outcomes
from sandbox.runs.supplied_outcomes import coded_outcomes, spread
from sandbox.tasks import EvaluationSettings, Outcomes, get_task

TASK = get_task("binary_classification")
SETTINGS = EvaluationSettings(min_group_size=20, n_bootstrap=1000, seed=0)
RACES = ["White", "Black", "Asian", "Other"]


def _frame(rows: int = 1_500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, rows)
    score = np.clip(0.4 * label + 0.6 * rng.random(rows), 0, 1).round(4)
    return pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(rows)],
            "race": rng.choice(RACES, rows, p=[0.5, 0.3, 0.15, 0.05]),
            "sex": rng.choice(["F", "M"], rows),
            "label": label,
            "prediction": (score > 0.5).astype(int),
            "score": score,
        }
    )


def _write(frame: pd.DataFrame, folder: Path, fmt: str, name: str = "preds") -> Path:
    path = folder / f"{name}.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False, row_group_size=200)
    return path


def _attempt(make: Callable[[], Outcomes]) -> Outcomes | str:
    try:
        return make()
    except DataError as exc:
        return str(exc)


def _both(
    path: Path,
    *,
    sensitive: tuple[str, ...] = ("race", "sex"),
    score: str | None = "score",
    positive: str | None = None,
    label: str = "label",
) -> tuple[Outcomes | str, Outcomes | str]:
    """The coded path's outcomes (tiny blocks) and the whole-file path's, or their messages."""
    names = {"label": label, "prediction": "prediction", "sensitive": sensitive}
    coded = read_supplied(
        path,
        coded=list(dict.fromkeys([label, "prediction", *sensitive])),
        scores=[score] if score else [],
        block_bytes=256,
        batch_rows=7,
        whole_bytes=0,  # block by block, as a file too large to parse whole
    )
    assert coded is not None, "the columnar read fell back"
    options: dict[str, Any] = {**names, "score": score, "positive": positive}
    streamed = _attempt(lambda: coded_outcomes(coded, path, TASK, **options))
    whole = _attempt(lambda: _outcomes(read_table(path), path, TASK, **options))
    return streamed, whole


def _same(streamed: Outcomes | str, whole: Outcomes | str) -> None:
    if isinstance(whole, str) or isinstance(streamed, str):
        assert streamed == whole
        return
    assert streamed.labels.dtype == np.int8 and streamed.predictions.dtype == np.int8
    assert np.array_equal(streamed.labels, whole.labels)
    assert np.array_equal(streamed.predictions, whole.predictions)
    if whole.scores is None:
        assert streamed.scores is None
    else:
        assert np.array_equal(np.asarray(streamed.scores), whole.scores)
    assert streamed.groups.astype(str).equals(whole.groups.astype(str))
    mine = TASK.evaluate(streamed, SETTINGS).model_dump_json()
    assert mine == TASK.evaluate(whole, SETTINGS).model_dump_json()


FORMATS = pytest.mark.parametrize("fmt", ["csv", "parquet"])


@FORMATS
def test_plain_file(tmp_path: Path, fmt: str) -> None:
    _same(*_both(_write(_frame(), tmp_path, fmt)))


@FORMATS
def test_groups_and_values_that_appear_only_in_late_blocks(tmp_path: Path, fmt: str) -> None:
    frame = _frame()
    frame.loc[1_450:, "race"] = "Pacific"  # 50 rows at the end only
    frame.loc[1_490:, "sex"] = "X"
    frame["label"] = np.where(frame["label"] == 1, "yes", "no")
    frame.loc[1_499, "label"] = "no"
    _same(*_both(_write(frame, tmp_path, fmt), positive="yes"))


@FORMATS
def test_missing_sensitive_values_are_their_own_group(tmp_path: Path, fmt: str) -> None:
    frame = _frame()
    frame["race"] = frame["race"].astype(object)
    frame.loc[frame.index % 37 == 0, "race"] = None
    frame.loc[1_400:, "sex"] = None
    _same(*_both(_write(frame, tmp_path, fmt)))


@FORMATS
def test_a_late_missing_label_is_named_by_its_data_row(tmp_path: Path, fmt: str) -> None:
    frame = _frame()
    frame["label"] = frame["label"].astype(object)
    frame.loc[1_321, "label"] = None
    streamed, whole = _both(_write(frame, tmp_path, fmt))
    assert isinstance(whole, str) and "data row 1322" in whole
    _same(streamed, whole)


@FORMATS
def test_other_spellings_of_outcomes_and_groups(tmp_path: Path, fmt: str) -> None:
    frame = _frame()
    frame["label"] = frame["label"].map({0: "False", 1: "True"})
    frame["prediction"] = frame["prediction"].astype(float)
    frame["race"] = frame["race"].map(lambda v: f" {v}")  # stripped as the whole read strips
    frame["sex"] = np.arange(len(frame)) % 3  # numbers as groups
    _same(*_both(_write(frame, tmp_path, fmt)))


@FORMATS
def test_unscored_and_single_attribute(tmp_path: Path, fmt: str) -> None:
    _same(*_both(_write(_frame(seed=4), tmp_path, fmt), sensitive=("sex",), score=None))


@FORMATS
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda f: f.assign(sex="F"), "single group"),
        (lambda f: f.assign(label=0), "a single class"),
        (lambda f: f.assign(race=np.where(f.index > 1_480, "(missing)", f["race"])), "19 rows"),
        (lambda f: f.assign(label=np.where(f.index > 1_400, 2, f["label"])), "not binary"),
    ],
    ids=["one group", "one class", "a '(missing)' value", "a late third label"],
)
def test_refusals_are_the_whole_reads(tmp_path: Path, fmt: str, change: Any, expected: str) -> None:
    streamed, whole = _both(_write(change(_frame()), tmp_path, fmt))
    assert isinstance(whole, str) and expected in whole
    _same(streamed, whole)


def test_a_parquet_category_with_unused_values(tmp_path: Path) -> None:
    frame = _frame()
    frame["race"] = pd.Categorical(frame["race"], categories=["Zulu", *sorted(set(frame["race"]))])
    _same(*_both(_write(frame, tmp_path, "parquet")))


@FORMATS
def test_bounds_and_late_surprises_fall_back_to_the_whole_read(
    tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    wanted = {"coded": ["label", "prediction", "race", "sex"], "scores": ["score"]}
    small = {"block_bytes": 256, "batch_rows": 7}
    path = _write(_frame(), tmp_path, fmt)
    assert read_supplied(path, **wanted, **small) is not None  # type: ignore[arg-type]
    with monkeypatch.context() as patch:
        patch.setattr(supplied, "MAX_SUPPLIED_ROWS", 1_499)
        assert read_supplied(path, **wanted, **small) is None  # type: ignore[arg-type]
    with monkeypatch.context() as patch:
        patch.setattr(supplied, "MAX_SUPPLIED_VALUES", 3)
        assert read_supplied(path, **wanted, **small) is None  # type: ignore[arg-type]
    with monkeypatch.context() as patch:
        patch.setattr(supplied, "MAX_SUPPLIED_VALUE_BYTES", 8)
        assert read_supplied(path, **wanted, **small) is None  # type: ignore[arg-type]
    late_score = _frame()
    late_score.loc[1_499, "score"] = 1.5
    path = _write(late_score, tmp_path, fmt, "late-score")
    assert read_supplied(path, **wanted, **small) is None  # type: ignore[arg-type]


def test_a_late_row_of_the_wrong_width_falls_back(tmp_path: Path) -> None:
    path = _write(_frame(), tmp_path, "csv")
    with path.open("a") as handle:
        handle.write("r9,White,F,1,1,0.5,extra\n")
    assert read_supplied(path, coded=["label"], block_bytes=256) is None


def test_block_sizes_change_nothing(tmp_path: Path) -> None:
    path = _write(_frame(), tmp_path, "csv")
    wanted = ["label", "prediction", "race", "sex"]
    one = read_supplied(path, coded=wanted, scores=["score"], block_bytes=256, whole_bytes=0)
    two = read_supplied(path, coded=wanted, scores=["score"])  # parsed whole, on every core
    assert one is not None and two is not None
    for name in wanted:
        a, b = one.coded[name], two.coded[name]
        assert a.values.tolist() == b.values.tolist() and np.array_equal(a.codes, b.codes)
        assert a.codes.dtype == np.int8 and a.counts.tolist() == b.counts.tolist()


def test_spread_is_indexing_in_slices() -> None:
    rng = np.random.default_rng(1)
    table = np.array([5, 7, 9], dtype=np.int8)
    codes = rng.integers(0, 3, 3_000_000).astype(np.int8)
    out = spread(table, codes)
    assert out.dtype == np.int8 and np.array_equal(out, table[codes])


@pytest.mark.parametrize(
    ("body", "plain"),
    [
        ("a,b\n" + "x,1\n" * 9, True),
        ("a,b\n" + "é,ü\n" * 9, True),  # two-byte characters across every block edge
        ("a,b\n" + "x,1\n" * 4 + "中,1\n", True),
    ],
)
def test_the_text_scan_reads_utf8_across_block_edges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, plain: bool
) -> None:
    monkeypatch.setattr(supplied, "_SCAN_BLOCK", 8)
    path = tmp_path / "p.csv"
    path.write_bytes(body.encode())
    assert supplied._plain_text(path) == (body.count("\n") + 1 if plain else None)


@pytest.mark.parametrize(
    "raw",
    [
        b"a,b\nx,1\n\xe9,1\n",  # Latin-1 inside an otherwise ASCII file
        b"a,b\nx\xc3",  # a character cut off at the end
        # a block ends inside a character, an ASCII block follows, then the character's end
        b"a,b\nxx,\xc3" + b"1\nx,1\nx," + b"\xa9,1\n",
    ],
)
def test_the_text_scan_refuses_what_is_not_utf8(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raw: bytes
) -> None:
    monkeypatch.setattr(supplied, "_SCAN_BLOCK", 8)
    path = tmp_path / "p.csv"
    path.write_bytes(raw)
    assert supplied._plain_text(path) is None
