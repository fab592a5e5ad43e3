"""`sandbox init`: a minimal pilot folder for a team with its own data.

What the command line says (the task, the label, features, sensitive and PII columns, the data
file) is written in; every other answer the pilot needs is a `TODO:` placeholder saying what to
write, which `sandbox policy check` refuses until it is completed (`sandbox.placeholders`).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sandbox.blueprints.layout import MODEL_NAME, README_NAME
from sandbox.errors import UserInputError
from sandbox.manifest import MANIFEST_NAME
from sandbox.placeholders import placeholder
from sandbox.policies.impact import MITIGATIONS, QUESTIONS

__all__ = ["TASK_TYPES", "Scaffold", "write_scaffold"]

#: The short names `--task` takes, and the task type each stands for.
TASK_TYPES: Final[dict[str, str]] = {
    "binary": "binary_classification",
    "multiclass": "multiclass_classification",
    "regression": "regression",
    "ranking": "ranking",
}

_ESTIMATORS: Final[dict[str, tuple[str, str]]] = {
    "binary_classification": ("sklearn.linear_model", "LogisticRegression"),
    "multiclass_classification": ("sklearn.linear_model", "LogisticRegression"),
    "ranking": ("sklearn.linear_model", "LogisticRegression"),
    "regression": ("sklearn.linear_model", "Ridge"),
}

_TRANSPARENCY: Final[dict[str, str]] = {
    "organisation": "the organisation that runs the pilot",
    "tool_description": "what the tool does, in two plain sentences",
    "decision_making_process": "how the predictions are used, and who decides",
    "human_decisions_and_review": "which decisions people take, and how they review the model",
    "appeals_and_review": "how a resident asks for a person to review a decision",
    "training_data": "where the data come from and what they record",
    "benefits": "what residents gain",
    "risks": "what can go wrong, and for whom",
    "mitigations": "what the team does about each risk",
}


@dataclass(frozen=True, kw_only=True)
class Scaffold:
    """What `write_scaffold` made, and how many fields are left to complete."""

    path: Path
    files: tuple[str, ...]
    placeholders: int


def _q(value: str) -> str:
    """A YAML scalar for `value` (JSON strings are YAML)."""
    return json.dumps(value, ensure_ascii=False)


def _list(values: Sequence[str], missing: str, indent: str = "    ") -> str:
    items = values or [placeholder(missing)]
    return "".join(f"\n{indent}- {_q(v)}" for v in items)


def _slug(folder: Path) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", folder.resolve().name.lower()).strip("-")
    return slug or "my-pilot"


def _task_section(task: str) -> str:
    lines = [f"  type: {task}"]
    if task in ("binary_classification", "ranking"):
        lines += [
            f"  positive_label: {_q(placeholder('the label value a positive prediction means'))}",
            f"  positive_meaning: {_q(placeholder('what it leads to, e.g. referred for review'))}",
        ]
    if task == "ranking":
        lines.append(f"  budget: {{k: {_q(placeholder('how many cases staff can act on'))}}}")
    if task == "regression":
        lines.append(f"  unit: {_q(placeholder('the unit of the label, e.g. days'))}")
    return "\n".join(lines)


def _impact_section() -> str:
    lines = []
    for question in QUESTIONS:
        answers = " | ".join(question.weights)
        lines.append(f"    # {question.text}")
        lines.append(f"    {question.id}: {_q(placeholder(answers))}")
    lines.append(f"    mitigations: []  # any of: {', '.join(MITIGATIONS)}")
    lines.append(f"    notes: {_q(placeholder('why these answers'))}")
    return "\n".join(lines)


def manifest_text(
    folder: Path,
    *,
    task: str,
    label: str | None,
    features: Sequence[str],
    sensitive: Sequence[str],
    pii: Sequence[str],
    data_path: str | None,
    columns: Sequence[str] = (),
) -> str:
    """The scaffold's pilot.yaml, comments included."""
    source = data_path or placeholder("data/your-file.csv (put the file in the data/ folder)")
    known = f"\n  # columns of {data_path}: {', '.join(columns)}" if columns else ""
    transparency = "".join(
        f"\n    {key}: {_q(placeholder(what))}" for key, what in _TRANSPARENCY.items()
    )
    return f"""# pilot.yaml made by `sandbox init`. Every value that starts with "TODO:" is yours to
# complete: `sandbox policy check` refuses the manifest while one is left. The manifest's JSON
# Schema: `sandbox schema pilot`; a guide to each section: docs/city-data-teams.md.
manifest_version: 1

pilot:
  name: {_slug(folder)}
  version: 0.1.0
  title: {_q(placeholder("a short title residents would understand"))}
  owner:
    city: {_q(placeholder("your city"))}
    department: {_q(placeholder("the department that owns the pilot"))}
    contact: {_q(placeholder("a team mailbox, e.g. ai-pilot@city.example"))}
  purpose: {_q(placeholder("what the model is for, and what it never decides"))}
  problem: {_q(placeholder("the resident-facing problem, in plain words"))}
  intended_users:{_list([], "who uses the predictions, and for what")}
  success_indicators:{_list([], "a measurable sign that the pilot helps residents")}
  phase: prototype

task:
{_task_section(task)}

data:{known}
  sources:
    - path: {_q(source)}
  label: {_q(label or placeholder("the column the model learns to predict"))}
  # The only columns the model sees: never a sensitive attribute, personal data or a proxy.
  features:{_list(features, "a column the model may use", "    ")}
  # Used only to audit outcomes by group; they never reach the model.
  sensitive:{_list(sensitive, "a column to audit by, e.g. race_ethnicity or district", "    ")}
  # Personal data (names, addresses, phone numbers, case ids): never leave the host.
  pii: [{", ".join(_q(c) for c in pii)}]
  # Features you know stand in for a sensitive attribute (e.g. a neighbourhood): kept out.
  proxies: []
  split:
    evaluation_fraction: 0.3
    seed: 1

model:
  entrypoint: {MODEL_NAME}:build_model
  params: {{}}
  seed: 1
  code: [{MODEL_NAME}]

evaluation:
  min_group_size: 30

governance:
  policy_packs: [baseline]
  # `sandbox assess` scores these answers into an impact level (I-IV).
  impact_assessment:
{_impact_section()}
  human_oversight: {_q(placeholder("who reviews the predictions, and how they can overrule"))}
  data_retention: {_q(placeholder("how long data and pilot artefacts are kept, and why"))}
  transparency:{transparency}
"""


