"""Whether rows can be assessed at all: one check for a pilot run and a predictions-only audit.

An evaluation of a handful of rows, of labels of one class, or of a sensitive attribute with a
single group yields numbers that read like findings and are not (balanced accuracy 1.0 on one
row passes any performance floor). A pilot run checks its whole data as it loads and its
held-back evaluation rows before the container starts; a predictions-only audit checks the
supplied rows before it evaluates them. Both raise the same `DataError`, which the run records
as failed and the CLI answers with exit code 2; only the names of the inputs and the fixes
differ (`pilot.yaml: data.label` for a pilot, `--label` for an audit).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from sandbox.errors import DataError

__all__ = [
    "MIN_CLASS_ROWS",
    "MIN_EVALUATION_ROWS",
    "Inputs",
    "check_evaluation_rows",
    "check_groups",
    "label_classes",
]

#: Fewer evaluation rows than this cannot support any performance or fairness statement.
MIN_EVALUATION_ROWS: Final = 20
#: Each label class needs this many evaluation rows: recall, the error rates and balanced
#: accuracy are shares of a class, and a share of fewer rows says next to nothing.
MIN_CLASS_ROWS: Final = 5


@dataclass(frozen=True, kw_only=True)
class Inputs:
    """How a workflow names its inputs in messages, and the fixes it suggests."""

    source: str  # the file(s)
    label: str  # the label's field, e.g. "pilot.yaml: data.label 'eligible'" or "--label 'y'"
    sensitive: Mapping[str, str]  # column -> its field, e.g. "pilot.yaml: data.sensitive[0]"
    more_rows: str  # the fix for too few rows
    more_of_class: str  # the fix for too few rows of a label class
    one_group: str  # the fix for a sensitive attribute with a single group
    class_names: Mapping[Any, str] = field(default_factory=dict)  # encoded class -> wording


def label_classes(sample_cells: Mapping[str, tuple[Any, Any]]) -> tuple[Any, ...]:
    """The label classes of a task type (from its cells); () when its labels are not classes."""
    labels = {label for label, _ in sample_cells.values()}
    if any(isinstance(label, float) for label in labels):
        return ()  # measured numbers (a regression's), not classes
    return tuple(sorted(labels))


def check_groups(groups: pd.DataFrame, inputs: Inputs, *, rows: str = "rows") -> None:
    """DataError when a sensitive attribute has a single group among the rows."""
    for column in groups.columns:
        values = groups[column].unique()
        if len(values) < 2:
            shown = repr(str(values[0])) if len(values) else "none"
            raise DataError(
                f"{inputs.sensitive.get(column, repr(column))}: column {column!r} has a single "
                f"group ({shown}) in the {len(groups)} {rows} of {inputs.source}, so no "
                f"disparity can be assessed; {inputs.one_group}"
            )


def check_evaluation_rows(
    labels: np.ndarray, groups: pd.DataFrame, *, classes: tuple[Any, ...], inputs: Inputs
) -> None:
    """DataError unless the rows are enough: in all, in each label class, in groups."""
    rows = len(labels)
    if rows < MIN_EVALUATION_ROWS:
        raise DataError(
            f"{inputs.source}: {rows} evaluation row{'s' if rows != 1 else ''}; at least "
            f"{MIN_EVALUATION_ROWS} are needed before performance or fairness can be assessed; "
            f"{inputs.more_rows}"
        )
    if not classes and labels.dtype.kind == "f" and np.ptp(labels) == 0:
        raise DataError(
            f"{inputs.source}: {inputs.label}: all {rows} evaluation rows have the label "
            f"{labels[0]:g}; errors against a label that does not vary cannot be assessed; "
            f"{inputs.more_rows}"
        )
    named = [c for c in inputs.class_names if c in classes]
    counts = {
        c: int(np.count_nonzero(labels == c)) for c in [*named, *sorted(set(classes) - set(named))]
    }
    if any(n < MIN_CLASS_ROWS for n in counts.values()):
        held = " and ".join(
            f"{n} of {inputs.class_names.get(c, repr(c))}" for c, n in counts.items()
        )
        one = ", a single class" if sum(1 for n in counts.values() if n) == 1 else ""
        raise DataError(
            f"{inputs.source}: {inputs.label}: the {rows} evaluation rows hold {held}{one}; at "
            f"least {MIN_CLASS_ROWS} rows of each class are needed to assess recall, error "
            f"rates and balanced accuracy; {inputs.more_of_class}"
        )
    check_groups(groups, inputs, rows="evaluation rows")
