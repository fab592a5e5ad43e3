"""Models the harness runs that are not scikit-learn estimators, inside the runner container.

Standalone like the harness (standard library, numpy, pandas, scikit-learn, and the model
libraries of the runner image, each imported only when a pilot needs it; never `sandbox`): it is
copied beside the harness into the image and is part of the image's content-addressed tag.

- `load_artifact` opens a vendor's trained model file: ONNX through ONNX Runtime, skops through
  `skops.io` with its trusted-types check, joblib only when the spec allows pickles;
- `OnnxModel` gives an ONNX graph the `predict`/`predict_proba` of an estimator;
- `as_estimator` wraps any object with `predict` (a plain class, an ONNX graph) so that
  scikit-learn's scorers and permutation importance can call it.

Errors are `LoaderError(message, exit_code)`: 2 for a file or spec the pilot must fix (an
untrusted type, a graph whose inputs are not the features), 3 for a model that fails.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])


class LoaderError(Exception):
    """A model that cannot be loaded or called, with the harness's exit code."""

    def __init__(self, message: str, *, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def load_artifact(path: Path, fmt: str, *, trusted: list[str], allow_pickle: bool) -> Any:
    """Open a trained model file in the format the manifest named; never fit it."""
    if not path.is_file():
        raise LoaderError(f"model.artifact: {path} does not exist", exit_code=2)
    if fmt == "onnx":
        return OnnxModel(path)
    if fmt == "skops":
        return _load_skops(path, trusted)
    if fmt == "joblib":
        if not allow_pickle:  # the host refuses this manifest; checked again where it matters
            raise LoaderError("model.artifact: a joblib pickle needs allow_pickle", exit_code=2)
        import joblib

        try:
            return joblib.load(path)
        except Exception as exc:
            raise LoaderError(f"loading {path.name} failed: {exc!r}", exit_code=3) from exc
    raise LoaderError(f"model.artifact: unknown format {fmt!r}", exit_code=2)


def _load_skops(path: Path, trusted: list[str]) -> Any:
    import skops.io

    try:
        untrusted = skops.io.get_untrusted_types(file=path)
    except Exception as exc:
        raise LoaderError(
            f"{path.name} is not a readable skops file: {exc!r}", exit_code=2
        ) from exc
    refused = sorted(set(untrusted) - set(trusted))
    if refused:
        raise LoaderError(
            f"{path.name} holds types skops does not trust by default: {refused}; "
            "fix: list each one you trust under model.trusted_types in pilot.yaml",
            exit_code=2,
        )
    try:
        return skops.io.load(path, trusted=sorted(untrusted))
    except Exception as exc:
        raise LoaderError(f"loading {path.name} failed: {exc!r}", exit_code=3) from exc


_ONNX_DTYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(string)": "object",
    "tensor(bool)": "bool",
}


class OnnxModel:
    """An ONNX graph with an estimator's `predict` and, for classifiers, `predict_proba`.

    Inputs: one tensor of every feature in the spec's order, or one input per feature named
    after it. Outputs: a label tensor and probabilities (a tensor, or skl2onnx's list of
    class -> probability maps), or, for a regressor, one tensor of numbers.
    """

    def __init__(self, path: Path) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # the container's CPU quota, not the host's cores
        options.inter_op_num_threads = 1
        try:
            self._session = onnxruntime.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise LoaderError(
                f"{path.name} is not a loadable ONNX model: {exc!r}", exit_code=2
            ) from exc
        self._inputs = self._session.get_inputs()
        self.classes_: Any = None

    def _feed(self, features: Any) -> dict[str, Any]:
        import numpy as np

        if len(self._inputs) == 1:
            only = self._inputs[0]
            dtype = _ONNX_DTYPES.get(only.type, "float32")
            return {only.name: np.asarray(features, dtype=dtype)}
        missing = [i.name for i in self._inputs if i.name not in features.columns]
        if missing:
            raise LoaderError(
                f"the ONNX graph's inputs {missing} are not model features "
                f"({list(features.columns)}); one input, or one per feature, is expected",
                exit_code=2,
            )
        return {
            i.name: np.asarray(features[i.name], dtype=_ONNX_DTYPES.get(i.type, "float32")).reshape(
                -1, 1
            )
            for i in self._inputs
        }

    def _run(self, features: Any) -> tuple[Any, Any]:
        """(labels or numbers, probabilities or None) from one run of the graph."""
        import numpy as np

        try:
            outputs = self._session.run(None, self._feed(features))
        except LoaderError:
            raise
        except Exception as exc:
            raise LoaderError(f"the ONNX graph failed to run: {exc!r}", exit_code=3) from exc
        first, proba = np.asarray(outputs[0]), None
        for extra in outputs[1:]:
            if isinstance(extra, list) and extra and isinstance(extra[0], dict):
                keys = sorted(extra[0])  # skl2onnx's ZipMap: one {class: probability} per row
                self.classes_ = np.asarray(keys)
                proba = np.asarray([[row[k] for k in keys] for row in extra], dtype=np.float64)
            elif np.asarray(extra).ndim == 2:
                proba = np.asarray(extra, dtype=np.float64)
                if self.classes_ is None:
                    self.classes_ = np.arange(proba.shape[1])
        if first.ndim == 2 and first.shape[1] == 1:
            first = first.ravel()
        return first, proba

    def predict(self, features: Any) -> Any:
        """Labels (classifier) or numbers (regressor), one per row."""
        return self._run(features)[0]

    def predict_proba(self, features: Any) -> Any:
        """Class probabilities, one row per input row; an error for a regressor."""
        proba = self._run(features)[1]
        if proba is None:
            raise LoaderError("the ONNX graph has no probability output", exit_code=3)
        return proba


