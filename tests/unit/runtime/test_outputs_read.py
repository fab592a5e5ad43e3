"""read_predictions and read_explanations: the two files the host reads, checked before use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.errors import OutputRejected
from sandbox.runtime import read_explanations, read_predictions

IDS = ["a", "b", "c"]


def _write(tmp_path: Path, text: str, name: str = "predictions.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_good_predictions_come_back_in_expected_order(tmp_path: Path) -> None:
    path = _write(tmp_path, "row_id,prediction,score\nc,1,0.9\na,0,0.1\nb,1,1.0\n")

    frame = read_predictions(path, expected_row_ids=IDS)

    assert frame["row_id"].tolist() == IDS
    assert frame["prediction"].tolist() == [0, 1, 1]
    assert frame["score"].tolist() == [0.1, 1.0, 0.9]
    assert str(frame["prediction"].dtype) == "int64"


def test_score_is_optional_and_row_ids_compare_as_text(tmp_path: Path) -> None:
    path = _write(tmp_path, "row_id,prediction\n1,0\n2,1\n")
    frame = read_predictions(path, expected_row_ids=[1, 2])
    assert list(frame.columns) == ["row_id", "prediction"]
    assert frame["row_id"].tolist() == ["1", "2"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("row_id,prediction,score,secret\na,0,0.1,x\nb,0,0.1,x\nc,0,0.1,x\n", "unexpected columns"),
        ("row_id,score\na,0.1\nb,0.1\nc,0.1\n", "missing column 'prediction'"),
        ("prediction\n0\n1\n0\n", "missing column 'row_id'"),
        ("row_id,prediction\na,0\na,1\nb,0\nc,0\n", "duplicate row_id"),
        ("row_id,prediction\na,0\nb,1\n", "1 missing"),
        ("row_id,prediction\na,0\nb,1\nc,1\nd,0\n", "1 unexpected"),
        ("row_id,prediction\na,0\nb,2\nc,1\n", "prediction must be 0 or 1"),
        ("row_id,prediction\na,0\nb,1.0\nc,1\n", "prediction must be 0 or 1"),
        ("row_id,prediction\na,0\nb,\nc,1\n", "prediction must be 0 or 1"),
        ("row_id,prediction,score\na,0,0.1\nb,1,1.5\nc,1,0.2\n", "scores? must be"),
        ("row_id,prediction,score\na,0,0.1\nb,1,nan\nc,1,0.2\n", "scores? must be"),
        ("row_id,prediction,score\na,0,0.1\nb,1,inf\nc,1,0.2\n", "scores? must be"),
        ("row_id,prediction,score\na,0,-0.1\nb,1,0.5\nc,1,0.2\n", "scores? must be"),
        ("row_id,prediction,score\na,0,high\nb,1,0.5\nc,1,0.2\n", "scores? must be"),
        ("row_id,prediction,prediction\na,0,0\nb,1,1\nc,1,1\n", "duplicate column"),
    ],
    ids=[
        "extra-column",
        "no-prediction",
        "no-row-id",
        "duplicate-id",
        "missing-id",
        "unexpected-id",
        "prediction-2",
        "prediction-float",
        "prediction-empty",
        "score-above-1",
        "score-nan",
        "score-inf",
        "score-negative",
        "score-text",
        "duplicate-column",
    ],
)
def test_bad_predictions_are_rejected(tmp_path: Path, text: str, reason: str) -> None:
    with pytest.raises(OutputRejected, match=reason):
        read_predictions(_write(tmp_path, text), expected_row_ids=IDS)


def test_oversized_predictions_are_rejected_before_parsing(tmp_path: Path) -> None:
    path = _write(tmp_path, "row_id,prediction\na,0\nb,1\nc,1\n")
    with pytest.raises(OutputRejected, match="byte cap"):
        read_predictions(path, expected_row_ids=IDS, max_bytes=10)


def test_missing_or_linked_predictions_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(OutputRejected, match="missing"):
        read_predictions(tmp_path / "predictions.csv", expected_row_ids=IDS)
    (tmp_path / "predictions.csv").symlink_to("/etc/hostname")
    with pytest.raises(OutputRejected, match="not a regular file"):
        read_predictions(tmp_path / "predictions.csv", expected_row_ids=IDS)


def _explanations(**changes: object) -> str:
    document: dict[str, object] = {
        "method": "permutation_importance",
        "scoring": "balanced_accuracy",
        "n_repeats": 5,
        "rows": 40,
        "features": [
            {"feature": "age", "importance_mean": 0.1, "importance_std": 0.01},
            {"feature": "income", "importance_mean": -0.02, "importance_std": 0.0},
        ],
    }
    document.update(changes)
    return json.dumps(document)


def test_good_explanations_are_read(tmp_path: Path) -> None:
    path = _write(tmp_path, _explanations(), "explanations.json")
    explanations = read_explanations(path, features=["age", "income", "visits"])
    assert [item.feature for item in explanations.features] == ["age", "income"]
    assert explanations.features[1].importance_mean == -0.02


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            _explanations(
                features=[{"feature": "race", "importance_mean": 0.1, "importance_std": 0}]
            ),
            "unknown feature",
        ),
        (
            _explanations(
                features=[{"feature": "age", "importance_mean": 0.1, "importance_std": 0}] * 2
            ),
            "more than once",
        ),
        (
            _explanations(
                features=[{"feature": "age", "importance_mean": "NaN", "importance_std": 0}]
            ),
            "features.0.importance_mean",
        ),
        (
            '{"method": "permutation_importance", "features": '
            '[{"feature": "age", "importance_mean": Infinity, "importance_std": 0}]}',
            "importance_mean",
        ),
        (
            _explanations(
                features=[{"feature": "age", "importance_mean": 0.1, "importance_std": -1}]
            ),
            "importance_std",
        ),
        (_explanations(extra="x"), "extra"),
        (_explanations(method="<script>"), "method"),
        ("[1, 2]", "top level|Input should be"),
        ("not json", "Invalid JSON|json"),
    ],
    ids=[
        "unknown",
        "duplicate",
        "nan",
        "infinity",
        "negative-std",
        "extra-key",
        "bad-method",
        "array",
        "garbage",
    ],
)
def test_bad_explanations_are_rejected(tmp_path: Path, text: str, reason: str) -> None:
    path = _write(tmp_path, text, "explanations.json")
    with pytest.raises(OutputRejected, match=reason):
        read_explanations(path, features=["age", "income"])


def test_oversized_explanations_are_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path, _explanations(), "explanations.json")
    with pytest.raises(OutputRejected, match="byte cap"):
        read_explanations(path, features=["age", "income"], max_bytes=20)


# --- bounded reading: whatever the container wrote ends in values or OutputRejected --------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"row_id,prediction," + b"x" * 200_000 + b"\na,0,1\n", "line 1 is over"),
        (b"row_id,prediction,s" + b"x" * 100 + b"\na,0,1\nb,0,1\nc,0,1\n", "over 64 characters"),
        (b'row_id,prediction\na,"0\nb,1\nc,1\n', "malformed CSV"),
        (b'row_id,prediction\na,0\nb,"' + b"1\n" * 80_000 + b'"\nc,1\n', "malformed CSV"),
        (b'row_id,prediction\na,"0"x\nb,1\nc,1\n', "malformed CSV"),
        (b"row_id,prediction\na,0\nb," + b"1" * 2000 + b"\nc,1\n", "a field over"),
        (b"row_id,prediction\na,0,0\nb,1\nc,1\n", "line 2: 3 fields"),
        (b"row_id,prediction\na,\xff\nb,1\nc,1\n", "not UTF-8"),
        (b"", "no header row"),
        (b"\n\n", "no header row"),
        (b"row_id,prediction\n" + b"z,0\n" * 2000, "more than 1003 rows"),
    ],
    ids=[
        "200kb-column-name",
        "long-column-name",
        "open-quote",
        "quoted-field-over-many-lines",
        "text-after-quote",
        "long-field",
        "extra-field",
        "not-utf8",
        "empty",
        "blank",
        "too-many-rows",
    ],
)
def test_hostile_predictions_are_rejected_with_a_bounded_reason(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "predictions.csv"
    path.write_bytes(content)
    with pytest.raises(OutputRejected, match=reason) as raised:
        read_predictions(path, expected_row_ids=IDS)
    assert len(str(raised.value)) < 400


def test_blank_lines_and_quoted_fields_read_as_pandas_would(tmp_path: Path) -> None:
    path = _write(tmp_path, 'row_id,prediction\n\n"a",0\r\nb,"1"\n\nc,1\n')
    frame = read_predictions(path, expected_row_ids=IDS)
    assert frame["prediction"].tolist() == [0, 1, 1]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"[" * 300_000 + b"]" * 300_000, "recursion limit"),
        (b'{"method": "x", "' + b"k" * 500_000 + b'": 1, "features": []}', "(?i)extra inputs"),
        (b'{"method": "x", "n_repeats": ' + b"9" * 100_000 + b', "features": []}', "number"),
        (b'{"method": "x", "features": [{"feature": "\\ud800", "importance_mean": 0}]}', "JSON"),
    ],
    ids=["deep", "long-key", "huge-number", "lone-surrogate"],
)
def test_hostile_explanations_are_rejected_with_a_bounded_reason(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "explanations.json"
    path.write_bytes(content)
    with pytest.raises(OutputRejected, match=reason) as raised:
        read_explanations(path, features=["age"])
    assert len(str(raised.value)) < 400


def test_too_many_explained_features_are_rejected(tmp_path: Path) -> None:
    item = {"feature": "age", "importance_mean": 0.1, "importance_std": 0.0}
    path = _write(tmp_path, _explanations(features=[item] * 10_001), "explanations.json")
    with pytest.raises(OutputRejected, match="features"):
        read_explanations(path, features=["age"])
