"""Pack suites: sample pilots with the verdicts a pack must give them (policies as data).

Each built-in pack folder holds `suite.yaml` and `samples/`. A sample is a pilot folder:
`pilot.yaml`, optionally its data (for the data rules), and, to exercise post-run rules, an
`evaluation.yaml` with the confusion counts of each group and optionally `explanations.json`.
A case names a sample, the packs to apply (default: the suite's pack), optional launch facts
(image digest, hardening) and the expected verdict and rule outcomes. A city can write a
suite beside its own pack the same way.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sandbox.errors import PolicyPackError
from sandbox.manifest import describe_validation_error, load_manifest, read_yaml
from sandbox.policies.engine import check_stage, decide
from sandbox.policies.hardening import effective_hardening
from sandbox.policies.pack import load_pack
from sandbox.policies.rules import RuleContext
from sandbox.policies.verdict import Outcome, Verdict, VerdictStatus
from sandbox.runtime.base import Hardening

__all__ = ["Suite", "SuiteCase", "load_suite", "run_case"]

SUITE_NAME = "suite.yaml"
EVALUATION_NAME = "evaluation.yaml"
CELLS = ("tn", "fp", "fn", "tp")


class SuiteCase(BaseModel):
    """One sample pilot and the verdict expected for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    pilot: str = Field(description="The sample folder, relative to the suite file.")
    packs: tuple[str, ...] = Field(default=(), description="Default: the suite's pack.")
    image_digest: str | None = None
    hardening: dict[str, int | float | str] = Field(default_factory=dict)
    verdict: VerdictStatus
    outcomes: dict[str, Outcome] = Field(default_factory=dict)


class Suite(BaseModel):
    """The expected verdicts of a pack's samples."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pack: str
    cases: tuple[SuiteCase, ...] = Field(min_length=1)


def load_suite(path: Path) -> Suite:
    """Read and validate a suite file."""
    raw = read_yaml(path, max_bytes=1_000_000, error=PolicyPackError)
    try:
        return Suite.model_validate(raw)
    except ValidationError as exc:
        raise PolicyPackError(describe_validation_error(path, exc)) from None


def run_case(case: SuiteCase, *, suite: Suite, suite_dir: Path) -> Verdict:
    """The verdict the packs give the sample: the launch gate, then post-run if it has results."""
    from sandbox.data.dataset import load_pilot_data

    pilot_dir = suite_dir / case.pilot
    manifest = load_manifest(pilot_dir)
    packs = [load_pack(name, pilot_dir=suite_dir) for name in case.packs or (suite.pack,)]
    has_data = all((pilot_dir / s.path).is_file() for s in manifest.data.sources)
    try:
        asked = replace(Hardening(), **case.hardening)  # type: ignore[arg-type]
    except TypeError as exc:
        raise PolicyPackError(f"{suite_dir / SUITE_NAME}: {case.name}: hardening: {exc}") from None
    ctx = RuleContext(
        manifest=manifest,
        hardening=effective_hardening(packs, asked),
        data=load_pilot_data(pilot_dir, manifest) if has_data else None,
        image_digest=case.image_digest,
    )
    gate = check_stage(packs, "pre_run", ctx) + check_stage(packs, "runtime", ctx)
    verdict = decide(packs, gate, started=False)
    if verdict.status == "blocked" or not (pilot_dir / EVALUATION_NAME).is_file():
        return verdict
    ctx = replace(
        ctx,
        evaluation=_evaluation(pilot_dir, manifest),
        explanations=_explanations(pilot_dir, manifest),
    )
    return decide(packs, gate + check_stage(packs, "post_run", ctx))


def _evaluation(pilot_dir: Path, manifest: Any) -> Any:
    """Evaluate predictions rebuilt from each group's confusion counts."""
    from sandbox.evaluation.binary import evaluate_binary

    raw = read_yaml(pilot_dir / EVALUATION_NAME, max_bytes=1_000_000, error=PolicyPackError)
    rows: list[dict[str, Any]] = []
    truth: list[int] = []
    pred: list[int] = []
    for group in raw["groups"]:
        values = {k: str(v) for k, v in group.items() if k not in CELLS}
        for cell, (t, p) in zip(CELLS, ((0, 0), (0, 1), (1, 0), (1, 1)), strict=True):
            count = int(group.get(cell, 0))
            rows += [values] * count
            truth += [t] * count
            pred += [p] * count
    cfg = manifest.evaluation
    return evaluate_binary(
        y_true=np.array(truth),
        y_pred=np.array(pred),
        sensitive=pd.DataFrame(rows),
        min_group_size=cfg.min_group_size,
        n_bootstrap=cfg.bootstrap,
        confidence=cfg.confidence,
        seed=manifest.data.split.seed,
    )


def _explanations(pilot_dir: Path, manifest: Any) -> Any:
    from sandbox.runtime.outputs import read_explanations

    path = pilot_dir / "explanations.json"
    if not path.is_file():
        return None
    return read_explanations(path, features=list(manifest.data.features))
