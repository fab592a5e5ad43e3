"""A datasheet of a run's data: files and hashes, shape, missingness, group representation.

Group counts come from the evaluation rows (the report's evaluation). For an assistant pilot
the datasheet describes the evaluation questions and the knowledge base (documents, restricted
documents), and its "label rate" is the share of questions the assistant must decline.

The datasheet is meant for publication: it applies the run's suppression decision
(:mod:`sandbox.reports.disclosure`), so a group with fewer rows than the minimum group size
has its count, share and label rate suppressed (shown as ``<30``), and so has the next
smallest cell where one hidden cell could otherwise be recovered by subtracting the others
from a total.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sandbox.reports.disclosure import hidden_groups
from sandbox.reports.documents._facts import suppressed
from sandbox.reports.documents.assistant import knowledge_base

if TYPE_CHECKING:
    from sandbox.evaluation.result import AttributeSetResult
    from sandbox.reports.model import AuditReport

__all__ = ["datasheet", "datasheet_json"]


def _roles(report: AuditReport) -> dict[str, str]:
    roles = report.data.roles
    if roles is None:
        return {}
    out = {roles.label: "label"}
    for role, columns in (
        ("feature", roles.features),
        ("sensitive (audit only)", roles.sensitive),
        ("personal data (never used)", roles.pii),
        ("declared proxy (not a feature)", roles.proxies),
    ):
        out |= dict.fromkeys(columns, role)
    return out


def _columns(report: AuditReport) -> list[dict[str, Any]]:
    roles = _roles(report)
    total = sum(s.rows or 0 for s in report.data.sources) or None
    names = list(dict.fromkeys(c for s in report.data.sources for c in s.columns))
    names += [c for c in roles if c not in names]
    columns = []
    for name in names:
        missing = report.data.missing_by_column.get(name)
        columns.append(
            {
                "name": name,
                "role": roles.get(name, "not used"),
                "missing": missing,
                "missing_share": (
                    round(missing / total, 4) if missing is not None and total else None
                ),
            }
        )
    return columns


def _group_rows(
    result: AttributeSetResult, hidden: dict[str, str], min_size: int, total: int
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for group in result.groups:
        # the label rate needs a classifier's counts (an assistant's: its must-decline
        # questions, the denominator of its missed-decline rate); other task types leave it out
        confusion = group.confusion
        declines = group.metrics.get("missed_decline")
        positives = (
            confusion.get("tp", 0) + confusion.get("fn", 0)
            if confusion is not None
            else (declines.denominator if declines is not None else None)
        )
        if group.label in hidden:
            rows.append(
                {
                    "group": group.label,
                    "rows": suppressed(group.count, min_size)
                    if group.count < min_size
                    else "suppressed",
                    "share": None,
                    "label_rate": None,
                    "suppressed": hidden[group.label],
                }
            )
            continue
        rows.append(
            {
                "group": group.label,
                "rows": group.count,
                "share": round(group.count / total, 4) if total else None,
                "label_rate": round(positives / group.count, 4)
                if group.count and positives is not None
                else None,
                "suppressed": None,
            }
        )
    return rows


def datasheet(report: AuditReport) -> dict[str, Any]:
    """The datasheet as data (what ``datasheet.json`` holds and ``datasheet.md`` shows)."""
    ev = report.evaluation
    roles = report.data.roles
    split = report.data.split
    representation = None
    kb = knowledge_base(report)
    if ev is not None:
        representation = {
            "of": "evaluation questions" if kb else "evaluation rows",
            "rows": ev.rows,
            "min_group_size": ev.min_group_size,
            "label_rate_means": (
                "share of questions the assistant must decline"
                if kb
                else f"share of rows whose label is {roles.positive_label!r}"
                + (f" ({roles.positive_meaning})" if roles.positive_meaning else "")
                if roles
                else "share of rows with the positive label"
            ),
            "attribute_sets": [
                {
                    "name": r.name,
                    "groups": _group_rows(
                        r, hidden_groups(report, r.name), ev.min_group_size, ev.rows
                    ),
                }
                for r in ev.attribute_sets
            ],
        }
    return {
        "title": f"Datasheet: data of {report.pilot.name} {report.pilot.version}",
        "generated_from": {
            "report": "report.json",
            "schema_version": report.schema_version,
            "run_id": report.run.run_id,
        },
        "files": [s.model_dump(mode="json") for s in report.data.sources],
        "rows": sum(s.rows or 0 for s in report.data.sources) or None,
        "split": split.model_dump(mode="json") if split else None,
        "label": (
            {
                "column": roles.label,
                "positive_label": roles.positive_label,
                "positive_meaning": roles.positive_meaning,
            }
            if roles
            else None
        ),
        "columns": _columns(report),
        "missingness_measured": bool(report.data.missing_by_column),
        # an assistant's evaluation set and knowledge base (None for other task types)
        "knowledge_base": kb,
        "group_representation": representation,
        "suppression": (
            f"Groups with fewer than {ev.min_group_size} evaluation rows are shown as "
            f"'<{ev.min_group_size}' with no share or rate; a second cell is suppressed where "
            "one hidden cell could otherwise be derived from a published total."
            if ev
            else None
        ),
        "retention": report.governance.data_retention if report.governance else None,
    }


def datasheet_json(sheet: dict[str, Any]) -> str:
    """The datasheet as stable JSON text."""
    return json.dumps(sheet, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
