"""The harness with models that are not scikit-learn estimators, run on the host.

A plain Python class, a vendor's ONNX and skops files, a joblib pickle and a command of the
pilot's own, each against temporary /input, /pilot and /output folders.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression

from sandbox.runtime import harness

PLAIN_MODEL = """\
class Threshold:
    # fit/predict only: no BaseEstimator, no get_params, no predict_proba

    def fit(self, features, labels):
        self.cut = float(features["x1"].median())
        return self

    def predict(self, features):
        return (features["x1"] > self.cut).astype(int).to_numpy()


class Margin(Threshold):
    def decision_function(self, features):
        return (features["x1"] - self.cut).to_numpy()


def build_model():
    return Threshold()


def build_margin():
    return Margin()
"""


class Negate(TransformerMixin, BaseEstimator):
    """A transformer of the vendor's own: skops does not trust it by default."""

    def fit(self, features: object, labels: object = None) -> Negate:
        return self

    def transform(self, features: pd.DataFrame) -> pd.DataFrame:
        return -features


@pytest.fixture
def pilot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("input", "output", "pilot"):
        (tmp_path / name).mkdir()
    monkeypatch.setattr(harness, "INPUT", tmp_path / "input")
    monkeypatch.setattr(harness, "OUTPUT", tmp_path / "output")
    monkeypatch.setattr(harness, "PILOT", tmp_path / "pilot")
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"x1": rng.normal(size=100), "x2": rng.normal(size=100)})
    frame["y"] = (frame["x1"] + 0.3 * rng.normal(size=100) > 0).astype(int)
    frame.iloc[:70].to_parquet(tmp_path / "input" / "train.parquet", index=False)
    frame.iloc[70:, :2].assign(row_id=[f"id{i}" for i in range(30)]).to_parquet(
        tmp_path / "input" / "score.parquet", index=False
    )
    (tmp_path / "pilot" / "model.py").write_text(PLAIN_MODEL)
    return tmp_path


def _spec(folder: Path, model: dict[str, object] | None = None, **changes: object) -> None:
    spec: dict[str, object] = {
        "task": "binary_classification",
        "outputs": {"prediction": "binary", "score": "probability", "scoring": "balanced_accuracy"},
        "label": "y",
        "features": ["x1", "x2"],
        "entrypoint": "model.py:build_model",
        "seed": 1,
        "explain": {"holdout_fraction": 0.2, "n_repeats": 2, "max_rows": 50},
        **({"model": model} if model else {}),
        **changes,
    }
    (folder / "input" / "spec.json").write_text(json.dumps(spec), encoding="utf-8")


def _outputs(folder: Path) -> tuple[pd.DataFrame, dict[str, object]]:
    predictions = pd.read_csv(folder / "output" / "predictions.csv")
    explanations = json.loads((folder / "output" / "explanations.json").read_text())
    return predictions, explanations


def _fitted_logistic(folder: Path) -> LogisticRegression:
    train = pd.read_parquet(folder / "input" / "train.parquet")
    return LogisticRegression().fit(train[["x1", "x2"]].to_numpy(np.float32), train["y"])


def test_a_plain_class_runs_and_gets_permutation_importance(pilot: Path) -> None:
    _spec(pilot)
    assert harness.main() == 0
    predictions, explanations = _outputs(pilot)
    assert list(predictions.columns) == ["row_id", "prediction"]  # no score without proba
    features = {f["feature"]: f["importance_mean"] for f in explanations["features"]}
    assert features["x1"] > 0 and features["x2"] == 0  # it looks at x1 only
    assert "skipped" not in explanations
    assert (pilot / "output" / "model" / "model.joblib").is_file()


def test_a_decision_function_gives_a_monotone_score(pilot: Path) -> None:
    _spec(pilot, entrypoint="model.py:build_margin")
    assert harness.main() == 0
    predictions, _ = _outputs(pilot)
    score = pd.read_parquet(pilot / "input" / "score.parquet")["x1"]
    assert predictions["score"].between(0, 1).all()
    assert (np.argsort(predictions["score"].to_numpy()) == np.argsort(score.to_numpy())).all()


