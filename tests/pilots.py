"""Small pilot folders for tests, written on the fly (data generated here, never by pilot code)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

MODEL_PY = """\
from sklearn.linear_model import LogisticRegression


def build_model(**params):
    return LogisticRegression(max_iter=200, **params)
"""


def make_frame(rows: int = 400, seed: int = 0) -> pd.DataFrame:
    """Rows with two numeric features, a binary label, two sensitive attributes and PII."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], size=rows, p=[0.5, 0.3, 0.2])
    sex = rng.choice(["female", "male"], size=rows)
    income = rng.normal(3000, 800, size=rows).round(2)
    size = rng.integers(1, 6, size=rows)
    logit = -0.001 * (income - 3000) + 0.3 * (size - 3) + np.where(group == "c", -0.4, 0.0)
    label = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "income": income,
            "household_size": size,
            "group": group,
            "sex": sex,
            "full_name": [f"Resident {i}" for i in range(rows)],
            "email": [f"resident{i}@example.org" for i in range(rows)],
            "eligible": np.where(label == 1, "yes", "no"),
        }
    )


def manifest_dict(**overrides: Any) -> dict[str, Any]:
    """A valid manifest as a dict; top-level sections can be replaced."""
    manifest: dict[str, Any] = {
        "pilot": {
            "name": "test-pilot",
            "version": "0.1.0",
            "owner": {"city": "Testville", "department": "Data", "contact": "data@example.org"},
            "purpose": "Test the sandbox.",
            "problem": "Residents wait too long.",
            "intended_users": ["analysts"],
            "success_indicators": ["shorter waits"],
        },
        "task": {"type": "binary_classification", "positive_label": "yes"},
        "data": {
            "sources": [{"path": "data.csv"}],
            "label": "eligible",
            "features": ["income", "household_size"],
            "sensitive": ["group", "sex"],
            "pii": ["full_name", "email"],
            "split": {"evaluation_fraction": 0.3, "seed": 7},
        },
        "model": {"entrypoint": "model.py:build_model", "params": {"C": 1.0}, "seed": 3},
        "evaluation": {"min_group_size": 20, "bootstrap": 50},
    }
    manifest.update(overrides)
    return manifest


def write_pilot(
    folder: Path, *, manifest: dict[str, Any] | None = None, frame: pd.DataFrame | None = None
) -> Path:
    """Write pilot.yaml, data.csv and model.py into `folder`; return it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pilot.yaml").write_text(yaml.safe_dump(manifest or manifest_dict(), sort_keys=False))
    (make_frame() if frame is None else frame).to_csv(folder / "data.csv", index=False)
    (folder / "model.py").write_text(MODEL_PY)
    return folder