def as_estimator(model: Any, *, classifier: bool, classes: Any = None) -> Any:
    """`model` itself if it is a scikit-learn estimator, else a delegating one around it.

    scikit-learn's scorers read a classifier's `classes_`: the model's own, else `classes`
    (the training labels' values).
    """
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.utils import metaestimators

    if isinstance(model, BaseEstimator):
        return model

    def _has(name: str) -> Any:
        return lambda self: callable(getattr(self.model, name, None))

    available_if: Callable[..., Callable[[_F], _F]] = metaestimators.available_if
    mixin: type = ClassifierMixin if classifier else RegressorMixin

    class Delegate(mixin, BaseEstimator):  # type: ignore[misc]
        """The pilot's object, seen by scikit-learn as a fitted estimator."""

        def __init__(self, model: Any = None) -> None:
            self.model = model

        def fit(self, features: Any, labels: Any) -> Any:
            return self  # already fitted: importance only predicts

        def predict(self, features: Any) -> Any:
            return self.model.predict(features)

        @available_if(_has("predict_proba"))
        def predict_proba(self, features: Any) -> Any:
            return self.model.predict_proba(features)

        @available_if(_has("decision_function"))
        def decision_function(self, features: Any) -> Any:
            return self.model.decision_function(features)

        def __sklearn_is_fitted__(self) -> bool:
            return True

    delegate = Delegate(model)
    own = getattr(model, "classes_", None)
    if classifier and (own is not None or classes is not None):
        delegate.classes_ = own if own is not None else classes
    return delegate


MODEL_FORMATS = ("onnx", "skops", "joblib")


def _bad(message: str) -> LoaderError:
    return LoaderError(message, exit_code=2)


def _failed(message: str) -> LoaderError:
    return LoaderError(message, exit_code=3)


def check_model(model: Any) -> dict[str, Any]:
    """The spec's `model` entry (default: a factory), checked for its kind."""
    model = model or {"kind": "factory"}
    kind = model.get("kind") if isinstance(model, dict) else None
    if kind == "artifact":
        if not isinstance(model.get("artifact"), str) or model.get("format") not in MODEL_FORMATS:
            raise _bad(f"spec.model: expected an artifact path and one of {list(MODEL_FORMATS)}")
        trusted = model.get("trusted_types", [])
        if not isinstance(trusted, list) or not all(isinstance(t, str) for t in trusted):
            raise _bad("spec.model.trusted_types: expected a list of type names")
    elif kind == "command":
        argv = model.get("command")
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
            raise _bad("spec.model.command: expected a non-empty list of arguments")
    elif kind != "factory":
        raise _bad(f"spec.model.kind: expected factory, artifact or command, got {kind!r}")
    return dict(model)


def positive_score(estimator: Any, features: Any) -> Any:
    """The score of class 1: `predict_proba`'s column, else the logistic of a binary margin.

    The logistic of `decision_function` keeps the ranking (ROC AUC) but is not calibrated.
    None when the model has neither, or its classes are not 0/1.
    """
    import numpy as np

    if callable(getattr(estimator, "predict_proba", None)):
        try:
            proba = np.asarray(estimator.predict_proba(features), dtype=np.float64)
        except LoaderError:
            raise
        except Exception as exc:
            raise _failed(f"predict_proba() failed: {exc!r}") from exc
        own = getattr(estimator, "classes_", None)
        classes = [int(c) for c in (own if own is not None else [0, 1])]
        if 1 not in classes or proba.ndim != 2 or proba.shape[1] != len(classes):
            return None
        return proba[:, classes.index(1)]
    if callable(getattr(estimator, "decision_function", None)):
        try:
            margin = np.asarray(estimator.decision_function(features), dtype=np.float64)
        except Exception as exc:
            raise _failed(f"decision_function() failed: {exc!r}") from exc
        if margin.ndim != 1:
            return None
        return 1.0 / (1.0 + np.exp(-np.clip(margin, -500, 500)))
    return None


def run_command(argv: list[str], *, cwd: Path, output: Path) -> None:
    """Run the pilot's own program in `cwd` without a shell; it writes `output` itself."""
    import os
    import subprocess
    import sys

    sys.stdout.flush()  # keep the log in order: the program writes to the same streams
    try:
        completed = subprocess.run(argv, cwd=cwd, env=dict(os.environ), check=False)
    except OSError as exc:
        raise _bad(f"spec.model.command: cannot start {argv[0]!r}: {exc}") from exc
    if completed.returncode != 0:
        raise _failed(f"the command {argv!r} exited with status {completed.returncode}")
    if not (output / "predictions.csv").is_file():
        raise _failed(f"the command {argv!r} wrote no {output}/predictions.csv")
    print(f"harness: the command {argv!r} finished and wrote {output}/predictions.csv")


def save_model(estimator: Any, folder: Path) -> None:
    """The fitted model as `folder`/model.joblib; a model that cannot be pickled is noted."""
    import sys

    import joblib

    folder.mkdir(exist_ok=True)
    try:
        joblib.dump(estimator, folder / "model.joblib")
    except Exception as exc:  # e.g. a lambda attribute: the run's evidence does not need it
        (folder / "model.joblib").unlink(missing_ok=True)
        print(f"harness: warning: the fitted model could not be saved: {exc!r}", file=sys.stderr)
