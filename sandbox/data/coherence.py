"""Whether the declarations of the manifest's data section fit together: roles, split, id.

Called by the pydantic validators of `sandbox.data.section` and, for the roles (which depend
on the task type), of `sandbox.manifest` (so every message reaches the city as
`pilot.yaml: data...: what is wrong; the fix`); the arguments are those sections. Whatever
can only be checked against the files (a score file holding labels, a cut-off after the last
date) is checked as they are read, in `sandbox.data.roles` and `sandbox.data.split`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["check_roles", "check_split_section"]


def check_split_section(split: Any) -> None:
    """ValueError for split fields that do not fit together (checked in pilot.yaml)."""
    given = split.model_fields_set
    if split.by is None:
        for name in ("cutoff", "fraction", "date_feature"):
            if name in given:
                raise ValueError(f"{name}: only for a time-based split; add `by: DATE_COLUMN`")
        return
    if (split.cutoff is None) == (split.fraction is None):
        raise ValueError(
            "by: a time-based split needs exactly one of `cutoff` (the first evaluated date, "
            "YYYY-MM-DD) or `fraction` (the share of rows, earliest first, to train on)"
        )
    if split.group_by is not None:
        raise ValueError("by, group_by: choose a time-based or a group-aware split, not both")
    if "evaluation_fraction" in given:
        raise ValueError("evaluation_fraction: a time-based split uses `cutoff` or `fraction`")
    if "stratify" in given and split.stratify:
        raise ValueError("stratify: a time-based split keeps the order of time; remove it")


def check_roles(data: Any) -> None:
    """ValueError for roles, split and id that do not fit together (checked in pilot.yaml)."""
    roles = [source.role for source in data.sources]
    if "train" not in roles:
        raise ValueError(
            "sources: no source has role: train; the model needs labelled history to be "
            "fitted on: give the labelled file role: train (the default)"
        )
    if "evaluation" in roles and "split" in data.model_fields_set:
        raise ValueError(
            "split: no split is made when a source has role: evaluation (its rows are the "
            "evaluation rows); remove data.split, or drop the evaluation role to split the "
            "train rows"
        )
    split = data.split
    if split.by is not None:
        if split.by == data.label:
            raise ValueError(f"split.by: {split.by!r} is the label; name a date column")
        if split.by in data.features and not split.date_feature:
            raise ValueError(
                f"split.by: the date column {split.by!r} is also a model feature, so the model "
                "sees only past dates in training and only later ones in evaluation; remove it "
                "from data.features, or set data.split.date_feature: true if that is intended"
            )
    if split.group_by is not None and split.group_by == data.label:
        raise ValueError(f"split.group_by: {split.group_by!r} is the label; name a group column")
    if data.id is not None:
        if "score" not in roles:
            raise ValueError(
                "id: names the cases in scored.csv, which only a source with role: score has; "
                "remove data.id or add the current cases as a score source"
            )
        if data.id in data.pii:
            raise ValueError(
                f"id: {data.id!r} is declared PII, and scored.csv is kept with the run and "
                "logged to MLflow; name a case number that is not personal data, or leave "
                "data.id out to name the cases by file and row number"
            )
        if data.id in ("prediction", "score"):
            raise ValueError(f"id: {data.id!r} is a column of scored.csv itself; rename it")
