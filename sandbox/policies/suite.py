"""Pack suites: sample pilots with the verdicts a pack must give them (policies as data).

Each built-in pack folder holds `suite.yaml` and `samples/`. A sample is a pilot folder:
`pilot.yaml`, optionally its data (for the data rules), and, to exercise post-run rules, an
`evaluation.yaml` with each group's counts by cell (the task type's `sample_cells`: for
binary classification the confusion cells tn, fp, fn, tp; a multiclass sample declares its
own, `cells: {name: [label, prediction]}`; an assistant's cell is a question and its answer,
with the sample's knowledge base beside it) and optionally `explanations.json`.
A case names a sample, the packs to apply (default: the suite's pack), optional launch facts
(image digest, hardening), optionally how the container ended (`container`: its state, or why
its outputs were rejected; a sample with an evaluation ran to completion unless it says
otherwise) and the expected verdict and rule outcomes. A city can write a
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
from sandbox.manifest import describe_validation_error, load_manifest
from sandbox.policies.engine import check_stage, container_checks, decide, launch_gate
from sandbox.policies.hardening import effective_hardening
from sandbox.policies.pack import load_pack
from sandbox.policies.rules import RuleContext
from sandbox.policies.verdict import Outcome, Verdict, VerdictStatus
from sandbox.runtime.base import ContainerResult, Hardening, TerminalState
from sandbox.tasks import EvaluationSettings, Outcomes, get_task
from sandbox.yaml_reader import read_yaml

__all__ = ["Suite", "SuiteCase", "SuiteContainer", "load_suite", "run_case"]

SUITE_NAME = "suite.yaml"
EVALUATION_NAME = "evaluation.yaml"


class SuiteContainer(BaseModel):
    """How a sample's container ended, for the rules that judge it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    state: TerminalState = "succeeded"
    exit_code: int | None = None
    outputs_rejected: str | None = Field(default=None, description="Why outputs were refused.")

    def result(self) -> ContainerResult:
        """The container result a runtime would have returned."""
        code = self.exit_code
        if code is None and self.state in ("succeeded", "failed"):
            code = 0 if self.state == "succeeded" else 1
        return ContainerResult(
            state=self.state,
            exit_code=code,
            image_digest="sha256:" + "0" * 64,
            container_id="suite",
            duration_s=0.0,
            stdout_tail="",
            stderr_tail="",
            output_dir=Path("/nonexistent"),
            output_files={},
        )


class SuiteCase(BaseModel):
    """One sample pilot and the verdict expected for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    pilot: str = Field(description="The sample folder, relative to the suite file.")
    packs: tuple[str, ...] = Field(default=(), description="Default: the suite's pack.")
    image_digest: str | None = None
    hardening: dict[str, int | float | str] = Field(default_factory=dict)
    container: SuiteContainer | None = None
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
    gate = launch_gate(packs, ctx)
    evaluated = (pilot_dir / EVALUATION_NAME).is_file()
    container = case.container or (SuiteContainer() if evaluated else None)
    if gate.status == "blocked" or container is None:
        return gate
    ctx = replace(ctx, container=container.result(), outputs_rejected=container.outputs_rejected)
    outcomes = [*gate.outcomes, *container_checks(packs, ctx)]
    if evaluated and container.state == "succeeded" and container.outputs_rejected is None:
        ctx = replace(
            ctx,
            evaluation=_evaluation(pilot_dir, manifest),
            explanations=_explanations(pilot_dir, manifest),
        )
        outcomes += check_stage(packs, "post_run", ctx)
    return decide(packs, outcomes)


def _evaluation(pilot_dir: Path, manifest: Any) -> Any:
    """Evaluate outcomes rebuilt from each group's counts by the task's cells.

    A task whose classes are the pilot's own (multiclass) has no fixed cells: its sample
    declares them, `cells: {name: [label, prediction]}`; an assistant's cells are a question
    and its answer (`sandbox.policies.assistant_samples`).
    """
    task = get_task(manifest.task.type)
    path = pilot_dir / EVALUATION_NAME
    raw = read_yaml(path, max_bytes=1_000_000, error=PolicyPackError)
    if task.name == "assistant":  # records, not (label, prediction) values
        from sandbox.policies.assistant_samples import assistant_outcomes

        return task.evaluate(
            assistant_outcomes(raw, pilot_dir, manifest, source=path),
            EvaluationSettings.of(manifest),
        )
    declared = {str(k): (v[0], v[1]) for k, v in (raw.get("cells") or {}).items()}
    cells = task.sample_cells or declared
    rows: list[dict[str, Any]] = []
    truth: list[Any] = []
    pred: list[Any] = []
    for group in raw["groups"]:
        values = {k: str(v) for k, v in group.items() if k not in cells}
        for cell, (t, p) in cells.items():
            count = int(group.get(cell, 0))
            rows += [values] * count
            truth += [t] * count
            pred += [p] * count
    outcomes = Outcomes(
        labels=np.array(truth), predictions=np.array(pred), scores=None, groups=pd.DataFrame(rows)
    )
    return task.evaluate(outcomes, EvaluationSettings.of(manifest))


def _explanations(pilot_dir: Path, manifest: Any) -> Any:
    from sandbox.runtime.outputs import read_explanations

    path = pilot_dir / "explanations.json"
    if not path.is_file():
        return None
    return read_explanations(path, features=list(manifest.data.features))
