"""What the reports say about the data's roles: how the labelled rows were split, which rows
were evaluated, and which current cases were scored for the city (and not evaluated).

Plain values for `DataSplit` and `DataRoles` in `report.json`, built from the run's record; the
HTML, Markdown and datasheet renderings print the one-sentence `description`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["role_fields", "split_fields"]


def _description(manifest: Any, crossing: Any) -> str:
    split = crossing.split
    cfg = manifest.data.split
    method = split.method if split is not None else "stratified"
    if method == "sources":
        evaluated = [s.path for s in manifest.data.sources if s.role == "evaluation"]
        text = f"no split: the rows of {', '.join(evaluated)} (role: evaluation) were evaluated"
    elif method == "time":
        text = (
            f"time-based on {cfg.by!r}: rows dated before {split.cutoff} trained the model, "
            "rows on or after it were evaluated"
        )
    elif method == "group":
        text = (
            f"group-aware on {cfg.group_by!r} (seed {cfg.seed}): {cfg.evaluation_fraction:g} "
            "of the groups evaluated, every group's rows on one side"
        )
    else:
        kind = "stratified on the label" if method == "stratified" else "not stratified"
        text = (
            f"seeded random (seed {cfg.seed}, {kind}): {cfg.evaluation_fraction:g} of the "
            "labelled rows evaluated"
        )
    if crossing.scored_rows:
        scored = [s.path for s in manifest.data.sources if s.role == "score"]
        text += (
            f"; {crossing.scored_rows:,} current cases from {', '.join(scored)} (role: score) "
            "were scored for the city, not evaluated (no label)"
        )
    return text


def split_fields(record: Any) -> dict[str, Any]:
    """The split's method, columns, cut-off and description (empty before the wall is crossed)."""
    crossing, manifest = record.crossing, record.manifest
    if crossing is None or manifest is None:
        return {}
    split = crossing.split
    method = split.method if split is not None else None
    cfg = manifest.data.split
    random = method in ("random", "stratified")
    return {
        # the share and stratification apply to a random or group split only
        "evaluation_fraction": cfg.evaluation_fraction if random or method == "group" else None,
        "stratified": (method == "stratified") if random else None,
        "method": method,
        "by": cfg.by if method == "time" else None,
        "cutoff": split.cutoff if split is not None else None,
        "group_by": cfg.group_by if method == "group" else None,
        "description": _description(manifest, crossing),
    }


def role_fields(record: Any) -> dict[str, Any]:
    """Each source's role, and the scored cases' count and file (scored.csv), if any."""
    manifest = record.manifest
    if manifest is None:
        return {}
    fields: dict[str, Any] = {"sources": {s.path: s.role for s in manifest.data.sources}}
    if record.crossing is not None:
        fields["evaluated_rows"] = record.crossing.eval_rows
        fields["scored_rows"] = record.crossing.scored_rows
    if record.scored is not None:
        fields["scored_file"] = record.scored.path.name
        fields["scored_sha256"] = record.scored.sha256
    return fields
