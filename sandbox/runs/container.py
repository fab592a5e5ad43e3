"""What the container did, as the runtime-stage rule outcomes and the run's evaluation.

Every run is held to two runtime rules whatever its packs say: the model ran to completion
within its limits (`runtime.container-succeeded`), and its outputs honour the container
contract (`runtime.outputs-valid`). Valid predictions are joined with the held-back labels and
groups, on the host, and assessed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sandbox.errors import OutputRejected
from sandbox.manifest import PilotManifest
from sandbox.policies.verdict import RuleOutcome
from sandbox.runtime.base import ContainerResult, ContainerSpec, Runtime

if TYPE_CHECKING:
    from sandbox.evaluation.binary import BinaryEvaluation

__all__ = ["container_outcome", "evaluate_outputs", "run_container"]


def run_container(
    runtime: Runtime, spec: ContainerSpec
) -> tuple[ContainerResult | None, str | None]:
    """Run the container; outputs that break the contract become evidence, not a crash."""
    try:
        return runtime.run(spec), None
    except OutputRejected as exc:
        return None, str(exc)


def container_outcome(result: ContainerResult | None, rejected: str | None) -> RuleOutcome:
    """The runtime-stage rule every run is held to: the model ended well, within its limits."""
    if result is None:
        return RuleOutcome(
            rule_id="runtime.outputs-valid",
            title="The container's outputs honour the container contract",
            stage="runtime",
            severity="block",
            outcome="failed",
            message=f"outputs rejected: {rejected}",
            evidence={"reason": rejected},
        )
    evidence = {
        "state": result.state,
        "exit_code": result.exit_code,
        "duration_s": round(result.duration_s, 3),
        "stderr_tail": result.stderr_tail[-2000:],
    }
    ok = result.state == "succeeded"
    message = (
        "the model ran to completion"
        if ok
        else (f"the model ended {result.state.replace('_', ' ')} (exit code {result.exit_code})")
    )
    return RuleOutcome(
        rule_id="runtime.container-succeeded",
        title="The model runs to completion within its limits",
        stage="runtime",
        severity="block",
        outcome="passed" if ok else "failed",
        message=message,
        evidence=evidence,
    )


def evaluate_outputs(
    manifest: PilotManifest, crossing: Any, output_dir: Path
) -> tuple[BinaryEvaluation | None, Any, RuleOutcome | None]:
    """Join validated predictions with the held-back labels and groups; assess them."""
    from sandbox.evaluation.binary import evaluate_binary
    from sandbox.runtime.outputs import read_explanations, read_predictions

    try:
        predictions = read_predictions(
            output_dir / "predictions.csv", expected_row_ids=crossing.expected_row_ids
        )
        explanations_path = output_dir / "explanations.json"
        explanations = (
            read_explanations(explanations_path, features=list(manifest.data.features))
            if explanations_path.is_file()
            else None
        )
    except OutputRejected as exc:
        return None, None, container_outcome(None, str(exc))
    # read_predictions returns the rows in the order of expected_row_ids, i.e. of held_back.
    joined = crossing.held_back.assign(
        prediction=predictions["prediction"].to_numpy(),
        **({"score": predictions["score"].to_numpy()} if "score" in predictions else {}),
    )
    sensitive = joined[[c for c in joined.columns if c.startswith("sensitive:")]]
    sensitive.columns = [c.removeprefix("sensitive:") for c in sensitive.columns]
    cfg = manifest.evaluation
    evaluation = evaluate_binary(
        y_true=joined["y"].to_numpy(),
        y_pred=joined["prediction"].to_numpy(),
        y_score=joined["score"].to_numpy() if "score" in joined.columns else None,
        sensitive=sensitive,
        min_group_size=cfg.min_group_size,
        n_bootstrap=cfg.bootstrap,
        confidence=cfg.confidence,
        seed=manifest.data.split.seed,
    )
    return evaluation, explanations, None
