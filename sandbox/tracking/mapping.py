"""How a run appears in the tracker: its params, metrics and tags, in one place.

    start_tags(record)    the tags a tracked run opens with
    tracked_values(record) everything logged once the verdict is known

Every kind of run maps through here, so a pilot run and a predictions-only audit name the same
thing the same way (`sandbox.verdict`, `governance.rule.<id>.passed`, `perf.<metric>`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandbox.runs.record import RunRecord

__all__ = ["TrackedValues", "start_tags", "tracked_values"]


@dataclass(frozen=True, kw_only=True)
class TrackedValues:
    """One batch each of params, metrics and tags."""

    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]


def start_tags(record: RunRecord) -> dict[str, str]:
    """The tags a tracked run opens with: enough to find it from the trail and back."""
    tags = {"sandbox.run_id": record.run_id}
    if record.mode != "container":
        tags["sandbox.mode"] = record.mode
    manifest = record.manifest
    if manifest is not None:
        tags |= {
            "sandbox.pilot_version": manifest.pilot.version,
            "sandbox.manifest_sha256": str(record.manifest_sha256),
            "sandbox.phase": manifest.pilot.phase,
        }
    return tags | _data_tags(record)


def _data_tags(record: RunRecord) -> dict[str, str]:
    # Names are made valid MLflow keys (length included) by the tracker, one rule for all.
    return {f"sandbox.data_sha256.{k}": v for k, v in record.data_files.items()}


def _pack_params(record: RunRecord) -> dict[str, str]:
    """Every pack the run was judged by (built-in, city and the pilot's own), with its version.

    The manifest names only the packs a pilot asked for; the run applies more (the baseline,
    the phase pack), so the params come from the packs applied, never from the manifest.
    """
    params = {"policy_packs": ",".join(f"{p.id}@{p.version}" for p in record.packs)}
    for pack in record.packs:
        params[f"policy_pack.{pack.id}.sha256"] = pack.sha256
        if pack.lineage:
            params[f"policy_pack.{pack.id}.extends"] = ",".join(pack.lineage)
    return params


def _params(record: RunRecord) -> dict[str, str]:
    from sandbox.data.split import split_params

    manifest = record.manifest
    packs = _pack_params(record)
    if manifest is None:  # predictions-only: the columns the caller named
        columns = record.columns or {}
        return {f"data.{k}": str(v) for k, v in columns.items()} | {"mode": record.mode} | packs
    params = {f"model.{k}": json.dumps(v) for k, v in manifest.model.params.items()}
    return (
        params
        | {
            "model.entrypoint": manifest.model.entrypoint,
            "model.seed": str(manifest.model.seed),
            "data.label": manifest.data.label,
            "data.features": ",".join(manifest.data.features),
            "data.sensitive": ",".join(manifest.data.sensitive),
            "split.seed": str(manifest.data.split.seed),
            "split.evaluation_fraction": str(manifest.data.split.evaluation_fraction),
            "model.importance_holdout": str(manifest.model.importance_holdout),
        }
        | split_params(manifest)
        | packs
    )


def tracked_values(record: RunRecord) -> TrackedValues:
    """Params, metrics and tags of a run whose verdict is known."""
    from sandbox.evaluation.result import flat_metrics
    from sandbox.policies.verdict import verdict_metrics, verdict_tags

    verdict = record.verdict
    if verdict is None:
        raise ValueError(f"run {record.run_id}: no verdict to track yet")
    metrics = flat_metrics(record.evaluation) if record.evaluation is not None else {}
    metrics |= verdict_metrics(verdict)
    result = record.container
    if result is not None:
        metrics["runtime.duration_s"] = result.duration_s
    tags = {
        "sandbox.verdict": verdict.status,
        "sandbox.failed_rules": ",".join(o.rule_id for o in verdict.failures) or "none",
        **verdict_tags(verdict),
    }
    if record.mode == "container":
        tags["sandbox.state"] = result.state if result else "blocked"
    if record.impact_level is not None:
        tags["governance.impact_level"] = record.impact_level
    if record.image_digest is not None:
        tags["sandbox.image_digest"] = record.image_digest
    if record.hardening is not None:  # runc, or runsc (gVisor)
        tags["sandbox.container_runtime"] = record.hardening.runtime
    tags |= _data_tags(record)
    return TrackedValues(params=_params(record), metrics=metrics, tags=tags)
