"""Pilot folders with several data files and roles (train, evaluation, score), for tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from tests.pilots import MODEL_PY, make_frame, manifest_dict


def dated_frame(rows: int = 400, seed: int = 0) -> pd.DataFrame:
    """`make_frame` rows with an application date over 2023 and a household id."""
    frame = make_frame(rows, seed)
    rng = np.random.default_rng(seed + 1)
    days = np.sort(rng.integers(0, 365, size=rows))
    frame["applied"] = (pd.Timestamp("2023-01-01") + pd.to_timedelta(days, unit="D")).strftime(
        "%Y-%m-%d"
    )
    frame["household"] = [f"h{i}" for i in rng.integers(0, rows // 3, size=rows)]
    return frame


def current_cases(rows: int = 50, seed: int = 9) -> pd.DataFrame:
    """Current cases to score: features, groups, a case number, no label."""
    frame = make_frame(rows, seed).drop(columns=["eligible"])
    frame["case"] = [f"C-{1000 + i}" for i in range(rows)]
    return frame


def write_files(
    folder: Path, files: dict[str, pd.DataFrame], *, data: dict[str, Any] | None = None
) -> Path:
    """Write every file, model.py and a pilot.yaml whose data section is updated by `data`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in files.items():
        frame.to_csv(folder / name, index=False)
    manifest = manifest_dict()
    manifest["data"] = {**manifest["data"], **(data or {})}
    if any(s.get("role") == "evaluation" for s in manifest["data"]["sources"]):
        manifest["data"].pop("split", None)  # evaluation sources make no split
    (folder / "pilot.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    (folder / "model.py").write_text(MODEL_PY)
    return folder


def train_and_score(folder: Path, **data: Any) -> Path:
    """A pilot with labelled history (split for evaluation) and a file of current cases."""
    return write_files(
        folder,
        {"history.csv": make_frame(), "current.csv": current_cases()},
        data={
            "sources": [{"path": "history.csv"}, {"path": "current.csv", "role": "score"}],
            **data,
        },
    )
