"""The built-in harness, run inside the runner container as `python3 /opt/sandbox/harness.py`.

Standalone on purpose (standard library, numpy, pandas, scikit-learn; never `sandbox`): it is
copied into the runner image and is part of the image's content-addressed tag.

Reads /input/spec.json, /input/train.parquet and /input/score.parquet (`input_tables.py`),
then runs the spec's kind of model (`model.kind`):

- `factory` (the default): imports the pilot's factory from /pilot, which returns any object
  with `fit` and `predict`; fits it on the training rows less a seeded hold-back (the spec's
  `explain.holdout_fraction`, the manifest's `model.importance_holdout`: ceil(fraction x rows)
  rows, as scikit-learn's `train_test_split` takes them; the host draws them and writes the
  fitted rows first, `explain.fit_rows` of them, so the harness only slices); writes
  /output/predictions.csv, /output/explanations.json (permutation importance on the held-back
  rows, or on the fitted rows when the fraction is 0) and /output/model/model.joblib (opaque
  to the host, which only hashes it). The host reports the same fitted-row count from the
  same rule.
- `artifact`: loads a vendor's trained model file from /pilot (`model_loaders.py`, beside this
  file) and only predicts; importance is measured on the training rows, when there are any.
- `command`: runs the pilot's own argv in /pilot, without a shell; it must write
  /output/predictions.csv itself.

Importance wraps any object scikit-learn does not know; when it cannot be measured,
explanations.json says why (`skipped`).

What to write comes from the spec's `outputs`, which the host derives from the pilot's task
type: the kind of prediction (`binary` 0/1 labels, `label` class values, `number`, or
`score`: a ranking's score, class 1's as `positive_score` gives it, else `predict`), whether
to add a `score` column (`probability`: the probability of class 1), and the scikit-learn
scoring name for the importances. An assistant's spec goes to `assistant_harness.py`.

With `--wait-for PATH [--preload]` the harness first loads its libraries (with `--preload`:
pandas, pyarrow and scikit-learn's common modules), then waits until PATH exists
(`input_tables.wait_for`): the host starts the container while it still writes the
inputs, and creates PATH once they are complete and recorded, so those seconds of imports
overlap the host's work and the pilot's code runs only after the go.

Exit codes: 0 done, 2 bad spec or input files, 3 the pilot's factory or model failed.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
import traceback
from pathlib import Path
from typing import Any

INPUT = Path("/input")
PILOT = Path("/pilot")
OUTPUT = Path("/output")
PREDICTION_KINDS = ("binary", "label", "number", "score")
SCORE_KINDS = (None, "probability")
EXPLAIN_DEFAULTS = {"holdout_fraction": 0.2, "n_repeats": 5, "max_rows": 5000}


class HarnessError(Exception):
    """A failure with a message for the person reading the run's stderr."""

    def __init__(self, message: str, *, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def bad_input(message: str) -> HarnessError:
    return HarnessError(message, exit_code=2)


def model_failure(message: str) -> HarnessError:
    return HarnessError(message, exit_code=3)


def load_spec(path: Path) -> dict[str, Any]:
    """Read and check spec.json; every problem names the field and what was expected."""
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise bad_input(f"{path}: missing") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_input(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(spec, dict):
        raise bad_input(f"{path}: expected a JSON object")
    outputs = spec.get("outputs")
    if not isinstance(outputs, dict):
        raise bad_input("spec.outputs: expected an object saying what to write")
    if outputs.get("prediction") not in PREDICTION_KINDS:
        raise bad_input(
            f"spec.outputs.prediction: expected one of {list(PREDICTION_KINDS)}, "
            f"got {outputs.get('prediction')!r}"
        )
    if outputs.get("score") not in SCORE_KINDS:
        raise bad_input(
            f"spec.outputs.score: expected one of {list(SCORE_KINDS)}, got {outputs.get('score')!r}"
        )
    if not isinstance(outputs.get("scoring"), str) or not outputs["scoring"]:
        raise bad_input("spec.outputs.scoring: expected a scikit-learn scoring name")
    if not isinstance(spec.get("label"), str) or not spec["label"]:
        raise bad_input("spec.label: expected a column name")
    features = spec.get("features")
    if (
        not isinstance(features, list)
        or not features
        or not all(isinstance(f, str) and f for f in features)
        or len(set(features)) != len(features)
    ):
        raise bad_input("spec.features: expected a non-empty list of distinct column names")
    if spec["label"] in features or "row_id" in features:
        raise bad_input("spec.features: must not contain the label or 'row_id'")
    types = spec.get("types", {})
    if not isinstance(types, dict) or not all(isinstance(t, str) for t in types.values()):
        raise bad_input("spec.types: expected an object of column -> declared type")
    model = loaders().check_model(spec.get("model"))
    entrypoint = spec.get("entrypoint")
    if model["kind"] == "factory" and (
        not isinstance(entrypoint, str) or entrypoint.count(":") != 1
    ):
        raise bad_input(f"spec.entrypoint: expected 'file.py:factory', got {entrypoint!r}")
    params = spec.get("params", {})
    if not isinstance(params, dict):
        raise bad_input("spec.params: expected an object of keyword arguments")
    seed = spec.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise bad_input("spec.seed: expected an integer in [0, 2**32)")
    explain = {**EXPLAIN_DEFAULTS, **(spec.get("explain") or {})}
    fraction = explain["holdout_fraction"]
    if not isinstance(fraction, int | float) or not 0.0 <= fraction < 1.0:
        raise bad_input("spec.explain.holdout_fraction: expected a number in [0, 1)")
    for key in ("n_repeats", "max_rows"):
        value = explain[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise bad_input(f"spec.explain.{key}: expected a positive integer")
    return {**spec, "model": model, "params": params, "seed": seed, "explain": explain}


@functools.cache
def loaders(name: str = "model_loaders") -> Any:
    """A standalone module shipped beside this file: `model_loaders`, `input_tables`, ..."""
    path = Path(__file__).with_name(f"{name}.py")
    module_spec = importlib.util.spec_from_file_location(f"sandbox_{name}", path)
    if module_spec is None or module_spec.loader is None:
        raise HarnessError(f"{path} is missing from the runner image", exit_code=1)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def load_factory(entrypoint: str) -> Any:
    """Import the pilot's module by path (the folder is read-only) and return the factory."""
    filename, _, name = entrypoint.partition(":")
    path = (PILOT / filename).resolve()
    if PILOT.resolve() not in path.parents or path.suffix != ".py":
        raise bad_input(f"spec.entrypoint: {filename!r} is not a .py file inside /pilot")
    if not path.is_file():
        raise bad_input(f"spec.entrypoint: /pilot/{filename} does not exist")
    sys.path.insert(0, str(path.parent))  # let the model import its sibling modules
    module_spec = importlib.util.spec_from_file_location("pilot_model", path)
    if module_spec is None or module_spec.loader is None:
        raise bad_input(f"spec.entrypoint: cannot import /pilot/{filename}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules["pilot_model"] = module
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:
        raise model_failure(f"importing /pilot/{filename} failed: {exc!r}") from exc
    factory = getattr(module, name, None)
    if not callable(factory):
        raise bad_input(f"spec.entrypoint: /pilot/{filename} has no callable {name!r}")
    return factory


def build_estimator(factory: Any, params: dict[str, Any], seed: int) -> Any:
    """Call the factory, then pin every `*random_state` parameter to the run's seed.

    Any object with `fit` and `predict` will do; the seed is pinned through `set_params` where
    the object has scikit-learn's parameter interface, and is the object's own affair elsewhere.
    """
    try:
        estimator = factory(**params)
    except Exception as exc:
        raise model_failure(f"the factory raised {exc!r} with params {params!r}") from exc
    for method in ("fit", "predict"):
        if not callable(getattr(estimator, method, None)):
            raise model_failure(f"the factory returned {type(estimator).__name__}, no {method}()")
    if not all(callable(getattr(estimator, m, None)) for m in ("get_params", "set_params")):
        return estimator
    seeded = {
        key: seed
        for key in estimator.get_params(deep=True)
        if key == "random_state" or key.endswith("__random_state")
    }
    if seeded:
        estimator.set_params(**seeded)
    return estimator


def read_input(path: Path, columns: list[str], types: dict[str, str] | None = None) -> Any:
    """The `columns` of a Parquet input file, each as the model always saw it (`input_tables`)."""
    return loaders("input_tables").read_input(path, columns, types or {}, bad_input)


def _checked_predictions(predicted: Any, kind: str) -> Any:
    """The predictions as the spec's kind asks: 0/1 integers, class values, or finite numbers."""
    import numpy as np

    if kind == "label":
        return predicted
    if kind == "number":
        try:
            numbers = predicted.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise model_failure("predict() must return numbers") from exc
        if not np.isfinite(numbers).all():
            raise model_failure("predict() returned values that are not finite numbers")
        return numbers
    try:
        as_int = predicted.astype(np.int64)
    except (TypeError, ValueError) as exc:
        raise model_failure("predict() must return 0/1 labels") from exc
    if not np.array_equal(as_int, predicted) or not set(np.unique(as_int)) <= {0, 1}:
        raise model_failure("predict() must return 0/1 labels")
    return as_int


def predict(estimator: Any, features: Any, row_ids: Any, outputs: dict[str, Any]) -> Any:
    import numpy as np
    import pandas as pd

    try:
        predicted = np.asarray(estimator.predict(features))
    except Exception as exc:
        raise model_failure(f"predict() failed: {exc!r}") from exc
    if predicted.shape != (len(row_ids),):
        raise model_failure(f"predict() returned shape {predicted.shape}, not ({len(row_ids)},)")
    kind = outputs["prediction"]
    if kind == "score":  # a ranking: class 1's score orders the rows, else predict()'s numbers
        score = loaders().positive_score(estimator, features)
        values = _checked_predictions(predicted if score is None else np.asarray(score), "number")
    else:
        values = _checked_predictions(predicted, kind)
    frame = pd.DataFrame({"row_id": row_ids.to_numpy(), "prediction": values})
    if outputs["score"] == "probability":
        score = loaders().positive_score(estimator, features)
        if score is not None:
            frame["score"] = score
    return frame


def explain(estimator: Any, features: Any, labels: Any, spec: dict[str, Any]) -> dict[str, Any]:
    """Permutation importance on the holdout rows (seeded, capped in rows)."""
    from sklearn.inspection import permutation_importance

    settings = spec["explain"]
    seed = spec["seed"]
    scoring = spec["outputs"]["scoring"]
    if len(features) > settings["max_rows"]:
        features = features.sample(n=settings["max_rows"], random_state=seed)
        labels = labels.loc[features.index]
    result: dict[str, Any] = {
        "method": "permutation_importance",
        "scoring": scoring,
        "n_repeats": settings["n_repeats"],
        "rows": len(features),
        "features": [],
    }
    if len(features) == 0 or labels.nunique() < 2:
        result["skipped"] = "no labelled rows with two or more label values to measure it on"
        return result
    classifier = spec["outputs"]["prediction"] != "number"
    scorable = loaders().as_estimator(
        estimator, classifier=classifier, classes=sorted(labels.unique()) if classifier else None
    )
    try:
        importance = permutation_importance(
            scorable,
            features,
            labels,
            scoring=scoring,
            n_repeats=settings["n_repeats"],
            random_state=seed,
            n_jobs=1,
        )
    except Exception as exc:
        if scorable is estimator:
            raise model_failure(f"permutation importance failed: {exc!r}") from exc
        # An object scikit-learn does not know may not behave as its scorers expect: importance
        # is then skipped with the reason, never a failed run.
        result["skipped"] = f"permutation importance failed for this model: {exc!r}"[:480]
        return result
    result["features"] = [
        {"feature": name, "importance_mean": float(mean), "importance_std": float(std)}
        for name, mean, std in zip(
            spec["features"], importance.importances_mean, importance.importances_std, strict=True
        )
    ]
    return result


def read_train(spec: dict[str, Any], *, required: bool) -> Any:
    """The training rows; for a trained model file they are optional (importance only)."""
    features, label = spec["features"], spec["label"]
    path = INPUT / "train.parquet"
    if not required and not path.is_file():
        return None
    train = read_input(path, [*features, label], spec.get("types") or {})
    binary = spec["outputs"]["prediction"] in ("binary", "score")
    if binary and not set(train[label].unique()) <= {0, 1}:
        raise bad_input(f"{path}: label {label!r} must be encoded 0/1 by the host")
    return train


def write_explanations(explanations: dict[str, Any]) -> None:
    (OUTPUT / "explanations.json").write_text(
        json.dumps(explanations, indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )


def run_artifact(spec: dict[str, Any]) -> None:
    """Load a vendor's trained model file, predict, and measure importance; never fit."""
    model, features = spec["model"], spec["features"]
    estimator = loaders().load_artifact(
        PILOT / model["artifact"],
        model["format"],
        trusted=list(model.get("trusted_types", [])),
        allow_pickle=model.get("allow_pickle") is True,
    )
    score = read_input(INPUT / "score.parquet", ["row_id", *features], spec.get("types"))
    predictions = predict(estimator, score[features], score["row_id"], spec["outputs"])
    predictions.to_csv(OUTPUT / "predictions.csv", index=False)
    train = read_train(spec, required=False)
    if train is None:
        explanations = {"method": "permutation_importance", "features": [], "rows": 0}
        explanations["skipped"] = "no labelled rows crossed the wall to measure it on"
    else:
        explanations = explain(estimator, train[features], train[spec["label"]], spec)
    write_explanations(explanations)
    print(
        f"harness: loaded {model['artifact']} ({model['format']}, not fitted), scored "
        f"{len(predictions)} rows, importance measured on {explanations['rows']} rows"
    )


def run() -> None:
    if loaders("assistant_harness").is_assistant(INPUT / "spec.json"):
        loaders("assistant_harness").run(INPUT, PILOT, OUTPUT, load_factory, HarnessError)
        return
    spec = load_spec(INPUT / "spec.json")
    kind = spec["model"]["kind"]
    if kind == "command":
        loaders().run_command(spec["model"]["command"], cwd=PILOT, output=OUTPUT)
        return
    if kind == "artifact":
        run_artifact(spec)
        return
    features, label = spec["features"], spec["label"]
    train = read_train(spec, required=True)
    score = read_input(INPUT / "score.parquet", ["row_id", *features], spec.get("types"))
    labels = train[label]
    outputs = spec["outputs"]
    estimator = build_estimator(load_factory(spec["entrypoint"]), spec["params"], spec["seed"])
    fraction = float(spec["explain"]["holdout_fraction"])
    classes = outputs["prediction"] != "number"
    fit_rows = spec["explain"].get("fit_rows")
    tables = loaders("input_tables")
    if fit_rows is None or not fraction:  # a spec written before the host drew the hold-back
        fit_x, hold_x, fit_y, hold_y = tables.split(
            train[features], labels, fraction, spec["seed"], classes=classes
        )
    else:
        fit_x, hold_x, fit_y, hold_y = tables.drawn_split(
            train[features], labels, fit_rows, bad_input
        )
    try:
        estimator.fit(fit_x, fit_y)
    except Exception as exc:
        raise model_failure(f"fit() failed: {exc!r}") from exc
    predictions = predict(estimator, score[features], score["row_id"], outputs)
    predictions.to_csv(OUTPUT / "predictions.csv", index=False)
    # with no hold-back, importance is measured on the rows the model was fitted on
    explanations = (
        explain(estimator, hold_x, hold_y, spec)
        if fraction
        else explain(estimator, fit_x, fit_y, spec)
    )
    write_explanations(explanations)
    loaders().save_model(estimator, OUTPUT / "model")
    print(
        f"harness: fitted on {len(fit_x)} of {len(train)} training rows "
        f"({len(hold_x)} held back for importance), scored {len(predictions)} rows, "
        f"importance measured on {explanations['rows']} rows ({type(estimator).__name__})"
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        if args[:1] == ["--wait-for"] and len(args) in (2, 3):
            preload = args[2:] == ["--preload"]
            loaders("input_tables").wait_for(Path(args[1]), bad_input, preload=preload)
        run()
    except HarnessError as exc:
        print(f"harness: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except MemoryError:
        print("harness: error: out of memory", file=sys.stderr)
        return 3
    except Exception as exc:
        # model_loaders' LoaderError has the same shape (its module is loaded by path)
        if type(exc).__name__ == "LoaderError" and isinstance(getattr(exc, "exit_code", 0), int):
            print(f"harness: error: {exc}", file=sys.stderr)
            return int(exc.exit_code)  # type: ignore[attr-defined]
        traceback.print_exc(file=sys.stderr)
        print("harness: error: unexpected failure (traceback above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
