"""What may be published: one small-cell suppression decision per run, applied to every file
meant for publication.

Two kinds of file come out of a run:

- **for publication** (:data:`PUBLICATION_FILES`): the model card, the datasheet, the
  algorithmic transparency record, the residents' notices and ``report.pdf``. They never show
  the count, share, label rate or any metric of a suppressed group, nor a difference or ratio
  whose highest or lowest group is suppressed (with the other group's published value it
  would give the hidden one away), nor a warning or message that names a suppressed group;
- **internal** (:data:`INTERNAL_FILES`): ``report.json``, ``report.html`` and ``report.md``,
  the team's working copy. They show every value and mark the small groups, and say that they
  are not for publication.

A group is suppressed when it has fewer evaluation rows than the evaluation's minimum group
size; where a set of cells adds up to a published total (an attribute set, or one line of an
intersection) and exactly one of them is hidden, the next smallest is hidden too, so the hidden
count cannot be recovered by subtraction. The decision is made once, when the report is built,
and stored in ``report.json`` (``disclosure``); every publication renderer reads it from there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.reports.model import DisclosureSection

if TYPE_CHECKING:
    from sandbox.evaluation.result import AttributeSetResult, Disparity, Evaluation, GroupResult
    from sandbox.reports.model import AuditReport

__all__ = [
    "INTERNAL_FILES",
    "PUBLICATION_FILES",
    "disclosure_of",
    "disparity_hidden",
    "hidden_groups",
    "publishable",
    "suppressed_groups",
]

#: Files meant for publication: they apply the suppression decision.
PUBLICATION_FILES: tuple[str, ...] = (
    "model-card.md",
    "datasheet.md",
    "datasheet.json",
    "atrs.json",
    "atrs.md",
    "notice.en.md",
    "notice.es.md",
    "notice.fr.md",
    "report.pdf",
)
#: The team's internal report: every value, small groups marked, not for publication.
INTERNAL_FILES: tuple[str, ...] = ("report.json", "report.html", "report.md")

BELOW_MINIMUM = "below the minimum group size"
COMPLEMENTARY = "suppressed so a smaller group cannot be derived"


def _slices(result: AttributeSetResult) -> list[list[GroupResult]]:
    """Sets of cells whose sum is published elsewhere: the whole set, and for an
    intersection each line that adds up to a group of a smaller attribute set."""
    slices = [list(result.groups)]
    for attribute in result.attributes if len(result.attributes) > 1 else ():
        lines: dict[tuple[str, ...], list[GroupResult]] = {}
        for group in result.groups:
            rest = tuple(v for a, v in group.values.items() if a != attribute)
            lines.setdefault(rest, []).append(group)
        slices.extend(lines.values())
    return slices


def suppressed_groups(result: AttributeSetResult, min_size: int) -> dict[str, str]:
    """Groups to suppress, each with why: too small, or hiding a small one by difference.

    A slice (cells that add up to a published total) with exactly one hidden cell would let
    a reader recover it by subtraction, so its next smallest cell is hidden too, until no
    slice has exactly one.
    """
    hidden = {g.label: BELOW_MINIMUM for g in result.groups if g.count < min_size}
    if not hidden:
        return hidden
    slices = _slices(result)
    changed = True
    while changed:
        changed = False
        for cells in slices:
            inside = [g for g in cells if g.label in hidden]
            if len(inside) == 1 and len(cells) > 1:
                visible = sorted((g for g in cells if g.label not in hidden), key=lambda g: g.count)
                hidden[visible[0].label] = COMPLEMENTARY
                changed = True
    return hidden


def disclosure_of(evaluation: Evaluation | None) -> DisclosureSection:
    """The run's suppression decision: which groups each publication file hides, and why."""
    suppressed = {}
    if evaluation is not None:
        for result in evaluation.attribute_sets:
            hidden = suppressed_groups(result, evaluation.min_group_size)
            if hidden:
                suppressed[result.name] = hidden
    return DisclosureSection(
        min_cell_size=evaluation.min_group_size if evaluation is not None else None,
        suppressed=suppressed,
        publication_files=PUBLICATION_FILES,
        internal_files=INTERNAL_FILES,
    )


def _decision(report: AuditReport) -> DisclosureSection:
    # reports written before the decision was stored get the same rule applied now
    return report.disclosure or disclosure_of(report.evaluation)


def hidden_groups(report: AuditReport, set_name: str) -> dict[str, str]:
    """The groups of one attribute set that publication files hide, each with why."""
    return dict(_decision(report).suppressed.get(set_name, {}))


def disparity_hidden(report: AuditReport, set_name: str, disparity: Disparity | None) -> bool:
    """Whether a difference or ratio would reveal a hidden group (its highest or lowest)."""
    if disparity is None:
        return False
    hidden = hidden_groups(report, set_name)
    return disparity.highest_group in hidden or disparity.lowest_group in hidden


def publishable(report: AuditReport, text: str) -> bool:
    """Whether a message may be published: it names no suppressed group."""
    labels = (label for groups in _decision(report).suppressed.values() for label in groups)
    return not any(label in text for label in labels)
