"""The in-container harness, run on the host against temporary /input, /pilot and /output."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sandbox.runtime import harness

PILOTS = Path(__file__).parents[2] / "data" / "pilots"
OUTPUT_FILES = ("predictions.csv", "explanations.json")


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("input", "output"):
        (tmp_path / name).mkdir()
    monkeypatch.setattr(harness, "INPUT", tmp_path / "input")
    monkeypatch.setattr(harness, "OUTPUT", tmp_path / "output")
    monkeypatch.setattr(harness, "PILOT", PILOTS / "tiny-logistic")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x1": rng.normal(size=80), "x2": rng.normal(size=80)})
    frame["y"] = (frame["x1"] > 0).astype(int)
    frame.iloc[:60].to_parquet(tmp_path / "input" / "train.parquet", index=False)
    frame.iloc[60:, :2].assign(row_id=[f"id{i}" for i in range(20)]).to_parquet(
        tmp_path / "input" / "score.parquet", index=False
    )
    _spec(tmp_path)
    return tmp_path


def _spec(tmp_path: Path, **changes: object) -> None:
    spec = {
        "task": "binary_classification",
        "outputs": {"prediction": "binary", "score": "probability", "scoring": "balanced_accuracy"},
        "label": "y",
        "features": ["x1", "x2"],
        "entrypoint": "model.py:build_model",
        "params": {"C": 2.0},
        "seed": 7,
        "explain": {"holdout_fraction": 0.25, "n_repeats": 2, "max_rows": 10},
    }
    spec.update(changes)
    (tmp_path / "input" / "spec.json").write_text(json.dumps(spec), encoding="utf-8")


def test_writes_predictions_explanations_and_model(folders: Path) -> None:
    assert harness.main() == 0

    predictions = pd.read_csv(folders / "output" / "predictions.csv")
    assert list(predictions.columns) == ["row_id", "prediction", "score"]
    assert predictions["row_id"].tolist() == [f"id{i}" for i in range(20)]
    assert set(predictions["prediction"]) <= {0, 1}
    explanations = json.loads((folders / "output" / "explanations.json").read_text())
    assert explanations["rows"] == 10  # capped by max_rows
    assert [f["feature"] for f in explanations["features"]] == ["x1", "x2"]
    assert (folders / "output" / "model" / "model.joblib").stat().st_size > 0


def test_same_spec_gives_identical_bytes(folders: Path) -> None:
    assert harness.main() == 0
    first = (folders / "output" / "predictions.csv").read_bytes()
    assert harness.main() == 0
    assert (folders / "output" / "predictions.csv").read_bytes() == first


def test_random_state_is_pinned_to_the_seed() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    estimator = harness.build_estimator(
        lambda: make_pipeline(LogisticRegression(random_state=1)), {}, 99
    )
    assert estimator.get_params()["logisticregression__random_state"] == 99


@pytest.mark.parametrize(
    ("changes", "code", "message"),
    [
        ({"outputs": {"prediction": "ranking"}}, 2, "spec.outputs.prediction"),
        ({"features": []}, 2, "spec.features"),
        ({"features": ["x1", "y"]}, 2, "must not contain the label"),
        ({"entrypoint": "model.py"}, 2, "spec.entrypoint"),
        ({"entrypoint": "../escape.py:f"}, 2, "not a .py file inside /pilot"),
        ({"entrypoint": "model.py:nope"}, 2, "no callable 'nope'"),
        ({"seed": -1}, 2, "spec.seed"),
        ({"params": {"unknown": 1}}, 3, "the factory raised"),
        ({"features": ["x1", "missing"]}, 2, "missing columns"),
    ],
)
def test_bad_spec_exits_non_zero_with_a_message(
    folders: Path,
    capsys: pytest.CaptureFixture[str],
    changes: dict[str, object],
    code: int,
    message: str,
) -> None:
    _spec(folders, **changes)

    assert harness.main() == code
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(("fraction", "fitted", "explained"), [(0.25, 45, 15), (0.0, 60, 60)])
def test_fits_on_the_rows_the_host_reports(
    folders: Path, capsys: pytest.CaptureFixture[str], fraction: float, fitted: int, explained: int
) -> None:
    from sandbox.reports.build import fitted_rows

    _spec(folders, explain={"holdout_fraction": fraction, "n_repeats": 2, "max_rows": 100})
    assert harness.main() == 0
    assert fitted_rows(60, fraction)[0] == fitted
    out = capsys.readouterr().out
    assert f"fitted on {fitted} of 60 training rows ({60 - fitted} held back" in out
    explanations = json.loads((folders / "output" / "explanations.json").read_text())
    # no hold-back: importance is measured on the fitted rows rather than left empty
    assert explanations["rows"] == explained and explanations["features"]


def test_a_waiting_harness_runs_once_the_go_marker_appears(folders: Path) -> None:
    marker = folders / "input" / ".inputs-ready"
    timer = threading.Timer(0.3, marker.touch)
    timer.start()
    try:
        assert harness.main(["--wait-for", str(marker), "--preload"]) == 0
    finally:
        timer.cancel()
    assert marker.exists()
    assert (folders / "output" / "predictions.csv").is_file()


def test_a_waiting_harness_gives_up_without_inputs(folders: Path) -> None:
    marker = folders / "input" / ".inputs-ready"
    with pytest.raises(harness.HarnessError) as caught:
        harness.loaders("input_tables").wait_for(
            marker, harness.bad_input, preload=False, limit_s=0.05
        )
    assert caught.value.exit_code == 2
    assert not (folders / "output" / "predictions.csv").exists()


def test_the_host_drawn_hold_back_gives_the_same_outputs_bit_for_bit(folders: Path) -> None:
    """Training rows written fitted rows first with `explain.fit_rows` (as the host now writes
    them) give the predictions and importances the harness's own split gave."""
    from sandbox.data.holdout import hold_back

    explain = {"holdout_fraction": 0.25, "n_repeats": 2, "max_rows": 10}
    _spec(folders, explain=explain)
    assert harness.main() == 0
    before = {n: (folders / "output" / n).read_bytes() for n in OUTPUT_FILES}

    train_file = folders / "input" / "train.parquet"
    train = pd.read_parquet(train_file)
    drawn = hold_back(train["y"].to_numpy(), fraction=0.25, seed=7, classes=True)
    assert drawn is not None and drawn.fit_rows == 45
    train.iloc[drawn.order].to_parquet(train_file, index=False)
    _spec(folders, explain={**explain, "fit_rows": drawn.fit_rows})
    assert harness.main() == 0
    assert {n: (folders / "output" / n).read_bytes() for n in OUTPUT_FILES} == before