def model_text(task: str) -> str:
    """The scaffold's model.py for `task`: imputation, encoding and a plain estimator."""
    module, estimator = _ESTIMATORS[task]
    options = "max_iter=1000, " if estimator == "LogisticRegression" else ""
    return f'''"""The model: `build_model(**params)` returns an unfitted estimator the harness fits.

The harness runs it inside the isolated container with `model.params` from pilot.yaml and fits
it on /input/train.parquet, which holds only the columns of `data.features` and the label. Numbers
are median-imputed and scaled; text columns are one-hot encoded (levels unseen in training are
ignored). Replace the estimator with your own: any object with fit and predict works.
"""

import numpy as np
import pandas as pd
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from {module} import {estimator}


def _as_object(frame):
    """Text columns as plain objects, every blank as np.nan (what the imputer expects)."""
    data = pd.DataFrame(frame)
    return data.astype(object).where(data.notna(), np.nan)


def build_model(**params):
    """An unfitted pipeline; `params` (pilot.yaml model.params) go to the estimator."""
    numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    text = make_pipeline(
        FunctionTransformer(_as_object),
        SimpleImputer(strategy="constant", fill_value="not_reported"),
        OneHotEncoder(handle_unknown="ignore", min_frequency=5),
    )
    preprocess = make_column_transformer(
        (numeric, make_column_selector(dtype_include="number")),
        (text, make_column_selector(dtype_exclude="number")),
    )
    return make_pipeline(preprocess, {estimator}({options}**params))
'''


def _columns(path: Path) -> list[str]:
    """The column names of a CSV or Parquet file (its header only)."""
    import pandas as pd

    try:
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        return [str(c) for c in pd.read_csv(path, nrows=0).columns]
    except Exception:  # the data stage reports a bad file properly; here it is a comment
        return []


def write_scaffold(
    folder: Path,
    *,
    task: str = "binary",
    label: str | None = None,
    features: Sequence[str] = (),
    sensitive: Sequence[str] = (),
    pii: Sequence[str] = (),
    data: Path | None = None,
) -> Scaffold:
    """Write pilot.yaml, model.py, README.md (and data/, with `data`) into a new `folder`."""
    task_type = TASK_TYPES.get(task, task)
    if task_type not in _ESTIMATORS:
        raise UserInputError(
            f"--task {task!r}: use one of {', '.join(TASK_TYPES)} (or its full task type name)"
        )
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise UserInputError(f"{folder}: exists and is not an empty folder; name a new folder")
    if data is not None and not data.is_file():
        raise UserInputError(f"--data {data}: not a file; name your CSV or Parquet file")
    folder.mkdir(parents=True, exist_ok=True)
    files = [MANIFEST_NAME, MODEL_NAME, README_NAME]
    data_path, columns = None, []
    if data is not None:
        (folder / "data").mkdir()
        shutil.copyfile(data, folder / "data" / data.name)
        data_path = f"data/{data.name}"
        columns = _columns(folder / "data" / data.name)
        files.append(data_path)
    text = manifest_text(
        folder,
        task=task_type,
        label=label,
        features=features,
        sensitive=sensitive,
        pii=pii,
        data_path=data_path,
        columns=columns,
    )
    (folder / MANIFEST_NAME).write_text(text, encoding="utf-8")
    (folder / MODEL_NAME).write_text(model_text(task_type), encoding="utf-8")
    (folder / README_NAME).write_text(_readme(folder), encoding="utf-8")
    from sandbox.placeholders import PLACEHOLDER

    count = sum(line.count(f'"{PLACEHOLDER}') for line in text.splitlines())
    return Scaffold(path=folder, files=tuple(files), placeholders=count)


def _readme(folder: Path) -> str:
    return f"""# {_slug(folder)}

A pilot made by `sandbox init`. Next steps:

1. Complete every `TODO:` in `{MANIFEST_NAME}` (`sandbox policy check .` lists those left).
2. `sandbox assess .` shows the impact level your answers give.
3. `sandbox run . --out reports/` runs the pilot and writes its reports.

A guide to each section: docs/city-data-teams.md. To start from a complete example instead,
`sandbox blueprint list` shows the reference blueprints.
"""