def test_importance_is_skipped_with_a_reason_when_scorers_cannot_call_the_model(
    pilot: Path,
) -> None:
    broken = PLAIN_MODEL + (
        "\n\nclass Picky(Threshold):\n"
        "    def predict(self, features):\n"
        "        if len(features) != 30:\n"
        "            raise ValueError('only the score rows')\n"
        "        return super().predict(features)\n\n"
        "def build_picky():\n    return Picky()\n"
    )
    (pilot / "pilot" / "model.py").write_text(broken)
    _spec(pilot, entrypoint="model.py:build_picky")
    assert harness.main() == 0
    _, explanations = _outputs(pilot)
    assert explanations["features"] == []
    assert "only the score rows" in str(explanations["skipped"])


def test_an_onnx_file_is_evaluated_without_fitting(pilot: Path) -> None:
    skl2onnx = pytest.importorskip("skl2onnx")
    from skl2onnx.common.data_types import FloatTensorType

    fitted = _fitted_logistic(pilot)
    onnx = skl2onnx.convert_sklearn(fitted, initial_types=[("X", FloatTensorType([None, 2]))])
    (pilot / "pilot" / "vendor.onnx").write_bytes(onnx.SerializeToString())
    _spec(pilot, {"kind": "artifact", "artifact": "vendor.onnx", "format": "onnx"})
    assert harness.main() == 0
    predictions, explanations = _outputs(pilot)
    score = pd.read_parquet(pilot / "input" / "score.parquet")[["x1", "x2"]].to_numpy(np.float32)
    assert predictions["prediction"].tolist() == fitted.predict(score).tolist()
    assert np.allclose(predictions["score"], fitted.predict_proba(score)[:, 1], atol=1e-5)
    assert explanations["rows"] == 50 and len(explanations["features"]) == 2
    assert not (pilot / "output" / "model").exists()  # nothing was fitted


def test_a_skops_file_with_an_untrusted_type_is_refused_unless_listed(pilot: Path) -> None:
    import skops.io
    from sklearn.pipeline import make_pipeline

    path = pilot / "pilot" / "vendor.skops"
    model = {"kind": "artifact", "artifact": "vendor.skops", "format": "skops"}
    skops.io.dump(_fitted_logistic(pilot), path)
    _spec(pilot, model)
    assert harness.main() == 0  # a plain LogisticRegression: trusted by default

    train = pd.read_parquet(pilot / "input" / "train.parquet")
    piped = make_pipeline(Negate(), LogisticRegression())
    skops.io.dump(piped.fit(train[["x1", "x2"]], train["y"]), path)
    untrusted = skops.io.get_untrusted_types(file=path)
    assert untrusted == [f"{__name__}.Negate"]  # a type skops does not know
    assert harness.main() == 2
    _spec(pilot, {**model, "trusted_types": untrusted})
    assert harness.main() == 0


def test_a_joblib_pickle_loads_only_when_the_spec_allows_it(pilot: Path) -> None:
    import joblib

    joblib.dump(_fitted_logistic(pilot), pilot / "pilot" / "vendor.joblib")
    model = {"kind": "artifact", "artifact": "vendor.joblib", "format": "joblib"}
    _spec(pilot, model)
    assert harness.main() == 2
    _spec(pilot, {**model, "allow_pickle": True})
    assert harness.main() == 0


def test_a_command_writes_the_outputs_itself(pilot: Path) -> None:
    out = pilot / "output"
    (pilot / "pilot" / "score.py").write_text(
        "import pandas as pd\n"
        f"rows = pd.read_parquet({str(pilot / 'input' / 'score.parquet')!r})\n"
        f"with open({str(out / 'predictions.csv')!r}, 'w') as f:\n"
        "    f.write('row_id,prediction\\n')\n"
        "    for row_id, x1 in zip(rows['row_id'], rows['x1']):\n"
        '        f.write(f"{row_id},{int(x1 > 0)}\\n")\n'
    )
    _spec(pilot, {"kind": "command", "command": [sys.executable, "score.py"]})
    assert harness.main() == 0
    assert len(pd.read_csv(out / "predictions.csv")) == 30

    (out / "predictions.csv").unlink()
    _spec(pilot, {"kind": "command", "command": [sys.executable, "-c", "pass"]})
    assert harness.main() == 3  # exited 0 but wrote no predictions
    _spec(pilot, {"kind": "command", "command": ["no-such-program-here"]})
    assert harness.main() == 2


def test_an_unknown_model_kind_is_bad_input(pilot: Path) -> None:
    _spec(pilot, {"kind": "docker"})
    assert harness.main() == 2
