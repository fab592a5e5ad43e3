"""A toy 311-routing pilot: requests routed to one of three departments (multiclass).

Each request carries counts of keywords from its description; the department it belongs to
makes its own keywords more frequent. Districts and the caller's language are the sensitive
attributes (independent of the department unless a test plants a disparity); the caller's
phone number is PII.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tests.pilots import manifest_dict, write_pilot

DEPARTMENTS = ("parks", "roads", "water")
KEYWORDS = ("words_parks", "words_roads", "words_water")

ROUTING_MODEL = """\
from sklearn.linear_model import LogisticRegression


def build_model(**params):
    return LogisticRegression(max_iter=500, **params)
"""


def make_requests(rows: int = 1500, seed: int = 0) -> pd.DataFrame:
    """311 requests: keyword counts, hour, district, language, phone and the department."""
    rng = np.random.default_rng(seed)
    department = rng.choice(DEPARTMENTS, size=rows, p=[0.3, 0.4, 0.3])
    frame = pd.DataFrame({"request_hour": rng.integers(0, 24, rows)})
    for name, keyword in zip(DEPARTMENTS, KEYWORDS, strict=True):
        frame[keyword] = rng.poisson(np.where(department == name, 3.0, 0.6))
    frame["district"] = rng.choice(["north", "south", "east"], size=rows, p=[0.4, 0.35, 0.25])
    frame["language"] = rng.choice(["en", "es"], size=rows, p=[0.6, 0.4])
    frame["caller_phone"] = [f"555-01{i:04d}" for i in range(rows)]
    frame["department"] = department
    return frame


def routing_manifest(**task: Any) -> dict[str, Any]:
    """A manifest for the routing pilot (task options such as `classes` may be given)."""
    manifest = manifest_dict(task={"type": "multiclass_classification", **task})
    manifest["pilot"]["name"] = "request-routing"
    manifest["pilot"]["purpose"] = "Suggest the department for each 311 request."
    manifest["data"].update(
        label="department",
        features=["request_hour", *KEYWORDS],
        sensitive=["district", "language"],
        pii=["caller_phone"],
    )
    manifest["evaluation"] = {"min_group_size": 30, "bootstrap": 200}
    return manifest


def write_routing_pilot(folder: Path, *, frame: pd.DataFrame | None = None, **task: Any) -> Path:
    """Write the routing pilot (manifest, requests, a logistic-regression model) into `folder`."""
    pilot = write_pilot(
        folder,
        manifest=routing_manifest(**task),
        frame=make_requests() if frame is None else frame,
    )
    (pilot / "model.py").write_text(ROUTING_MODEL)
    return pilot
