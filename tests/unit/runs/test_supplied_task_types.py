"""Multiclass, regression and ranking audits read in blocks give what the whole-file read gives.

Each file is audited twice, as `tests/unit/runs/test_supplied_outcomes.py` does for binary
classification: through `read_coded` (blocks of a few rows, so every value crosses block
boundaries) and `coded_outcomes`, and through `read_table` and the audit's whole-frame path.
The evaluations (every metric, interval and warning, as JSON) and every refusal's message must
be the same; files the columnar read cannot vouch for fall back (None).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sandbox.data import supplied
from sandbox.data.reader import read_table
from sandbox.errors import DataError
from sandbox.runs.predictions_audit import _outcomes, _task_config
from sandbox.runs.supplied_outcomes import coded_outcomes, read_coded
from sandbox.tasks import EvaluationSettings, Outcomes, get_task

RACES = ["White", "Black", "Asian", "Other"]
CLASSES = ["parks", "streets", "water", "sanitation"]
FORMATS = pytest.mark.parametrize("fmt", ["csv", "parquet"])


def _frame(task: str, rows: int = 1_500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(rows)],
            "race": rng.choice(RACES, rows, p=[0.5, 0.3, 0.15, 0.05]),
            "sex": rng.choice(["F", "M"], rows),
        }
    )
    if task == "multiclass_classification":
        label = rng.choice(CLASSES, rows)
        right = rng.random(rows) < 0.7
        frame["label"] = label
        frame["prediction"] = np.where(right, label, rng.choice(CLASSES, rows))
    elif task == "regression":
        days = rng.gamma(2.0, 5.0, rows)
        frame["label"] = days.round(2)
        # full-precision floats: every digit of the parse counts
        frame["prediction"] = days + rng.normal(0.0, 3.0, rows)
    else:
        label = (rng.random(rows) < 0.3).astype(int)
        frame["label"] = label
        frame["prediction"] = 0.35 * label + 0.65 * rng.random(rows)
    return frame


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


def _settings(task: str) -> EvaluationSettings:
    options = {"budget": {"k": 150}} if task == "ranking" else None
    config = _task_config(get_task(task), options, None)
    return EvaluationSettings(min_group_size=20, n_bootstrap=1000, seed=0, config=config)


def _both(
    path: Path,
    task: str,
    *,
    sensitive: tuple[str, ...] = ("race", "sex"),
    positive: str | None = None,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Outcomes | str, Outcomes | str]:
    """The columnar path's outcomes (tiny blocks) and the whole-file path's, or their messages."""
    kind = get_task(task)
    options: dict[str, Any] = {
        "label": "label",
        "prediction": "prediction",
        "sensitive": sensitive,
        "score": None,
    }
    # blocks of a few rows: every value crosses block boundaries
    small = partial(supplied.read_supplied, block_bytes=256, batch_rows=7, whole_bytes=0)
    monkeypatch.setattr(supplied, "read_supplied", small)
    coded = read_coded(path, kind, **options)
    assert coded is not None, "the columnar read fell back"
    streamed = _attempt(lambda: coded_outcomes(coded, path, kind, **options, positive=positive))
    whole = _attempt(lambda: _outcomes(read_table(path), path, kind, **options, positive=positive))
    return streamed, whole


def _same(streamed: Outcomes | str, whole: Outcomes | str, task: str) -> None:
    if isinstance(whole, str) or isinstance(streamed, str):
        assert streamed == whole
        return
    pairs = ((streamed.labels, whole.labels), (streamed.predictions, whole.predictions))
    for mine, theirs in pairs:
        # classes as a categorical of their texts: the same texts row for row
        assert np.array_equal(np.asarray(mine), theirs)
        assert np.asarray(mine).dtype == theirs.dtype
    if task == "regression" or task == "ranking":  # bit for bit, not just equal
        assert np.asarray(streamed.predictions).tobytes() == whole.predictions.tobytes()
    assert streamed.groups.astype(str).equals(whole.groups.astype(str))
    kind, settings = get_task(task), _settings(task)
    mine = kind.evaluate(streamed, settings).model_dump_json()
    assert mine == kind.evaluate(whole, settings).model_dump_json()


TASKS = pytest.mark.parametrize("task", ["multiclass_classification", "regression", "ranking"])


@FORMATS
@TASKS
def test_plain_file(tmp_path: Path, fmt: str, task: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(_frame(task), tmp_path, fmt)
    _same(*_both(path, task, monkeypatch=monkeypatch), task)


@FORMATS
@TASKS
def test_late_values_missing_groups_and_one_attribute(
    tmp_path: Path, fmt: str, task: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = _frame(task, seed=3)
    frame.loc[1_450:, "race"] = "Pacific"  # only in the last blocks
    frame["sex"] = frame["sex"].astype(object)
    frame.loc[frame.index % 41 == 0, "sex"] = None
    if task == "multiclass_classification":
        frame.loc[1_480:, "prediction"] = "libraries"  # a class only predicted, only late
    path = _write(frame, tmp_path, fmt)
    _same(*_both(path, task, monkeypatch=monkeypatch), task)
    _same(*_both(path, task, sensitive=("race",), monkeypatch=monkeypatch), task)


@FORMATS
def test_classes_of_other_spellings(
    tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = "multiclass_classification"
    frame = _frame(task)
    numbers = {c: i for i, c in enumerate(CLASSES)}
    frame["label"] = frame["label"].map(numbers)  # integer classes
    frame["prediction"] = frame["prediction"].map(lambda c: f" {c}")  # stripped as read whole
    _same(*_both(_write(frame, tmp_path, fmt), task, monkeypatch=monkeypatch), task)


def test_numbers_in_every_spelling_parse_to_the_same_bits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = "regression"
    frame = _frame(task, rows=400)
    spellings = ["1e5", "1E+05", ".5", "5.", "+1.5", "00012", "9007199254740993", "4.9e-324"]
    spellings += ["0.1000000000000000055511151231257827021181583404541015625001", "  7.25"]
    frame["label"] = frame["label"].astype(object)
    frame.loc[: len(spellings) - 1, "label"] = spellings
    frame["prediction"] = frame["prediction"].map(lambda v: f"{v:.20g}")
    _same(*_both(_write(frame, tmp_path, "csv"), task, monkeypatch=monkeypatch), task)


@FORMATS
@pytest.mark.parametrize(
    ("task", "change", "expected"),
    [
        ("multiclass_classification", {"label": [90, 1_333]}, "2 missing values (first in data"),
        ("multiclass_classification", {"prediction": [1_400]}, "first in data row 1401"),
        ("regression", {"label": [7, 1_200, 1_201]}, "in 3 data rows (8, 1201, 1202)"),
        ("regression", {"prediction": [1_499]}, "in 1 data rows (1500)"),
        ("ranking", {"prediction": [5, 1_498]}, "2 data rows hold others"),
        ("ranking", {"label": [1_320]}, "missing value in data row 1321"),
    ],
)
def test_missing_values_are_refused_as_read_whole(
    tmp_path: Path,
    fmt: str,
    task: str,
    change: dict[str, list[int]],
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frame = _frame(task)
    for column, rows in change.items():
        frame[column] = frame[column].astype(object)
        frame.loc[rows, column] = None
    streamed, whole = _both(_write(frame, tmp_path, fmt), task, monkeypatch=monkeypatch)
    assert isinstance(whole, str) and expected in whole, whole
    _same(streamed, whole, task)


@FORMATS
@pytest.mark.parametrize(
    ("task", "change", "positive", "expected"),
    [
        ("regression", lambda f: f.assign(label=3.5), None, "does not vary"),
        ("regression", lambda f: f, "yes", "a regression has none"),
        ("ranking", lambda f: f.assign(label=np.where(f.index > 1_400, 2, f["label"])), None,
         "not binary"),
        ("ranking", lambda f: f.assign(label=0), None, "a single class"),
        ("multiclass_classification", lambda f: f.assign(sex="F"), None, "single group"),
        ("multiclass_classification", lambda f: f.head(12), None, "12 evaluation rows"),
    ],
)  # fmt: skip
def test_refusals_are_the_whole_reads(
    tmp_path: Path,
    fmt: str,
    task: str,
    change: Any,
    positive: str | None,
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = _write(change(_frame(task)), tmp_path, fmt)
    streamed, whole = _both(path, task, positive=positive, monkeypatch=monkeypatch)
    assert isinstance(whole, str) and expected in whole, whole
    _same(streamed, whole, task)


@pytest.mark.parametrize("value", ["abc", "inf", " NA", "1,5"])
def test_numbers_the_columnar_read_cannot_vouch_for_fall_back(tmp_path: Path, value: str) -> None:
    frame = _frame("regression")
    frame["label"] = frame["label"].astype(object)
    frame.loc[1_499, "label"] = value
    path = _write(frame, tmp_path, "csv")
    options: dict[str, Any] = {"label": "label", "prediction": "prediction", "score": None}
    assert read_coded(path, get_task("regression"), sensitive=("race",), **options) is None


@pytest.mark.parametrize("whole", [False, True], ids=["among fractions", "among whole numbers"])
def test_a_negative_zero_streams_unless_pandas_may_read_it_as_zero(
    tmp_path: Path, whole: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = "regression"
    frame = _frame(task)
    if whole:  # pandas reads the column as integers: "-0" is 0
        frame["prediction"] = frame["prediction"].round().astype(int)
    frame["prediction"] = frame["prediction"].astype(object)
    frame.loc[[3, 1_200], "prediction"] = "-0"
    path = _write(frame, tmp_path, "csv")
    options: dict[str, Any] = {"label": "label", "prediction": "prediction", "score": None}
    read = read_coded(path, get_task(task), sensitive=("race",), **options)
    assert (read is None) == whole
    if not whole:
        _same(*_both(path, task, monkeypatch=monkeypatch), task)


def test_nullable_parquet_numbers_fall_back(tmp_path: Path) -> None:
    frame = _frame("regression")
    frame["label"] = pd.array(frame["label"], dtype="Float64")
    path = _write(frame, tmp_path, "parquet")
    options: dict[str, Any] = {"label": "label", "prediction": "prediction", "score": None}
    assert read_coded(path, get_task("regression"), sensitive=("race",), **options) is None
    plain = _write(_frame("regression"), tmp_path, "parquet", "plain")
    assert read_coded(plain, get_task("regression"), sensitive=("race",), **options) is not None


@FORMATS
def test_numbers_hold_eight_bytes_a_row_and_classes_one(tmp_path: Path, fmt: str) -> None:
    options: dict[str, Any] = {"label": "label", "prediction": "prediction", "score": None}
    path = _write(_frame("ranking"), tmp_path, fmt)
    read = read_coded(path, get_task("ranking"), sensitive=("race", "sex"), **options)
    assert read is not None and set(read.numbers) == {"prediction"}
    assert read.numbers["prediction"].dtype == np.float64
    assert {name: c.codes.dtype for name, c in read.coded.items()} == dict.fromkeys(
        ("label", "race", "sex"), np.dtype(np.int8)
    )
    path = _write(_frame("multiclass_classification"), tmp_path, fmt, "classes")
    task = get_task("multiclass_classification")
    read = read_coded(path, task, sensitive=("race",), **options)
    assert read is not None and not read.numbers
    outcomes = coded_outcomes(read, path, task, **options, sensitive=("race",), positive=None)
    assert outcomes.labels.codes.dtype == np.int8


@pytest.fixture
def services(tmp_path: Path) -> Any:
    from sandbox.audit.signing import Signer
    from sandbox.audit.trail import AuditTrail
    from sandbox.runs.services import RunServices
    from sandbox.runtime.fake import FakeRuntime
    from sandbox.tracking.memory import InMemoryTracker

    def never(spec: Any) -> Any:
        raise AssertionError("a predictions-only audit must not run a container")

    return RunServices(
        runtime=FakeRuntime(never),
        tracker=InMemoryTracker(),
        trail=AuditTrail(tmp_path / "audit" / "trail.jsonl", Signer.load_or_create(tmp_path / "k")),
        image="unused",
        runs_dir=tmp_path / "runs",
        actor="auditor@test",
        tracking_uri="memory://",
    )


@FORMATS
@TASKS
def test_the_whole_audit_is_the_same_either_way(
    tmp_path: Path, fmt: str, task: str, services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`audit_predictions` streamed and read whole: evaluation, verdict, data section."""
    from sandbox.runs import supplied_outcomes
    from sandbox.runs.predictions_audit import audit_predictions

    frame = _frame(task, seed=5)
    frame["sex"] = frame["sex"].astype(object)
    # counted as missing in the report; only where every group keeps 2 rows or more (the
    # report cannot hold a regression group's spread of one row)
    frame.loc[(frame.index % 29 == 0) & (frame["race"] == "White"), "sex"] = None
    path = _write(frame, tmp_path, fmt)
    options: dict[str, Any] = {
        "label": "label",
        "prediction": "prediction",
        "sensitive": ["race", "sex"],
        "services": services,
        "task": task,
        "task_options": {"budget": {"fraction": 0.1}} if task == "ranking" else None,
        "n_bootstrap": 200,
    }
    streamed = audit_predictions(path, **options)
    monkeypatch.setattr(supplied_outcomes, "read_coded", lambda *a, **k: None)
    whole = audit_predictions(path, **options)
    assert streamed.evaluation.model_dump_json() == whole.evaluation.model_dump_json()
    assert streamed.verdict.model_dump_json() == whole.verdict.model_dump_json()
    assert streamed.report.data.model_dump_json() == whole.report.data.model_dump_json()
    assert streamed.report.data.missing_by_column["sex"] == int(frame["sex"].isna().sum())
